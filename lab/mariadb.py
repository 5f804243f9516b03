"""The one MariaDB test server of the tests and the benchmarks: a mariadbd data
directory of its own (data/, run/, my.cnf, made by the distribution's
mariadb-install-db and owned by mysql), its agent parameters, and SQL over its socket
as root."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from typing import Any

__all__ = ["MariaDB"]


class MariaDB:
    """A MariaDB instance in directory: config (the [mysqld] lines of its my.cnf),
    install_args (mariadb-install-db's options besides the user and the datadir)."""

    def __init__(
        self, directory: str, config: Sequence[str], *, install_args: Sequence[str] = ()
    ) -> None:
        self.dir = directory
        for sub in ("data", "run"):
            os.makedirs(os.path.join(self.dir, sub))
        with open(os.path.join(self.dir, "my.cnf"), "w") as f:
            f.write("\n".join(["[mysqld]", *config]) + "\n")
        for root, dirs, files in os.walk(self.dir):
            for path in [root, *(os.path.join(root, n) for n in dirs + files)]:
                shutil.chown(path, "mysql", "mysql")
        subprocess.run(
            ["mariadb-install-db", *install_args, "--user=mysql", f"--datadir={self.datadir}"],
            capture_output=True,
            check=True,
        )

    @property
    def datadir(self) -> str:
        return os.path.join(self.dir, "data")

    @property
    def socket(self) -> str:
        return os.path.join(self.dir, "run", "m.sock")

    @property
    def pid_file(self) -> str:
        return os.path.join(self.dir, "run", "m.pid")

    def params(self, **extra: str) -> dict[str, str]:
        """The agent parameters (mysql-py, galera-py) of this instance."""
        return {
            "binary": "/usr/sbin/mariadbd",
            "config": os.path.join(self.dir, "my.cnf"),
            "datadir": self.datadir,
            "pid": self.pid_file,
            "socket": self.socket,
            "log": os.path.join(self.dir, "err.log"),
            **extra,
        }

    def _connect(self, user: str, password: str, timeout: int) -> Any:
        import pymysql

        return pymysql.connect(
            unix_socket=self.socket,
            user=user,
            password=password,
            autocommit=True,
            connect_timeout=timeout,
        )

    @staticmethod
    def _rows(conn: Any, statement: str) -> list[Any]:
        try:
            with conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def sql(
        self, statement: str, *, user: str = "root", password: str = "", timeout: int = 5
    ) -> list[Any]:
        """The rows of statement (a connection error raises)."""
        return self._rows(self._connect(user, password, timeout), statement)

    def query(self, statement: str) -> list[Any] | None:
        """The rows of statement as root, or None when the server takes no connection."""
        import pymysql

        try:
            conn = self._connect("root", "", 2)
        except pymysql.MySQLError:
            return None
        return self._rows(conn, statement)

    def pid(self) -> int | None:
        try:
            with open(self.pid_file) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None
