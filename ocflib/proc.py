"""Processes: the one place where an agent decides which process a pid file
names and whether that process is the one it may signal.

A pid is signalled only after the process behind it has been identified (its
executable, its owner, and a start time that fits the pid file), and through a
pidfd where the kernel has them, so a pid that is recycled between the check and
the signal is never hit. Pid files and our own files: ocflib.pidfiles; the
processes that hold a file system: ocflib.holders; the seam that gathers them
for the agents: ocflib.processes.

Built on /proc directly rather than on psutil: importing psutil costs about
24 ms here (measured with `python3 -X importtime -c 'import psutil'`), more than
a whole monitor action of most agents, and these functions run on the monitor
path every few seconds on every node. Linux's /proc is the only platform a
Pacemaker node runs on, so psutil's portability buys nothing.
"""

from __future__ import annotations

import os
import time

from ocflib.pidfiles import read_private_file, remove_own_file, write_private_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator

    from ocflib.pidfiles import PidFile

__all__ = [
    "SIGTERM",
    "SIGKILL",
    "Process",
    "process",
    "gone",
    "send_signal",
    "wait_gone",
    "identify",
    "write_pidfile",
    "read_pidfile",
    "end_group",
    "stop_pidfile_process",
    "all_pids",
]

# Signal numbers without importing `signal` (which imports enum: ~5 ms per run).
SIGTERM = 15
SIGKILL = 9
PROC = "/proc"


def all_pids(proc: str = PROC) -> Iterator[int]:
    """The pids /proc lists."""
    for name in os.listdir(proc):
        if name.isdigit():
            yield int(name)


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
    for pid in all_pids(PROC):
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
