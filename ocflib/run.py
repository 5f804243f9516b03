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
    from typing import Any

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
        from ocflib.commandline import quote_argv

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
        return self.start(argv, input=input, ok=ok, timeout=timeout, env=env).result()

    def start(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        ok: Collection[int] | None = (0,),
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Running:
        """Start argv and return at once; its result() is what run() returns. Two
        commands that do not depend on each other run side by side this way."""
        if isinstance(argv, (str, bytes)):
            raise TypeError("argv must be a sequence of arguments, not a string")
        argv = [str(a) for a in argv]
        limit = self.deadline.remaining() if self.deadline else 3600.0
        if timeout is not None:
            limit = min(limit, timeout)
        log = self.log
        if log and log.trace is None and log.debug_enabled:  # a trace records each in full
            log.debug("running: %s", self.shown(argv))
        path = which(argv[0])
        if path is None:
            if log and log.trace is not None:
                log.trace.command(self.shown(argv), None, 0.0, "", "", "not installed")
            raise CommandNotFound(argv[0])
        child = _Child(path, argv, base_env(env, self.environ), input)
        return Running(self, child, ok, limit)

    def shown(self, argv: Sequence[str]) -> str:
        """argv as a shell would quote it, secrets redacted (for logs and traces: the
        quoting is imported only when something is written)."""
        from ocflib.commandline import quote_argv

        return self.redact(quote_argv(argv))

    def finish(self, running: Running, result: Result | None, elapsed: float) -> Result:
        """Log, trace and check the result of a command started here."""
        argv = running.child.argv
        log = self.log
        trace = log.trace if log else None
        if trace is not None:
            trace.command(
                self.shown(argv),
                None if result is None else result.returncode,
                elapsed,
                "" if result is None else self.redact(result.stdout),
                "" if result is None else self.redact(result.stderr),
                note="killed at the deadline" if result is None else "",
            )
        if result is None:
            raise CommandTimeout(argv, elapsed)
        ok = running.ok
        failed = ok is not None and result.returncode not in ok
        if failed:
            from ocflib.commandline import describe_failure

            reason = self.redact(describe_failure(argv, result.returncode, result.stderr))
            if log:
                log.error("%s: %s", self.shown(argv), reason)
            raise CommandFailed(argv, result.returncode, result.stderr, reason=reason)
        if log and trace is None and log.debug_enabled:
            from ocflib.commandline import squeeze

            output = squeeze(self.redact(result.stdout + " " + result.stderr))
            if output:
                log.debug("%s: rc=%d %s", argv[0], result.returncode, output)
        return result


class Running:
    """A command started by ProcessRunner.start: result() waits for it (within its
    limit, counted from the start) and returns or raises as run() does."""

    __slots__ = ("runner", "child", "ok", "end", "started")

    def __init__(
        self, runner: ProcessRunner, child: _Child, ok: Collection[int] | None, limit_s: float
    ) -> None:
        self.runner = runner
        self.child = child
        self.ok = ok
        self.started = child.started
        self.end = child.started + limit_s

    def result(self) -> Result:
        deadline = self.runner.deadline
        result = self.child.wait(self.end, deadline.kill_grace if deadline else None)
        return self.runner.finish(self, result, time.monotonic() - self.started)


class _Child:
    """A command spawned with posix_spawn in a new session, its output on pipes.

    wait() collects the output and the exit status, or returns None (after killing
    the process group) when the end passes first. A descendant that left the
    session (setsid) but still holds the output pipes does not keep the call
    waiting once the command itself has exited (0.2 s for the last output; a
    daemon the command started is left alone), and does not survive a timeout:
    whoever holds the pipes then is killed with the group.
    """

    __slots__ = ("argv", "pid", "out_r", "err_r", "in_w", "pending", "pipes", "started")

    def __init__(
        self, path: str, argv: Sequence[str], env: Mapping[str, str], input: str | None
    ) -> None:
        self.argv = argv
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_w = -1
        if input is None:
            in_r = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        else:
            in_r, in_w = os.pipe()
        try:
            self.pid = os.posix_spawn(
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
        self.started = time.monotonic()
        os.close(out_w)
        os.close(err_w)
        os.close(in_r)
        self.out_r, self.err_r, self.in_w = out_r, err_r, in_w
        self.pending = input.encode() if input is not None else b""
        self.pipes = (os.fstat(out_r).st_ino, os.fstat(err_r).st_ino)

    def wait(self, end: float, kill_grace: Callable[[], float] | None = None) -> Result | None:
        """The command's Result, or None when it was killed at end."""
        chunks: dict[int, list[bytes]] = {self.out_r: [], self.err_r: []}
        status: int | None = None
        try:
            status = self._collect(end, chunks)
            if status is None:
                status = self._reap(end)
        finally:
            for fd in (self.out_r, self.err_r, self.in_w):
                if fd >= 0:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            if status is None:
                _kill_group(self.pid, kill_grace() if kill_grace else 2.0, self.pipes)
        if status is None:
            return None
        return Result(
            self.argv,
            os.waitstatus_to_exitcode(status),
            b"".join(chunks[self.out_r]).decode("utf-8", "replace"),
            b"".join(chunks[self.err_r]).decode("utf-8", "replace"),
        )

    def _collect(self, end: float, chunks: dict[int, list[bytes]]) -> int | None:
        """Read the output (and write the input) until both pipes close or the
        command has exited and its output is drained; the exit status if seen."""
        import select

        poller = select.poll()
        poller.register(self.out_r, select.POLLIN)
        poller.register(self.err_r, select.POLLIN)
        if self.in_w >= 0:
            os.set_blocking(self.in_w, False)
            poller.register(self.in_w, select.POLLOUT)
        reading = {self.out_r, self.err_r}
        status = None
        drained_by = 0.0
        while reading:
            now = time.monotonic()
            left = end - now
            if left <= 0 or (status is not None and now >= drained_by):
                break  # timed out; or exited, and what still holds the pipes left its session
            wait = min(left, 0.1) if status is None else min(left, drained_by - now)
            for fd, _event in poller.poll(wait * 1000):
                if fd == self.in_w:
                    self._feed(poller)
                    continue
                data = os.read(fd, 65536)
                if data:
                    chunks[fd].append(data)
                else:
                    poller.unregister(fd)
                    reading.discard(fd)
            if status is None and reading:
                waited, code = os.waitpid(self.pid, os.WNOHANG)
                if waited:
                    status = code
                    drained_by = time.monotonic() + 0.2
        return status

    def _feed(self, poller: Any) -> None:
        """Write the next part of the input; close stdin when all is written."""
        try:
            written = os.write(self.in_w, self.pending[:65536])
            self.pending = self.pending[written:]
        except BrokenPipeError:
            self.pending = b""
        if not self.pending:
            poller.unregister(self.in_w)
            os.close(self.in_w)
            self.in_w = -1

    def _reap(self, end: float) -> int | None:
        """The exit status once the command exits (its output is closed), or None
        at end. Waits on a pidfd where the kernel has them (woken the moment the
        command exits), else polls."""
        waited, code = os.waitpid(self.pid, os.WNOHANG)
        if waited:
            return code
        opener = getattr(os, "pidfd_open", None)
        if opener is not None:
            try:
                pidfd = opener(self.pid)
            except OSError:
                pidfd = -1
            if pidfd >= 0:
                import select

                try:
                    poller = select.poll()
                    poller.register(pidfd, select.POLLIN)
                    poller.poll(max(end - time.monotonic(), 0.0) * 1000)
                finally:
                    os.close(pidfd)
                waited, code = os.waitpid(self.pid, os.WNOHANG)
                return code if waited else None
        delay = 0.0001
        while True:
            waited, code = os.waitpid(self.pid, os.WNOHANG)
            if waited:
                return code
            if time.monotonic() >= end:
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.05)


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
