"""The processes that hold a mounted file system, in every mount namespace of the
node, and the pinning of another namespace to act in it.

Nothing here stat()s the mounted file system itself (a dead NFS server cannot hang
it): open files are matched by mount id, the rest by path under the mount points
as each process's own namespace and root directory see them.
"""

from __future__ import annotations

import os

from ocflib.proc import PROC, all_pids, process

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocflib.mounts import Mount
    from ocflib.proc import Process

__all__ = [
    "Holder",
    "FileSystem",
    "Pinned",
    "namespaces",
    "locate",
    "find_holders",
    "pin_namespace",
]


class Holder:
    """A process that keeps a file system busy, and how (cwd, root, exe, fd N, mmap)."""

    __slots__ = ("process", "how", "namespace")

    def __init__(self, process: Process, how: list[str], namespace: str) -> None:
        self.process = process
        self.how = how
        self.namespace = namespace

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def name(self) -> str:
        return self.process.name

    def __repr__(self) -> str:
        return f"{self.process!r} ({', '.join(self.how[:3])})"


class FileSystem:
    """Where one mounted file system is, in each mount namespace of the node.

    mounts maps a namespace (the ns/mnt link's text) to the mounts of the file
    system in it, as that namespace sees them; members lists the pids of each
    namespace (a representative first: one whose root is '/', when any).
    """

    __slots__ = ("mounts", "members", "own")

    def __init__(
        self, mounts: dict[str, list[Mount]], members: dict[str, list[int]], own: str
    ) -> None:
        self.mounts = mounts
        self.members = members
        self.own = own

    def elsewhere(self) -> dict[str, list[Mount]]:
        """The namespaces other than ours that still have it mounted."""
        return {ns: ms for ns, ms in self.mounts.items() if ms and ns != self.own}

    def describe(self, ns: str) -> str:
        """'mount namespace mnt:[4026532] (pids 31, 40): /srv/data'"""
        pids = self.members.get(ns, [])
        shown = ", ".join(str(p) for p in pids[:4]) + (", ..." if len(pids) > 4 else "")
        where = ", ".join(sorted({m.target for m in self.mounts.get(ns, [])}))
        return f"mount namespace {ns} (pids {shown}): {where}"


def namespaces(proc: str = PROC) -> tuple[str, dict[str, list[int]]]:
    """(our mount namespace, every namespace with the pids in it). A namespace's
    first pid is one whose root directory is '/' where there is one."""
    try:
        own = os.readlink(f"{proc}/self/ns/mnt")
    except OSError:
        own = ""
    members: dict[str, list[int]] = {}
    rooted: set[str] = set()  # namespaces whose first pid's root is '/'
    for pid in all_pids(proc):
        try:
            ns = os.readlink(f"{proc}/{pid}/ns/mnt")
        except OSError:
            continue
        pids = members.setdefault(ns, [])
        if ns not in rooted and _root_is_slash(proc, pid):
            rooted.add(ns)
            pids.insert(0, pid)
        else:
            pids.append(pid)
    return own, members


def _root_is_slash(proc: str, pid: int) -> bool:
    try:
        return os.readlink(f"{proc}/{pid}/root") == "/"
    except OSError:
        return False


def locate(ours: Mount, *, proc: str = PROC) -> FileSystem:
    """The file system mounted as ours (in this namespace), in every namespace.

    A mount elsewhere is the same file system when it has the same device
    number (st_dev of the superblock) and shows the same part of it (its root
    is ours or below it): a bind mount of one directory of the root file
    system is never mistaken for the whole root file system.
    """
    from ocflib.mounts import parse_mountinfo

    own, members = namespaces(proc)
    found: dict[str, list[Mount]] = {}
    root = ours.root.rstrip("/") + "/"
    for ns, pids in members.items():
        text = None
        # Our own namespace as we see it: the paths of its mount table are relative to
        # the reader's root, and ours may not be its first process's (a chroot).
        sources = ["self"] if ns == own else [str(pid) for pid in pids[:3]]
        for source in sources:
            try:
                with open(f"{proc}/{source}/mountinfo", "rb") as f:
                    text = f.read().decode("utf-8", "surrogateescape")
                break
            except OSError:
                continue
        if text is None:
            continue
        found[ns] = [
            m
            for m in parse_mountinfo(text)
            if (m.major, m.minor) == (ours.major, ours.minor)
            and (m.root == ours.root or (m.root + "/").startswith(root))
        ]
    return FileSystem(found, members, own)


