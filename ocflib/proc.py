"""Processes and pid files: the one place where an agent decides which process
a pid file names, whether that process is the one it may signal, and which
processes hold a mounted file system.

Everything here treats the files on disk as untrusted input. A pid file is read
only when it is a small regular file (never a FIFO, a device or a directory,
never through a symbolic link, never blocking); a pid is signalled only after
the process behind it has been identified (its executable, its owner, and a
start time that fits the pid file), and through a pidfd where the kernel has
them, so a pid that is recycled between the check and the signal is never hit.

Built on /proc directly rather than on psutil: importing psutil costs about
24 ms here (measured with `python3 -X importtime -c 'import psutil'`), more than
a whole monitor action of most agents, and these functions run on the monitor
path every few seconds on every node. Linux's /proc is the only platform a
Pacemaker node runs on, so psutil's portability buys nothing.
"""

from __future__ import annotations

import os
import time

from ocflib.procfs import fd_holders  # the one /proc descriptor walker

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence

    from ocflib.mounts import Mount

__all__ = [
    "SIGTERM",
    "SIGKILL",
    "PidFile",
    "read_pid_file",
    "Process",
    "process",
    "gone",
    "send_signal",
    "wait_gone",
    "write_private_file",
    "read_private_file",
    "remove_own_file",
    "write_pidfile",
    "read_pidfile",
    "stop_pidfile_process",
    "Holder",
    "FileSystem",
    "find_holders",
    "fd_holders",
    "Processes",
]

# Signal numbers without importing `signal` (which imports enum: ~5 ms per run).
SIGTERM = 15
SIGKILL = 9
PROC = "/proc"


# --- pid files written by someone else ---------------------------------------------


class PidFile:
    """What a pid file holds, and who wrote it.

    pid is None when the file is not a small regular file holding an integer;
    problem then says why (for the log; the file is never trusted further).
    """

    __slots__ = ("path", "pid", "words", "uid", "mtime", "problem")

    def __init__(
        self,
        path: str,
        pid: int | None,
        words: list[str],
        uid: int,
        mtime: float,
        problem: str | None,
    ) -> None:
        self.path = path
        self.pid = pid
        self.words = words
        self.uid = uid
        self.mtime = mtime
        self.problem = problem

    @property
    def plain(self) -> bool:
        """Exactly one integer (a server's own pid file)."""
        return self.pid is not None and len(self.words) == 1

    def __repr__(self) -> str:
        return f"PidFile({self.path!r}, pid={self.pid}, problem={self.problem!r})"


def read_pid_file(path: str, limit: int = 64) -> PidFile | None:
    """The pid file at path, or None when nothing is there.

    Never opens anything but a regular file (a FIFO would block the reader
    forever, a device could act on open), never follows a symbolic link,
    never reads more than limit bytes.
    """
    import stat

    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        return PidFile(path, None, [], -1, 0.0, f"cannot be examined: {err.strerror}")
    if not stat.S_ISREG(st.st_mode):
        kind = (
            "a directory"
            if stat.S_ISDIR(st.st_mode)
            else "a symbolic link"
            if stat.S_ISLNK(st.st_mode)
            else "a FIFO"
            if stat.S_ISFIFO(st.st_mode)
            else "not a regular file"
        )
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"is {kind}")
    if st.st_size > limit:
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"is larger than {limit} bytes")
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as err:
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"cannot be read: {err.strerror}")
    try:
        fst = os.fstat(fd)
        if (fst.st_dev, fst.st_ino) != (st.st_dev, st.st_ino) or not stat.S_ISREG(fst.st_mode):
            return PidFile(path, None, [], fst.st_uid, fst.st_mtime, "changed while being read")
        data = os.read(fd, limit + 1)
    except OSError as err:
        return PidFile(path, None, [], st.st_uid, st.st_mtime, f"cannot be read: {err.strerror}")
    finally:
        os.close(fd)
    try:
        words = data.decode("ascii").split()
    except UnicodeDecodeError:
        words = []
    head = words[0] if words else ""
    if not (head.isascii() and head.isdigit()) or len(head) > 10 or int(head) <= 1:
        return PidFile(path, None, words, fst.st_uid, fst.st_mtime, "does not hold a process id")
    return PidFile(path, int(head), words, fst.st_uid, fst.st_mtime, None)


