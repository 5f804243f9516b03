"""Running commands: argv only, no shell, a deadline, secrets kept out of logs.

Deliberately built on os.posix_spawn and select.poll instead of subprocess:
importing subprocess costs ~16 ms (signal, threading, selectors, enum), more
than the rest of a monitor action together.
"""

from __future__ import annotations

import os
import time

from ocflib.commandline import describe_failure, quote_argv, squeeze
from ocflib.errors import CommandFailed, CommandNotFound, CommandTimeout

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    from ocflib.log import Log


__all__ = [
    "Deadline",
    "ProcessRunner",
    "Result",
    "SAFE_PATH",
    "SystemClock",
    "which",
    "spawn_detached",
]

SAFE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
_SIGKILL = 9


class SystemClock:
    """The clock seam (Context.clock): the system's clocks and pauses."""

    monotonic = staticmethod(time.monotonic)
    sleep = staticmethod(time.sleep)
    time = staticmethod(time.time)


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

    def __repr__(self) -> str:
        return f"Result({quote_argv(self.argv)!r}, rc={self.returncode})"


class Deadline:
    """The time an action has left before Pacemaker kills it.

    Starts from OCF_RESKEY_CRM_meta_timeout (ms), or the action's advertised
    timeout, minus a safety margin (10%, at least 1 s, at most 5 s, never more
    than half) kept back so the agent can still write its exit reason.
    """

    __slots__ = ("start", "total_s", "budget_s", "_clock", "_sleep")

    def __init__(
        self,
        total_s: float,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        # the clock and the pause: the clock seam's (ocflib.seams.Clock)
        self._clock: Callable[[], float] = time.monotonic if clock is None else clock
        self._sleep: Callable[[float], None] = time.sleep if sleep is None else sleep
        self.start: float = self._now()
        self.total_s = total_s
        margin = min(max(total_s * 0.1, 1.0), 5.0, total_s / 2)
        self.budget_s = total_s - margin

    def _now(self) -> float:
        return self._clock()

    def now(self) -> float:
        """The clock the deadline runs on (monotonic: comparable between the
        actions of one boot)."""
        return self._clock()

    @classmethod
    def from_timeout_ms(
        cls,
        timeout_ms: int | None,
        fallback_s: float,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> Deadline:
        """OCF_RESKEY_CRM_meta_timeout if Pacemaker passed one, else fallback."""
        total = timeout_ms / 1000.0 if timeout_ms is not None and timeout_ms > 0 else fallback_s
        return cls(total, clock=clock, sleep=sleep)

    def nap(self, seconds: float) -> None:
        """Pause, but never past the budget."""
        self._sleep(max(min(seconds, self.remaining()), 0.0))

    def elapsed(self) -> float:
        """Seconds since the action started."""
        return self._now() - self.start

    def remaining(self) -> float:
        """Seconds left before the margin; never negative."""
        return max(self.budget_s - self.elapsed(), 0.0)

    def expired(self) -> bool:
        """True once the budget is spent."""
        return self.remaining() <= 0.0

    def wait_until(
        self,
        done: Callable[[], object],
        *,
        within: float | None = None,
        keep: float = 0.0,
        step: float = 0.05,
        first: float = 0.005,
    ) -> bool:
        """Poll done() until it is true: the one bounded wait of the agents.

        Gives up when within seconds have passed (if given), or when only keep
        seconds of the budget are left (time to act or report afterwards). The
        pause grows from first to step, so a quick answer is seen quickly.
        Returns whether done() became true; an exception from done() ends the
        wait and propagates.
        """
        limit = max(self.remaining() - keep, 0.0)
        if within is not None:
            limit = min(limit, within)
        end = self._now() + limit
        pause = min(first, step)
        while True:
            if done():
                return True
            left = end - self._now()
            if left <= 0:
                return False
            self._sleep(min(pause, left))
            pause = min(pause * 2, step)

    def until_killed(self) -> float:
        """Seconds until Pacemaker's own timeout (the margin included); never negative."""
        return max(self.total_s - self.elapsed(), 0.0)

    def kill_grace(self, wanted: float = 2.0, reserve: float = 0.25) -> float:
        """How long a killed child may be waited for: never so long that the
        action answers after Pacemaker's timeout (reserve: time to report)."""
        return max(min(wanted, self.until_killed() - reserve), 0.0)


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
        if log and log.trace is None:  # a trace records each command in full
            log.debug("running: %s", self.redact(quote_argv(argv)))
        path = which(argv[0])
        if path is None:
            if log and log.trace is not None:
                log.trace.command(self.redact(quote_argv(argv)), None, 0.0, "", "", "not installed")
            raise CommandNotFound(argv[0])
        started = time.monotonic()
        result = _spawn_and_wait(
            path,
            argv,
            base_env(env, self.environ),
            input,
            limit,
            self.deadline.kill_grace if self.deadline else None,
        )
        trace = log.trace if log else None
        if trace is not None:
            trace.command(
                self.redact(quote_argv(argv)),
                None if result is None else result.returncode,
                time.monotonic() - started,
                "" if result is None else self.redact(result.stdout),
                "" if result is None else self.redact(result.stderr),
                note="killed at the deadline" if result is None else "",
            )
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
            elif output and trace is None:
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
    kill_grace: Callable[[], float] | None = None,
) -> Result | None:
    """posix_spawn argv in a new session and collect its output.

    Returns None (after killing the process group) if limit_s passes first.
    A descendant that left the session (setsid) but still holds the output
    pipes does not keep the call waiting once the command itself has exited
    (0.2 s for the last output; a daemon the command started is left alone),
    and does not survive a timeout: whoever holds the pipes then is killed
    with the group.
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
    pipes = (os.fstat(out_r).st_ino, os.fstat(err_r).st_ino)
    timed_out = False
    status = None
    drained_by = 0.0
    try:
        while open_fds - {in_w}:
            now = time.monotonic()
            left = end - now
            if left <= 0:
                timed_out = True
                break
            if status is not None and now >= drained_by:
                break  # exited; whatever still holds the pipes left its session
            wait = min(left, 0.1) if status is None else min(left, drained_by - now)
            for fd, _event in poller.poll(wait * 1000):
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
            if status is None and open_fds - {in_w}:
                waited, code = os.waitpid(pid, os.WNOHANG)
                if waited:
                    status = code
                    drained_by = time.monotonic() + 0.2
        delay = 0.0005
        while not timed_out and status is None:
            waited, code = os.waitpid(pid, os.WNOHANG)
            if waited:
                status = code
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
        if timed_out and status is None:
            _kill_group(pid, kill_grace() if kill_grace else 2.0, pipes)
    if status is None:
        return None
    returncode = os.waitstatus_to_exitcode(status)
    return Result(
        argv,
        returncode,
        b"".join(chunks[out_r]).decode("utf-8", "replace"),
        b"".join(chunks[err_r]).decode("utf-8", "replace"),
    )


def _kill_group(pid: int, grace_s: float = 2.0, pipes: Sequence[int] = ()) -> None:
    """SIGKILL the child's process group, and every process that holds one of
    its output pipes (descendants that called setsid), and reap the child, but
    never wait forever: a process stuck in uninterruptible I/O (a hung NFS
    server, a dead disk) cannot die, and the action must still report within
    its deadline (grace_s comes from it)."""
    try:
        os.killpg(pid, _SIGKILL)
    except ProcessLookupError:
        pass
    _kill_pipe_holders(pipes)
    end = time.monotonic() + grace_s
    while time.monotonic() < end:
        try:
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            return
        time.sleep(0.01)


def _kill_pipe_holders(pipes: Sequence[int]) -> None:
    """SIGKILL the processes with a descriptor on one of these pipes: only the
    command we started and its descendants can have one."""
    if not pipes:
        return
    from ocflib.procfs import fd_holders

    for holder, _link in fd_holders({f"pipe:[{ino}]" for ino in pipes}):
        try:
            os.kill(holder, _SIGKILL)
        except ProcessLookupError:
            pass


# --- programs that outlive the action ----------------------------------------


def spawn_detached(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """Start argv in a new session with stdio on /dev/null and return its pid.

    For programs that outlive the action (a server, a background announcer);
    the caller records the pid (ocflib.proc.write_pidfile) to stop exactly
    that process.
    """
    path = which(argv[0]) or argv[0]
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        return os.posix_spawn(
            path,
            list(argv),
            base_env(None, environ),
            setsid=True,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, devnull, 0),
                (os.POSIX_SPAWN_DUP2, devnull, 1),
                (os.POSIX_SPAWN_DUP2, devnull, 2),
            ],
        )
    finally:
        os.close(devnull)