def _under(path: str, targets: Sequence[str]) -> bool:
    return any(path == t or path.startswith(t.rstrip("/") + "/") for t in targets)


def find_holders(
    fs: FileSystem, *, own_mount: int | None = None, elsewhere_only: bool = False, proc: str = PROC
) -> list[Holder]:
    """Every process, in any mount namespace, that uses the file system.

    Open files are matched by the mount id the kernel reports for each fd
    (fdinfo mnt_id; mount ids are unique across namespaces), so another file
    system never counts and nothing on the mounted file system is ever
    stat()ed (a dead NFS server cannot hang this). cwd, root, executable and
    memory maps are matched by path under the mount points of the process's
    own namespace. own_mount: in our namespace, only that mount (the one
    being unmounted, not a submount); elsewhere_only: none in our namespace.
    Never lists this process or PID 1.
    """
    own_pid = os.getpid()
    ids_by_ns = {ns: {m.mount_id for m in ms} for ns, ms in fs.mounts.items() if ms}
    if elsewhere_only:
        ids_by_ns.pop(fs.own, None)
    elif own_mount is not None and fs.own in ids_by_ns:
        ids_by_ns[fs.own] = {own_mount}
    all_ids = set().union(*ids_by_ns.values()) if ids_by_ns else set()
    holders = []
    for ns, ids in ids_by_ns.items():
        targets = sorted({m.target for m in fs.mounts[ns] if m.mount_id in ids})
        for pid in fs.members.get(ns, []):
            if pid in (own_pid, 1):
                continue
            how = _how_held(f"{proc}/{pid}", all_ids, targets, own_view=ns == fs.own)
            if how:
                p = process(pid)
                if p is not None and not p.zombie:
                    holders.append(Holder(p, how, ns))
    return holders


def _how_held(
    base: str, mount_ids: set[int], targets: Sequence[str], *, own_view: bool = False
) -> list[str]:
    """How the process at base uses the mounts (targets: as its namespace and root
    directory see them, as in its mountinfo; own_view: as this process sees them, a
    process of our own namespace, whose links read as paths from our root too)."""
    how: list[str] = []
    try:
        root = "/" if own_view else os.readlink(f"{base}/root")
    except OSError:
        root = "/"

    def seen(path: str) -> str:
        # Links of a process in a chroot (or another namespace's tree) read as paths
        # from outside it; its mountinfo shows them from inside.
        if root != "/" and path.startswith(root.rstrip("/") + "/"):
            return path[len(root.rstrip("/")) :]
        return path

    for link in ("cwd", "root", "exe"):
        try:
            if _under(seen(os.readlink(f"{base}/{link}")), targets):
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
                if int(line.split()[1]) in mount_ids:
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
                    if _under(seen(path), targets):
                        how.append(f"mmap {path}")
                        break
    except OSError:
        pass
    return how


class Pinned:
    """Another mount namespace held open: its ns/mnt and root directory as fds this
    process keeps (inheritable, for nsenter), so a recycled pid can never lead
    into another namespace. mount and root are the paths nsenter is given."""

    __slots__ = ("fds",)

    def __init__(self, fds: list[int]) -> None:
        self.fds = fds

    @property
    def mount(self) -> str:
        return f"/proc/self/fd/{self.fds[0]}"

    @property
    def root(self) -> str:
        return f"/proc/self/fd/{self.fds[1]}"

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def pin_namespace(namespace: str, pid: int, *, proc: str = PROC) -> Pinned | None:
    """The mount namespace of pid and its root directory, held open; None when pid
    is no longer in namespace. Raises OSError when they cannot be opened."""
    fds: list[int] = []
    try:
        fds.append(os.open(f"{proc}/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC))
        fds.append(os.open(f"{proc}/{pid}/root", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC))
        if os.readlink(f"/proc/self/fd/{fds[0]}") != namespace:
            Pinned(fds).close()
            return None
        for fd in fds:
            os.set_inheritable(fd, True)
    except OSError:
        Pinned(fds).close()
        raise
    return Pinned(fds)
