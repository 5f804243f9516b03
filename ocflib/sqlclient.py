"""SQL for the agents: one seam (Context.sql) with pymysql behind it and a strict
fake in tests/fakes.py. pymysql is imported only when an action needs SQL.

PyMySql.connect never hands a password to the wrong party: over a Unix socket the
listener is identified first (SO_PEERCRED; verify_peer says why not, or None), and
authentication methods that send the password in cleartext (mysql_clear_password,
PAM's dialog) are refused unless the connection is TLS.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from ocflib.mysqlwire import PingResult

__all__ = ["PyMySql", "pymysql", "CLEARTEXT_PLUGINS"]

CLEARTEXT_PLUGINS = (b"mysql_clear_password", b"dialog")


def pymysql() -> Any:
    """pymysql, importable although agents run without site-packages (-S)."""
    try:
        import pymysql as module
    except ImportError:
        import site

        site.main()
        try:
            import pymysql as module
        except ImportError:
            from ocflib.errors import NotInstalledError

            raise NotInstalledError(
                "PyMySQL is not installed (python3-pymysql on Debian, python3-PyMySQL on "
                "RHEL): mysql-py needs it for SQL"
            ) from None
    return module


def guarded_connection(mod: Any, verify_peer: Any) -> Any:
    """pymysql's Connection, never handing a password to the wrong party.

    Over a Unix socket the listener is identified first (SO_PEERCRED; verify_peer
    says why not, or None). Authentication methods that send the password in
    cleartext (mysql_clear_password, PAM's dialog) are refused unless the
    connection is TLS: pymysql alone answers them over any connection.
    """

    class Guarded(mod.connections.Connection):  # type: ignore[misc]
        def _request_authentication(self) -> None:
            if self.unix_socket:
                import socket
                import struct

                creds = self._sock.getsockopt(
                    socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")
                )
                pid, uid, _gid = struct.unpack("3i", creds)
                problem = verify_peer(pid, uid)
                if problem:
                    raise mod.err.OperationalError(2059, problem)
            super()._request_authentication()

        def _process_auth(self, plugin_name: bytes, auth_packet: Any) -> Any:
            if plugin_name in CLEARTEXT_PLUGINS and not hasattr(self._sock, "cipher"):
                raise mod.err.OperationalError(
                    2059,
                    f"the server asks for {plugin_name.decode()}, which sends the password "
                    "in cleartext: refused without TLS",
                )
            return super()._process_auth(plugin_name, auth_packet)

    return Guarded


class PyMySql:
    """Connections through pymysql (imported on first use); the monitor's quiet
    login through ocflib.mysqlwire (no pymysql)."""

    def ping(self, unix_socket: str, user: str, password: str, timeout: float) -> PingResult:
        """Log in and quit (ocflib.mysqlwire.ping); OSError when nobody answers."""
        from ocflib.mysqlwire import ping

        return ping(unix_socket, user, password, timeout)

    def query(
        self,
        unix_socket: str,
        user: str,
        password: str,
        sql: str,
        timeout: float,
        verify_peer: Callable[[int, int], str | None],
    ) -> PingResult:
        """Log in, one statement, quit (ocflib.mysqlwire.query, no pymysql): the
        listener is identified before anything is sent."""
        from ocflib.mysqlwire import query

        return query(unix_socket, user, password, sql, timeout, verify_peer)

    @property
    def error(self) -> type[Exception]:
        """The base class of every SQL error (pymysql.MySQLError)."""
        return pymysql().MySQLError  # type: ignore[no-any-return]

    def connect(
        self,
        *,
        unix_socket: str,
        user: str,
        password: str,
        timeout: float,
        ssl: bool,
        verify_peer: Callable[[int, int], str | None],
    ) -> Any:
        """A connection (autocommit, rows as dicts) over the socket; statements and
        the connection itself time out after timeout seconds (connecting: 10 at most)."""
        mod = pymysql()
        kwargs: dict[str, Any] = {
            "unix_socket": unix_socket,
            "user": user,
            "password": password,
            "connect_timeout": min(timeout, 10),
            "read_timeout": timeout,
            "write_timeout": timeout,
            "autocommit": True,
            "cursorclass": mod.cursors.DictCursor,
        }
        if ssl:
            kwargs["ssl"] = {"check_hostname": False}
        return guarded_connection(mod, verify_peer)(**kwargs)
