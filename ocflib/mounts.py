"""The mount table (/proc/self/mountinfo) and the processes that hold a mount.

Reading these files never touches the mounted file systems themselves, so
nothing here blocks on a hung NFS server.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Mount", "read_mounts", "unescape", "Holder", "find_holders"]

MOUNTINFO = "/proc/self/mountinfo"


def unescape(field: str) -> str:
    r"""Undo the kernel's octal escapes in mount table fields (\040 space, \011 tab,
    \012 newline, \134 backslash)."""
    if "\\" not in field:
        return field
    out = []
    i = 0
    while i < len(field):
        ch = field[i]
        if ch == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class Mount:
    """One line of mountinfo."""

    __slots__ = ("mount_id", "parent_id", "major", "minor", "root", "target", "options",
                 "fstype", "source", "super_options")  # fmt: skip

    def __init__(self, mount_id: int, parent_id: int, major: int, minor: int, root: str,
                 target: str, options: str, fstype: str, source: str,
                 super_options: str) -> None:  # fmt: skip
        self.mount_id = mount_id
        self.parent_id = parent_id
        self.major = major
        self.minor = minor
        self.root = root
        self.target = target
        self.options = options
        self.fstype = fstype
        self.source = source
        self.super_options = super_options

    @property
    def read_only(self) -> bool:
        """Mounted read-only (per-mount or superblock flag)."""
        return "ro" in self.options.split(",") or "ro" in self.super_options.split(",")

    @property
    def dev(self) -> int:
        """The device number (as os.stat().st_rdev of the block device)."""
        return os.makedev(self.major, self.minor)

    def __repr__(self) -> str:
        return f"Mount({self.source!r} on {self.target!r} type {self.fstype})"


def parse_mountinfo(text: str) -> list[Mount]:
    """mountinfo lines as Mount objects, in mount order (later mounts on top)."""
    mounts = []
    for line in text.splitlines():
        fields = line.split(" ")
        try:
            sep = fields.index("-", 6)
            major, minor = fields[2].split(":")
            mounts.append(Mount(int(fields[0]), int(fields[1]), int(major), int(minor),
                                unescape(fields[3]), unescape(fields[4]), fields[5],
                                fields[sep + 1], unescape(fields[sep + 2]),
                                fields[sep + 3] if len(fields) > sep + 3 else ""))  # fmt: skip
        except (ValueError, IndexError):
            continue
    return mounts


def read_mounts(path: str = MOUNTINFO) -> list[Mount]:
    """The current mount table of this process's mount namespace."""
    with open(path, "rb") as f:
        return parse_mountinfo(f.read().decode("utf-8", "surrogateescape"))


def mounts_at(mounts: list[Mount], target: str) -> list[Mount]:
    """Mounts on exactly target, bottom first (the last one is visible)."""
    return [m for m in mounts if m.target == target]


def mounts_below(mounts: list[Mount], target: str) -> list[Mount]:
    """Mounts strictly under target (submounts), deepest path first."""
    prefix = target.rstrip("/") + "/"
    below = [m for m in mounts if m.target.startswith(prefix)]
    return sorted(below, key=lambda m: m.target, reverse=True)


# --- processes holding a mount ---------------------------------------------------


class Holder:
    """A process that keeps a mount busy, and how (cwd, root, exe, fd N, mmap)."""

    __slots__ = ("pid", "name", "how")

    def __init__(self, pid: int, name: str, how: list[str]) -> None:
        self.pid = pid
        self.name = name
        self.how = how

    def __repr__(self) -> str:
        return f"{self.name}[{self.pid}] ({', '.join(self.how[:3])})"


def _under(path: str, target: str) -> bool:
    return path == target or path.startswith(target.rstrip("/") + "/")


def _pids(proc: str) -> Iterator[int]:
    for name in os.listdir(proc):
        if name.isdigit():
            yield int(name)


def find_holders(mount: Mount, *, proc: str = "/proc") -> list[Holder]:
    """Every process of this mount namespace that uses this very mount.

    Open files are matched by the mount id the kernel reports for each fd
    (fdinfo mnt_id), so another mount of the same file system (a bind mount
    elsewhere, `/` under a bind source) never counts; cwd, root, executable
    and memory maps by path under the mount point. Processes in other mount
    namespaces hold their own copies of mounts, never this one. Never lists
    this process or PID 1.
    """
    own = os.getpid()
    try:
        my_ns = os.readlink(f"{proc}/self/ns/mnt")
    except OSError:
        my_ns = ""
    holders = []
    for pid in _pids(proc):
        if pid in (own, 1):
            continue
        base = f"{proc}/{pid}"
        try:
            if my_ns and os.readlink(f"{base}/ns/mnt") != my_ns:
                continue
        except OSError:
            continue
        how: list[str] = []
        for link in ("cwd", "root", "exe"):
            try:
                if _under(os.readlink(f"{base}/{link}"), mount.target):
                    how.append(link)
            except OSError:
                pass
        try:
            fds = os.listdir(f"{base}/fdinfo")
        except OSError:
            fds = []
        for fd in fds:
            try:
                with open(f"{base}/fdinfo/{fd}", "rb") as f:
                    info = f.read()
            except OSError:
                continue
            for line in info.split(b"\n"):
                if line.startswith(b"mnt_id:"):
                    if int(line.split()[1]) == mount.mount_id:
                        try:
                            how.append(f"fd {fd} {os.readlink(f'{base}/fd/{fd}')}")
                        except OSError:
                            how.append(f"fd {fd}")
                    break
        try:
            with open(f"{base}/maps", "rb") as f:
                for line in f:
                    parts = line.split(None, 5)
                    if len(parts) == 6:
                        path = parts[5].rstrip(b"\n").decode("utf-8", "surrogateescape")
                        if _under(path, mount.target):
                            how.append(f"mmap {path}")
                            break
        except OSError:
            pass
        if how:
            try:
                with open(f"{base}/comm") as f:
                    name = f.read().strip()
            except OSError:
                name = "?"
            holders.append(Holder(pid, name, how))
    return holders
