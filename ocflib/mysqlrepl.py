"""MySQL/MariaDB replication as SQL sees it: the statements each server version
understands, and what a replica's status row says. Pure: no connection here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Dialect", "field", "relay_applied", "replica_problem", "SOURCE_UNREACHABLE"]

# Client errors of an IO thread that cannot reach its source (it keeps retrying):
# can't connect (2002/2003), unknown host (2005), gone away / lost (2006/2013),
# too many connections (1040).
SOURCE_UNREACHABLE = frozenset((0, 1040, 2002, 2003, 2005, 2006, 2013))


class Dialect:
    """The statements this server version understands."""

    def __init__(self, version: str) -> None:
        self.mariadb = "mariadb" in version.lower()
        numbers = []
        for part in version.split("-", maxsplit=1)[0].split("."):
            numbers.append(int(part) if part.isdigit() else 0)
        v = tuple(numbers + [0, 0, 0])[:3]
        self.version = v
        new_replica = v >= (10, 5, 1) if self.mariadb else v >= (8, 0, 22)
        self.replica = "REPLICA" if new_replica else "SLAVE"
        self.change_source = not self.mariadb and v >= (8, 0, 23)
        if self.mariadb:
            self.binlog_status = "SHOW BINLOG STATUS" if v >= (10, 5, 2) else "SHOW MASTER STATUS"
        else:
            self.binlog_status = (
                "SHOW BINARY LOG STATUS" if v >= (8, 2, 0) else "SHOW MASTER STATUS"
            )

    def status(self) -> str:
        return f"SHOW {self.replica} STATUS"

    def start(self) -> str:
        return f"START {self.replica}"

    def stop(self) -> str:
        return f"STOP {self.replica}"

    def reset(self) -> str:
        return f"RESET {self.replica} ALL"


def field(row: dict[str, Any], *names: str) -> Any:
    """A replica status column under its MySQL 8 or older name."""
    for name in names:
        if name in row:
            return row[name]
    return None


def relay_applied(status: dict[str, Any]) -> bool:
    """Has the SQL thread executed everything the IO thread received?"""
    read = (
        field(status, "Master_Log_File", "Source_Log_File"),
        field(status, "Read_Master_Log_Pos", "Read_Source_Log_Pos"),
    )
    done = (
        field(status, "Relay_Master_Log_File", "Relay_Source_Log_File"),
        field(status, "Exec_Master_Log_Pos", "Exec_Source_Log_Pos"),
    )
    return None not in read and read == done


def replica_problem(status: dict[str, Any]) -> str | None:
    """Why this replica cannot be trusted, or None."""
    for errno_key, text_key in (
        ("Last_IO_Errno", "Last_IO_Error"),
        ("Last_SQL_Errno", "Last_SQL_Error"),
    ):
        code = int(field(status, errno_key) or 0)
        if errno_key == "Last_IO_Errno" and code in SOURCE_UNREACHABLE:
            continue  # the source is down or busy: not this replica's fault
        if code not in (0, 1040):
            return f"{errno_key} {code}: {(field(status, text_key) or '').strip()[:80]}"
    io = str(field(status, "Slave_IO_Running", "Replica_IO_Running"))
    sql = str(field(status, "Slave_SQL_Running", "Replica_SQL_Running"))
    if sql != "Yes":
        return "the SQL thread is not running"
    if io not in ("Yes", "Connecting"):
        return "the IO thread is not running"
    return None