# --- processes ------------------------------------------------------------------------


_BOOT_TIME: list[float] = []


def boot_time() -> float:
    """The system's boot time (epoch seconds), from /proc/stat's btime."""
    if not _BOOT_TIME:
        value = 0.0
        try:
            with open(f"{PROC}/stat", "rb") as f:
                for line in f:
                    if line.startswith(b"btime "):
                        value = float(line.split()[1])
                        break
        except OSError:
            pass
        _BOOT_TIME.append(value)
    return _BOOT_TIME[0]


class Process:
    """One process as /proc shows it: enough to tell whether it is the one we mean.

    start_ticks identifies it across pid reuse; exe is the executable's path
    ('' when it cannot be read: a kernel thread, a process gone meanwhile).
    """

    __slots__ = ("pid", "name", "state", "ppid", "pgid", "sid", "start_ticks", "uid", "euid", "exe")

    def __init__(
        self,
        pid: int,
        name: str,
        state: str,
        ppid: int,
        pgid: int,
        sid: int,
        start_ticks: int,
        uid: int,
        euid: int,
        exe: str,
    ) -> None:
        self.pid = pid
        self.name = name
        self.state = state
        self.ppid = ppid
        self.pgid = pgid
        self.sid = sid
        self.start_ticks = start_ticks
        self.uid = uid
        self.euid = euid
        self.exe = exe

    @property
    def start_time(self) -> float:
        """When it started (epoch seconds; the clock tick's precision, about 10 ms,
        on top of btime's whole second)."""
        return boot_time() + self.start_ticks / os.sysconf("SC_CLK_TCK")

    @property
    def program(self) -> str:
        """The executable's file name (without ' (deleted)' after an upgrade), or
        the command name when the executable cannot be read."""
        if not self.exe:
            return self.name
        name = os.path.basename(self.exe)
        return name[: -len(" (deleted)")] if name.endswith(" (deleted)") else name

    @property
    def zombie(self) -> bool:
        return self.state in ("Z", "X")

    def __repr__(self) -> str:
        return f"{self.name}[{self.pid}]"


def _stat_fields(pid: int) -> tuple[str, list[str]] | None:
    """(command name, fields after it) of /proc/PID/stat. The name may contain
    spaces and parentheses: fields are split after the last ')'."""
    try:
        with open(f"{PROC}/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    head, _, tail = data.rpartition(")")
    fields = tail.split()
    if not head or len(fields) < 20:
        return None
    return head.partition("(")[2], fields


def process(pid: int) -> Process | None:
    """The process with this pid, or None when there is none."""
    got = _stat_fields(pid)
    if got is None:
        return None
    name, fields = got
    uid = euid = -1
    try:
        with open(f"{PROC}/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Uid:"):
                    ids = line.split()
                    uid, euid = int(ids[1]), int(ids[2])
                    break
    except (OSError, ValueError, IndexError):
        return None
    try:
        exe = os.readlink(f"{PROC}/{pid}/exe")
    except OSError:
        exe = ""
    try:
        return Process(
            pid,
            name,
            fields[0],
            int(fields[1]),
            int(fields[2]),
            int(fields[3]),
            int(fields[19]),
            uid,
            euid,
            exe,
        )
    except ValueError:
        return None


def start_ticks(pid: int) -> int | None:
    """The start time of pid in clock ticks since boot, or None when gone.
    Cheaper than process(): one file."""
    got = _stat_fields(pid)
    if got is None:
        return None
    try:
        return int(got[1][19])
    except ValueError:
        return None


def gone(p: Process) -> bool:
    """True once p runs no more code: exited (reaped or a zombie), or its pid
    now belongs to another process."""
    got = _stat_fields(p.pid)
    if got is None:
        return True
    fields = got[1]
    return fields[0] in ("Z", "X") or fields[19] != str(p.start_ticks)


