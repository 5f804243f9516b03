"""A minimal MySQL/MariaDB client: log in, then quit (or run one statement first).

Enough to prove a server accepts connections, cheaply (~1 ms, no pymysql
import, ~70 ms) and quietly: a connection closed before authentication makes
the server log "Aborted connection ... unauthenticated" on every monitor,
while a login followed by COM_QUIT logs nothing. Speaks the protocol-41
handshake with mysql_native_password (SHA-1 scramble) and follows an
authentication switch to unix_socket (peer credentials, Debian's default for
root) or mysql_native_password. Anything else (ed25519, caching_sha2 without
TLS) ends as "denied": the server answered, which is what matters here.
"""

from __future__ import annotations

import _socket

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

__all__ = ["ping", "query", "PingResult", "scramble_native"]

CLIENT_LONG_PASSWORD = 0x1
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_PLUGIN_AUTH = 0x80000
COM_QUIT = 0x01
COM_QUERY = 0x03


class PingResult:
    """state: ok (logged in), denied (answered but refused the login), busy (too many
    connections), error (answered with another error). server: its version text."""

    __slots__ = ("state", "code", "message", "server", "rows")

    def __init__(
        self,
        state: str,
        code: int = 0,
        message: str = "",
        server: str = "",
        rows: list[tuple[str | None, ...]] | None = None,
    ) -> None:
        self.state = state
        self.code = code
        self.message = message
        self.server = server
        self.rows = rows or []  # query(): the result's rows, every value as text

    def __repr__(self) -> str:
        return f"PingResult({self.state!r}, {self.code}, {self.message!r})"


def scramble_native(password: bytes, salt: bytes) -> bytes:
    """mysql_native_password: SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))); empty for no password."""
    try:
        from _sha1 import sha1  # type: ignore[import-not-found]  # the C module: no hashlib
    except ImportError:
        from hashlib import sha1

    if not password:
        return b""
    # SHA-1 is what the mysql_native_password protocol prescribes, not our choice.
    stage1 = sha1(password).digest()  # noqa: S324
    stage2 = sha1(stage1).digest()  # noqa: S324
    mix = sha1(salt + stage2).digest()  # noqa: S324
    return bytes(a ^ b for a, b in zip(stage1, mix))


class _Conn:
    def __init__(self, sock: _socket.socket) -> None:
        self.sock = sock
        self.seq = 0

    def read(self) -> bytes:
        header = self._exact(4)
        length = int.from_bytes(header[:3], "little")
        self.seq = (header[3] + 1) & 0xFF
        return self._exact(length)

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the server closed the connection")
            data += chunk
        return data

    def write(self, payload: bytes) -> None:
        self.sock.sendall(len(payload).to_bytes(3, "little") + bytes([self.seq]) + payload)
        self.seq = (self.seq + 1) & 0xFF


def _error(packet: bytes) -> tuple[int, str]:
    code = int.from_bytes(packet[1:3], "little")
    text = packet[3:]
    if text[:1] == b"#":
        text = text[6:]  # SQL state marker and state
    return code, text.decode("utf-8", "replace")


def ping(path: str, user: str, password: str, timeout_s: float = 5.0) -> PingResult:
    """Connect to the server's Unix socket, log in as user, quit.

    Raises OSError (including ConnectionError and socket timeouts) when the
    server does not accept connections or stops answering.
    """
    return _session(path, user, password, timeout_s, None, None)


def query(
    path: str,
    user: str,
    password: str,
    sql: str,
    timeout_s: float = 5.0,
    verify_peer: Callable[[int, int], str | None] | None = None,
) -> PingResult:
    """Log in as user, run one statement that returns rows (SHOW, SELECT), quit.

    The result's rows hold every value as text (None for NULL); state "error"
    with the server's code and message when the statement fails. verify_peer
    (pid, uid of the listener, by SO_PEERCRED) says why the listener must not
    be logged in to, or None: then state is "refused" and nothing was sent.
    """
    return _session(path, user, password, timeout_s, sql, verify_peer)


def _session(
    path: str,
    user: str,
    password: str,
    timeout_s: float,
    sql: str | None,
    verify_peer: Callable[[int, int], str | None] | None,
) -> PingResult:
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        sock.connect(path)
        if verify_peer is not None:
            creds = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)
            pid = int.from_bytes(creds[0:4], "little", signed=True)
            uid = int.from_bytes(creds[4:8], "little", signed=True)
            problem = verify_peer(pid, uid)
            if problem:
                return PingResult("refused", 0, problem)
        conn = _Conn(sock)
        result = _login(conn, user, password)
        if result.state != "ok":
            return result
        if sql is not None:
            result = _query(conn, sql, result.server)
        conn.seq = 0
        conn.write(bytes([COM_QUIT]))
        return result
    finally:
        sock.close()


