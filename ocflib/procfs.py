"""The one walker of /proc's file descriptors: which processes have a given file
(a device, a pipe) open. Below ocflib.proc and ocflib.run, so both can use it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = ["fd_holders"]

PROC = "/proc"


def fd_holders(links: Collection[str], *, proc: str = PROC) -> list[tuple[int, str]]:
    """(pid, link) of every process (never this one) with a descriptor whose
    /proc link reads as one of links: a device path (/dev/drbd0), or a pipe
    ('pipe:[INODE]'). Links are read, never followed."""
    wanted = set(links)
    own = os.getpid()
    found = []
    for name in os.listdir(proc):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == own:
            continue
        try:
            fds = os.listdir(f"{proc}/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{proc}/{pid}/fd/{fd}")
            except OSError:
                continue
            if target in wanted:
                found.append((pid, target))
                break
    return found