def send_signal(p: Process, sig: int) -> bool:
    """Signal exactly p: False when it is gone (not an error: it stopped).

    With a pidfd (Linux 5.3+) the identity check and the signal refer to the
    same process even if its pid is recycled in between; without one the
    window is the few microseconds between the check and kill().
    """
    pidfd = -1
    opener = getattr(os, "pidfd_open", None)
    if opener is not None:
        try:
            pidfd = opener(p.pid)
        except ProcessLookupError:
            return False
        except OSError:
            pidfd = -1
    try:
        if gone(p):
            return False
        if pidfd >= 0:
            import signal

            try:
                signal.pidfd_send_signal(pidfd, sig)
            except ProcessLookupError:
                return False
        else:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                return False
        return True
    finally:
        if pidfd >= 0:
            os.close(pidfd)


def wait_gone(procs: Iterable[Process], limit_s: float, *, step: float = 0.01) -> bool:
    """Up to limit_s for every process to be gone; True when they are."""
    pending = list(procs)
    end = time.monotonic() + max(limit_s, 0.0)
    delay = min(step, 0.0005)
    while True:
        pending = [p for p in pending if not gone(p)]
        if not pending:
            return True
        if time.monotonic() >= end:
            return False
        time.sleep(delay)
        delay = min(delay * 2, step)


def identify(
    pid_file: PidFile,
    programs: Collection[str],
    uids: Collection[int],
    slack_s: float = 2.0,
    *,
    lookup: Callable[[int], Process | None] | None = None,
) -> tuple[Process | None, str]:
    """The process a pid file names, if it is verifiably the one that wrote it.

    It must run (not a zombie), be one of programs (its executable's name),
    belong to one of uids (real or effective), and have started before the pid
    file was last written (plus slack_s: btime has whole seconds): a process
    that started afterwards reuses the pid of the one that wrote the file.
    Returns (process, '') or (None, why not).
    """
    if pid_file.pid is None:
        return None, f"{pid_file.path} {pid_file.problem}"
    p = (lookup or process)(pid_file.pid)
    if p is None or p.zombie:
        return None, f"no process {pid_file.pid} (from {pid_file.path}) runs"
    if p.program not in programs and p.name not in programs:
        return None, f"process {p.pid} is {p.program}, not {' or '.join(sorted(programs))}"
    if p.uid not in uids and p.euid not in uids:
        return None, f"process {p.pid} ({p.program}) belongs to uid {p.euid}, not the server's"
    if p.start_time > pid_file.mtime + slack_s:
        return None, f"process {p.pid} ({p.program}) started after {pid_file.path} was written"
    return p, ""


# --- our own bookkeeping files ----------------------------------------------------------


def write_private_file(path: str, text: str) -> None:
    """Write text to path (mode 0600), replacing only our own file.

    Written to a fresh temporary file and renamed into place: an existing
    symlink at path is replaced, never followed.
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            os.write(fd, text.encode())
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_private_file(path: str, limit: int = 128) -> tuple[str, float] | None:
    """(text, mtime) of a regular file at path that root wrote (our own
    bookkeeping), never through a symlink, never blocking; None otherwise."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return None
        return os.read(fd, limit).decode("ascii", "replace"), st.st_mtime
    except OSError:
        return None
    finally:
        os.close(fd)