def _lenenc(data: bytes, pos: int) -> tuple[int | None, int]:
    """A length-encoded integer at pos: (value, next pos); None for NULL (0xfb)."""
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    if first == 0xFB:
        return None, pos + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
    if size is None:
        raise ConnectionError("malformed length in a result row")
    return int.from_bytes(data[pos + 1 : pos + 1 + size], "little"), pos + 1 + size


def _query(conn: _Conn, sql: str, server: str) -> PingResult:
    """COM_QUERY and its text result set (column definitions, then rows)."""
    conn.seq = 0
    conn.write(bytes([COM_QUERY]) + sql.encode())
    head = conn.read()
    if head[:1] == b"\xff":
        code, message = _error(head)
        return PingResult("error", code, message, server)
    if head[:1] == b"\x00":
        return PingResult("ok", server=server)  # no result set
    columns, _ = _lenenc(head, 0)
    for _ in range(columns or 0):
        conn.read()
    packet = conn.read()
    if packet[:1] == b"\xfe" and len(packet) < 9:
        packet = conn.read()  # the EOF after the column definitions
    rows: list[tuple[str | None, ...]] = []
    while True:
        if packet[:1] == b"\xff":
            code, message = _error(packet)
            return PingResult("error", code, message, server)
        if packet[:1] == b"\xfe" and len(packet) < 9:
            return PingResult("ok", server=server, rows=rows)
        row: list[str | None] = []
        pos = 0
        while pos < len(packet):
            size, pos = _lenenc(packet, pos)
            if size is None:
                row.append(None)
            else:
                row.append(packet[pos : pos + size].decode("utf-8", "replace"))
                pos += size
        rows.append(tuple(row))
        packet = conn.read()


def _login(conn: _Conn, user: str, password: str) -> PingResult:
    hello = conn.read()
    if hello[:1] == b"\xff":
        code, message = _error(hello)
        return PingResult("busy" if code == 1040 else "error", code, message)
    if hello[:1] != b"\x0a":
        raise ConnectionError(f"unexpected protocol version {hello[:1]!r}")
    end = hello.index(b"\0", 1)
    server = hello[1:end].decode("ascii", "replace")
    pos = end + 1 + 4
    salt = hello[pos : pos + 8]
    pos += 8 + 1 + 2 + 1 + 2 + 2
    salt_len = hello[pos] if pos < len(hello) else 0
    pos += 1 + 10
    rest = max(13, salt_len - 8)
    salt += hello[pos : pos + rest].rstrip(b"\0")
    pos += rest
    plugin = hello[pos:].split(b"\0", 1)[0] or b"mysql_native_password"
    secret = password.encode()
    auth = scramble_native(secret, salt[:20]) if plugin == b"mysql_native_password" else b""
    flags = (
        CLIENT_LONG_PASSWORD
        | CLIENT_PROTOCOL_41
        | CLIENT_TRANSACTIONS
        | CLIENT_SECURE_CONNECTION
        | CLIENT_PLUGIN_AUTH
    )
    conn.write(
        flags.to_bytes(4, "little")
        + (1 << 24).to_bytes(4, "little")
        + bytes([33])
        + b"\0" * 23
        + user.encode()
        + b"\0"
        + bytes([len(auth)])
        + auth
        + plugin
        + b"\0"
    )
    for _ in range(3):
        reply = conn.read()
        if reply[:1] == b"\x00":
            return PingResult("ok", server=server)
        if reply[:1] == b"\xff":
            code, message = _error(reply)
            return PingResult("denied" if code in (1045, 1698) else "error", code, message, server)
        if reply[:1] == b"\xfe":  # authentication switch
            name, _, data = reply[1:].partition(b"\0")
            if name == b"mysql_native_password":
                conn.write(scramble_native(secret, data.rstrip(b"\0")[:20]))
            elif name in (b"unix_socket", b"auth_socket"):
                conn.write(b"")
            else:
                return PingResult("denied", 0, f"authentication plugin {name.decode()}", server)
            continue
        return PingResult("error", 0, f"unexpected reply {reply[:1]!r}", server)
    return PingResult("error", 0, "too many authentication rounds", server)
