"""The mount table (/proc/self/mountinfo); ocflib.holders finds
the processes that hold a mount.

Reading these files never touches the mounted file systems themselves, so
nothing here blocks on a hung NFS server.
"""

from __future__ import annotations

import os

__all__ = [
    "Mount",
    "read_mounts",
    "unescape",
    "mounts_at",
    "mounts_below",
    "SystemMounts",
]

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

    __slots__ = (
        "mount_id",
        "parent_id",
        "major",
        "minor",
        "root",
        "target",
        "options",
        "fstype",
        "source",
        "super_options",
    )

    def __init__(
        self,
        mount_id: int,
        parent_id: int,
        major: int,
        minor: int,
        root: str,
        target: str,
        options: str,
        fstype: str,
        source: str,
        super_options: str,
    ) -> None:
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
            mounts.append(
                Mount(
                    int(fields[0]),
                    int(fields[1]),
                    int(major),
                    int(minor),
                    unescape(fields[3]),
                    unescape(fields[4]),
                    fields[5],
                    fields[sep + 1],
                    unescape(fields[sep + 2]),
                    fields[sep + 3] if len(fields) > sep + 3 else "",
                )
            )
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


class SystemMounts:
    """The mounts seam (Context.mounts): this namespace's mount table, block
    device numbers and the file system types the kernel knows."""

    def table(self) -> list[Mount]:
        """The current mount table of this process's mount namespace."""
        return read_mounts()

    def device_number(self, path: str) -> int | None:
        """st_rdev of a block device node (symlinks such as /dev/mapper followed)."""
        import stat

        try:
            st = os.stat(path)
        except OSError:
            return None
        return st.st_rdev if stat.S_ISBLK(st.st_mode) else None

    def supports(self, fstype: str) -> bool:
        """fstype is in /proc/filesystems (its module loaded or built in)."""
        try:
            with open("/proc/filesystems") as f:
                return any(line.split()[-1] == fstype for line in f if line.strip())
        except OSError:
            return False