def remove_own_file(path: str, log_warning: Callable[..., object] | None = None) -> bool:
    """Remove a bookkeeping file of ours; a file system that refuses (read-only,
    full, gone) is not an error for the caller. True when removed or absent."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError as err:
        if log_warning is not None:
            log_warning("cannot remove %s: %s", path, err.strerror)
        return False
    return True


def write_pidfile(path: str, pid: int) -> None:
    """Record pid (and its start time) in path (see write_private_file)."""
    ticks = start_ticks(pid)
    write_private_file(path, f"{pid} {'' if ticks is None else ticks}\n")


def read_pidfile(path: str) -> Process | None:
    """The process recorded in our own pid file (pid and start time), if that
    very process still runs (not a zombie); else None."""
    got = read_private_file(path)
    words = got[0].split() if got else []
    if len(words) < 2 or not words[0].isdigit() or not words[1].isdigit():
        return None
    pid = int(words[0])
    if pid <= 1:
        return None
    p = process(pid)
    if p is None or p.zombie or str(p.start_ticks) != words[1]:
        return None
    return p


def end_group(path: str, sig: int = 9) -> list[int]:
    """Signal what is left of the process group led by the process our pid file
    recorded (a launcher spawned with setsid), also after that process exited:
    what the server started (a state transfer's rsync daemon, socat, mariabackup)
    stays in the group and would outlive a stop. A pid is not reused while a group
    of that id has members, so the group is still ours unless a live process has
    that pid with another start time (then nothing is signalled). Returns the pids
    of the members signalled."""
    got = read_private_file(path)
    words = got[0].split() if got else []
    if len(words) < 2 or not words[0].isdigit() or not words[1].isdigit():
        return []
    pgid = int(words[0])
    if pgid <= 1:
        return []
    leader = process(pgid)
    if leader is not None and str(leader.start_ticks) != words[1]:
        return []  # that pid is another process now: the group is not ours
    members = []
    for pid in _pids(PROC):
        p = process(pid)
        if p is not None and p.pgid == pgid and not p.zombie:
            members.append(pid)
    if members:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return []
    return members


def stop_pidfile_process(
    path: str, wait_s: float = 1.0, log_warning: Callable[..., object] | None = None
) -> bool:
    """SIGTERM (then SIGKILL) the process recorded in our pid file; remove the file.

    Only the exact process that the file recorded is signalled. wait_s=0 does
    not wait for the exit: for a process that keeps SIGTERM's default action
    the signal is fatal once it is delivered. A file that cannot be removed
    (a read-only directory) is logged, never an error. Returns True if a
    process was signalled.
    """
    p = read_pidfile(path)
    remove_own_file(path, log_warning)
    if p is None or not send_signal(p, SIGTERM):
        return False
    if wait_s > 0 and not wait_gone([p], wait_s):
        send_signal(p, SIGKILL)
    return True


# --- the processes that hold a file system, in every mount namespace ----------------------


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
    for pid in _pids(proc):
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


def _pids(proc: str) -> Iterator[int]:
    for name in os.listdir(proc):
        if name.isdigit():
            yield int(name)


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


# --- the seam -------------------------------------------------------------------------------


class Processes:
    """The node's processes as the agents use them (Context.procs): identify,
    signal, wait, spawn and reap, pid files, holders of a file system. A strict
    fake in ocflib.testing stands in for it in unit tests."""

    read_pid_file = staticmethod(read_pid_file)
    process = staticmethod(process)
    gone = staticmethod(gone)
    send_signal = staticmethod(send_signal)
    wait_gone = staticmethod(wait_gone)
    read_pidfile = staticmethod(read_pidfile)
    write_pidfile = staticmethod(write_pidfile)
    remove_own_file = staticmethod(remove_own_file)
    stop_pidfile_process = staticmethod(stop_pidfile_process)
    end_group = staticmethod(end_group)
    locate = staticmethod(locate)
    find_holders = staticmethod(find_holders)

    def identify(
        self, pid_file: PidFile, programs: Collection[str], uids: Collection[int]
    ) -> tuple[Process | None, str]:
        """ocflib.proc.identify, looking processes up here."""
        return identify(pid_file, programs, uids, lookup=self.process)

    def kill_session(self, leader: Process, sig: int = SIGKILL) -> None:
        """Signal the process group of a session leader (a launcher that called
        setsid), if the leader is still the process we identified."""
        if not gone(leader):
            try:
                os.killpg(leader.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def spawn(self, argv: Sequence[str], environ: Mapping[str, str]) -> int:
        """Start argv detached (ocflib.run.spawn_detached); its pid."""
        from ocflib.run import spawn_detached

        return spawn_detached(argv, environ)

    def fork(self, work: Callable[[], int]) -> int:
        """Run work() in a forked child that leaves with its return value (70 if
        it raised) and never returns into the caller; the child's pid."""
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                code = work()
            except BaseException:  # noqa: BLE001, S110 - a child must never unwind
                pass
            finally:
                os._exit(code)
        return pid

    def kill_child(self, pid: int) -> None:
        """SIGKILL our own child (not yet reaped: its pid cannot have been reused)."""
        try:
            os.kill(pid, SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self, pid: int) -> int | None:
        """The exit code of our child pid if it has exited (reaping it), else None."""
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status) if done else None
