"""Running commands: argv only, no shell, a deadline, secrets kept out of logs.

Deliberately built on os.posix_spawn and select.poll instead of subprocess:
importing subprocess costs ~16 ms (signal, threading, selectors, enum), more
than the rest of a monitor action together.
"""

from __future__ import annotations

import os
import time

from ocflib.errors import CommandFailed, CommandNotFound, CommandTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence
    from typing import Protocol

    from ocflib.log import Log

    class Runner(Protocol):
        """What agents use to run commands (ProcessRunner, or a fake in tests)."""

        def run(
            self,
            argv: Sequence[str],
            *,
            input: str | None = None,
            ok: Collection[int] | None = (0,),
            timeout: float | None = None,
            env: Mapping[str, str] | None = None,
        ) -> Result: ...

        def which(self, program: str) -> str | None: ...


__all__ = [
    "Deadline",
    "ProcessRunner",
    "Result",
    "quote_argv",
    "describe_failure",
    "SAFE_PATH",
]

SAFE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_SIGKILL = 9
_SIGTERM = 15
_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%+=:,./-_")
_SIGNAMES = {1: "SIGHUP", 2: "SIGINT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV",
             13: "SIGPIPE", 15: "SIGTERM"}  # fmt: skip


def quote(word: str) -> str:
    """shlex.quote without importing shlex (and re)."""
    if not word:
        return "''"
    if all(c in _SAFE_CHARS for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def quote_argv(argv: Sequence[str]) -> str:
    """A copy-pasteable command line (shlex.join)."""
    return " ".join(quote(w) for w in argv)


def squeeze(text: str, limit: int = 400) -> str:
    """Output on one line, as ocf_run logs it."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def describe_failure(argv: Sequence[str], returncode: int, stderr: str) -> str:
    """A specific reason: killed by a signal, not found, or returned N."""
    name = os.path.basename(argv[0]) if argv else "command"
    if returncode < 0:
        sig = _SIGNAMES.get(-returncode, f"signal {-returncode}")
        what = f"killed by {sig}"
    elif returncode == 127:
        what = "not found (rc 127)"
    else:
        what = f"returned {returncode}"
    detail = squeeze(stderr, 300)
    return f"{name} {what}" + (f": {detail}" if detail else "")


class Result:
    """The outcome of one command: argv, returncode, stdout and stderr as text."""

    __slots__ = ("argv", "returncode", "stdout", "stderr")

    def __init__(
        self, argv: Sequence[str], returncode: int, stdout: str = "", stderr: str = ""
    ) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0

    def __repr__(self) -> str:
        return f"Result({quote_argv(self.argv)!r}, rc={self.returncode})"


class Deadline:
    """The time an action has left before Pacemaker kills it.

    Starts from OCF_RESKEY_CRM_meta_timeout (ms), or the action's advertised
    timeout, minus a safety margin (10%, at least 1 s, at most 5 s, never more
    than half) kept back so the agent can still write its exit reason.
    """

    __slots__ = ("start", "total_s", "budget_s", "_clock")

    def __init__(self, total_s: float, *, clock: Callable[[], float] | None = None) -> None:
        self._clock: Callable[[], float] = time.monotonic if clock is None else clock
        self.start: float = self._now()
        self.total_s = total_s
        margin = min(max(total_s * 0.1, 1.0), 5.0, total_s / 2)
        self.budget_s = total_s - margin

    def _now(self) -> float:
        return self._clock()

    @classmethod
    def from_timeout_ms(cls, timeout_ms: int | None, fallback_s: float) -> Deadline:
        """OCF_RESKEY_CRM_meta_timeout if Pacemaker passed one, else fallback."""
        if timeout_ms is not None and timeout_ms > 0:
            return cls(timeout_ms / 1000.0)
        return cls(fallback_s)

    def elapsed(self) -> float:
        """Seconds since the action started."""
        return self._now() - self.start

    def remaining(self) -> float:
        """Seconds left before the margin; never negative."""
        return max(self.budget_s - self.elapsed(), 0.0)

    def expired(self) -> bool:
        """True once the budget is spent."""
        return self.remaining() <= 0.0


def base_env(extra: Mapping[str, str] | None, inherit: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child: a fixed PATH, LC_ALL=C, and the cluster
    variables tools such as crm_attribute need. Instance parameters
    (OCF_RESKEY_*, which may hold secrets) are never passed on."""
    env = {"PATH": SAFE_PATH, "LC_ALL": "C", "LANG": "C"}
    for key, value in inherit.items():
        if (
            key.startswith(("HA_", "PCMK_", "CIB_", "CRM_"))
            or key
            in (
                "OCF_ROOT",
                "OCF_RESOURCE_INSTANCE",
                "OCF_RESOURCE_TYPE",
                "OCF_RA_VERSION_MAJOR",
                "OCF_RA_VERSION_MINOR",
                "OCF_RESKEY_crm_feature_set",
                "TMPDIR",
            )
            or key.startswith("OCF_RESKEY_CRM_meta_")
        ):
            env[key] = value
    if extra:
        env.update(extra)
    return env


def which(program: str, path: str = SAFE_PATH) -> str | None:
    """The executable program resolves to on path, or None."""
    if "/" in program:
        return program if os.access(program, os.X_OK) and not os.path.isdir(program) else None
    for directory in path.split(":"):
        candidate = os.path.join(directory, program)
        if os.access(candidate, os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


class ProcessRunner:
    """Runs commands for real.

    argv only (a str is a TypeError); stdin is /dev/null unless input is
    given; the child gets its own session so a timeout kills its whole
    process group; each call is bounded by the action's deadline.
    """

    def __init__(
        self,
        deadline: Deadline | None = None,
        log: Log | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        secrets: Collection[str] = (),
    ) -> None:
        self.deadline = deadline
        self.log = log
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        """Text with every secret value replaced."""
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return text

    def which(self, program: str) -> str | None:
        """The path program runs from, or None if not installed."""
        return which(program)

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        ok: Collection[int] | None = (0,),
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run argv and return its Result.

        ok: the exit codes that are not failures (None: accept any); any
        other raises CommandFailed. timeout: seconds, capped by the deadline.
        """
        if isinstance(argv, (str, bytes)):
            raise TypeError("argv must be a sequence of arguments, not a string")
        argv = [str(a) for a in argv]
        limit = self.deadline.remaining() if self.deadline else 3600.0
        if timeout is not None:
            limit = min(limit, timeout)
        log = self.log
        if log:
            log.debug("running: %s", self.redact(quote_argv(argv)))
        path = which(argv[0])
        if path is None:
            raise CommandNotFound(argv[0])
        started = time.monotonic()
        result = _spawn_and_wait(path, argv, base_env(env, self.environ), input, limit)
        if result is None:
            raise CommandTimeout(argv, time.monotonic() - started)
        if log:
            output = squeeze(self.redact(result.stdout + " " + result.stderr))
            failed = ok is not None and result.returncode not in ok
            if failed:
                log.error(
                    "%s: %s",
                    self.redact(quote_argv(argv)),
                    self.redact(describe_failure(argv, result.returncode, result.stderr)),
                )
            elif output:
                log.debug("%s: rc=%d %s", argv[0], result.returncode, output)
        if ok is not None and result.returncode not in ok:
            raise CommandFailed(
                argv,
                result.returncode,
                result.stderr,
                reason=self.redact(describe_failure(argv, result.returncode, result.stderr)),
            )
        return result


def _spawn_and_wait(
    path: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    input: str | None,
    limit_s: float,
) -> Result | None:
    """posix_spawn argv in a new session and collect its output.

    Returns None (after killing the process group) if limit_s passes first.
    """
    import select

    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_w = -1
    if input is None:
        in_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    else:
        in_r, in_w = os.pipe()
    try:
        pid = os.posix_spawn(
            path,
            list(argv),
            dict(env),
            file_actions=[
                (os.POSIX_SPAWN_DUP2, in_r, 0),
                (os.POSIX_SPAWN_DUP2, out_w, 1),
                (os.POSIX_SPAWN_DUP2, err_w, 2),
            ],
            setsid=True,
        )
    except FileNotFoundError:
        for fd in (out_r, out_w, err_r, err_w, in_r, in_w):
            if fd >= 0:
                os.close(fd)
        raise CommandNotFound(argv[0]) from None
    os.close(out_w)
    os.close(err_w)
    os.close(in_r)
    end = time.monotonic() + limit_s
    chunks: dict[int, list[bytes]] = {out_r: [], err_r: []}
    pending = input.encode() if input is not None else b""
    poller = select.poll()
    poller.register(out_r, select.POLLIN)
    poller.register(err_r, select.POLLIN)
    if in_w >= 0:
        os.set_blocking(in_w, False)
        poller.register(in_w, select.POLLOUT)
    open_fds = {out_r, err_r} | ({in_w} if in_w >= 0 else set())
    timed_out = False
    try:
        while open_fds - {in_w}:
            left = end - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            for fd, _event in poller.poll(left * 1000):
                if fd == in_w:
                    try:
                        written = os.write(in_w, pending[:65536])
                        pending = pending[written:]
                    except BrokenPipeError:
                        pending = b""
                    if not pending:
                        poller.unregister(in_w)
                        os.close(in_w)
                        open_fds.discard(in_w)
                        in_w = -1
                    continue
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:
                    poller.unregister(fd)
                    open_fds.discard(fd)
        status = None
        delay = 0.0005
        while not timed_out:
            waited, status = os.waitpid(pid, os.WNOHANG)
            if waited:
                break
            if time.monotonic() >= end:
                timed_out = True
                break
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
    finally:
        for fd in (out_r, err_r, in_w):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if timed_out:
            _kill_group(pid)
    if timed_out or status is None:
        return None
    returncode = os.waitstatus_to_exitcode(status)
    return Result(
        argv,
        returncode,
        b"".join(chunks[out_r]).decode("utf-8", "replace"),
        b"".join(chunks[err_r]).decode("utf-8", "replace"),
    )


def _kill_group(pid: int, grace_s: float = 2.0) -> None:
    """SIGKILL the child's process group and reap it, but never wait forever:
    a process stuck in uninterruptible I/O (a hung NFS server, a dead disk)
    cannot die, and the action must still report within its deadline."""
    try:
        os.killpg(pid, _SIGKILL)
    except ProcessLookupError:
        pass
    end = time.monotonic() + grace_s
    while time.monotonic() < end:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.01)


# --- background processes owned through a pid file -------------------------


def proc_stat(pid: int) -> tuple[str, str, str] | None:
    """(command name, state letter, start time in ticks) from /proc/PID/stat,
    or None when the process is gone. The name may contain spaces and
    parentheses: fields are split after the last ')'."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    head, _, tail = data.rpartition(")")
    fields = tail.split()
    if not head or len(fields) < 20:
        return None
    return head.partition("(")[2], fields[0], fields[19]


def proc_starttime(pid: int) -> str | None:
    """The start time of pid (ticks since boot), or None if gone.

    A pid file stores it next to the pid, so a recycled pid is never
    mistaken for the process we started.
    """
    stat = proc_stat(pid)
    return stat[2] if stat else None


def write_private_file(path: str, text: str) -> None:
    """Write text to path (mode 0600), replacing only our own file.

    Written to a fresh temporary file and renamed into place: an existing
    symlink at path is replaced, never followed.
    """
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
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
    """(text, mtime) of path, never through a symlink; None when unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        return os.read(fd, limit).decode("ascii", "replace"), os.fstat(fd).st_mtime
    except OSError:
        return None
    finally:
        os.close(fd)


def write_pidfile(path: str, pid: int) -> None:
    """Record pid (and its start time) in path (see write_private_file)."""
    write_private_file(path, f"{pid} {proc_starttime(pid) or ''}\n")


def read_pidfile(path: str) -> int | None:
    """The pid in path if that very process still runs (not a zombie), else None."""
    got = read_private_file(path)
    text = got[0].split() if got else []
    if not text or not text[0].isdigit():
        return None
    pid = int(text[0])
    start = text[1] if len(text) > 1 else None
    if pid <= 1 or start is None or proc_starttime(pid) != start or is_zombie(pid):
        return None
    return pid


def stop_pidfile_process(path: str, wait_s: float = 1.0) -> bool:
    """SIGTERM (then SIGKILL) the process recorded in path; remove the file.

    Only the exact process that wrote the pid file is signalled. wait_s=0
    does not wait for the exit: for a process that keeps SIGTERM's default
    action the signal is fatal once kill() returns (the kernel marks the
    whole thread group as exiting; no more user code runs), while the exit
    itself can take tens of milliseconds (closing a packet socket waits for
    an RCU grace period). Returns True if a process was signalled.
    """
    pid = read_pidfile(path)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    if pid is None:
        return False
    try:
        os.kill(pid, _SIGTERM)
    except ProcessLookupError:
        return False
    if wait_s <= 0:
        return True
    end = time.monotonic() + wait_s
    delay = 0.0002
    while time.monotonic() < end:
        if proc_starttime(pid) is None or is_zombie(pid):
            return True
        time.sleep(delay)
        delay = min(delay * 2, 0.02)
    try:
        os.kill(pid, _SIGKILL)
    except ProcessLookupError:
        pass
    return True


def is_zombie(pid: int) -> bool:
    """True if pid is a zombie or gone (it runs no more code)."""
    stat = proc_stat(pid)
    return stat is None or stat[1] == "Z"


def spawn_detached(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """Start argv in a new session with stdio on /dev/null and return its pid.

    For programs that outlive the action (a server, a background announcer);
    the caller records the pid (write_pidfile) to stop exactly that process.
    """
    path = which(argv[0]) or argv[0]
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        return os.posix_spawn(path, list(argv), base_env(None, environ), setsid=True,
                              file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                            (os.POSIX_SPAWN_DUP2, devnull, 1),
                                            (os.POSIX_SPAWN_DUP2, devnull, 2)])  # fmt: skip
    finally:
        os.close(devnull)
