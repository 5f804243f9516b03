"""The test doubles: one strict fake per seam of ocflib.seams, and fake_world().

Each fake implements its seam's Protocol without subclassing the real one, so a
method added to a seam reaches a unit test only when its fake has it (mypy checks
each against its Protocol at the bottom of this file).

FakeRunner follows pcs's mock runner: the test lists every command it
expects, in order, with canned output; an unexpected command fails with
"As N. command expected X but was Y", and calls left over fail at the end.
"""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING

from ocflib.commandline import quote_argv
from ocflib.holders import FileSystem, Holder
from ocflib.log import Log
from ocflib.pidfiles import read_pid_file, remove_own_file
from ocflib.proc import Process, identify
from ocflib.run import Result
from ocflib.world import World

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
    from typing import Any

    from ocflib.accounts import Account
    from ocflib.agent import Agent, Context
    from ocflib.env import OcfEnv
    from ocflib.holders import Pinned
    from ocflib.ipaddr import IPAddr
    from ocflib.mounts import Mount
    from ocflib.mysqlwire import PingResult
    from ocflib.pidfiles import PidFile
    from ocflib.seams import Runner

__all__ = [
    "FakeRunner",
    "FakeAccounts",
    "FakeSql",
    "FakeProcesses",
    "FakeClock",
    "FakeMounts",
    "FakeNetwork",
    "FakeHost",
    "FakeDrbd",
    "RecordingLog",
    "fake_world",
    "fake_context",
    "ocf_env",
    "Call",
]


class Call:
    """One expected command and its canned answer."""

    __slots__ = ("argv", "stdout", "stderr", "returncode", "input", "effect", "env", "timeout")

    def __init__(
        self,
        argv: Sequence[str],
        stdout: str = "",
        stderr: str = "",
        returncode: int = 0,
        *,
        input: str | None = None,
        effect: object = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.argv = tuple(argv)
        self.stdout = stdout
        self.stderr = stderr
        self.returncode = returncode
        self.input = input
        self.effect = effect
        self.env = None if env is None else dict(env)
        self.timeout = timeout


class FakeRunning:
    """A command FakeRunner.start answered."""

    def __init__(self, result: Result | None, error: Exception | None) -> None:
        self._result = result
        self._error = error

    def result(self) -> Result:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class FakeRunner:
    """A Runner that answers from a script of expected calls."""

    def __init__(self, installed: Collection[str] | None = None) -> None:
        self.expected: list[Call] = []
        self.done: list[Call] = []
        self.installed = None if installed is None else set(installed)

    def expect(
        self,
        argv: Sequence[str],
        stdout: str = "",
        stderr: str = "",
        returncode: int = 0,
        *,
        input: str | None = None,
        effect: object = None,
        env: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> FakeRunner:
        """Add the next expected command. effect: a callable run before answering,
        or an exception instance to raise (e.g. CommandTimeout). env: the extra
        environment the command must get (none unless given: strict). timeout:
        the per-command limit it must ask for (checked when given)."""
        call = Call(
            argv, stdout, stderr, returncode, input=input, effect=effect, env=env, timeout=timeout
        )
        self.expected.append(call)
        return self

    def which(self, program: str) -> str | None:
        """Everything is installed unless a set of installed names was given."""
        if self.installed is None or program in self.installed:
            return f"/usr/bin/{program}"
        return None

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        ok: Collection[int] | None = (0,),
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Check argv against the next expected call and answer it."""
        if isinstance(argv, (str, bytes)):
            raise TypeError("argv must be a sequence of arguments, not a string")
        index = len(self.done) + 1
        if not self.expected:
            raise AssertionError(
                f"As {index}. command nothing more was expected but was '{quote_argv(argv)}'"
            )
        call = self.expected.pop(0)
        if tuple(argv) != call.argv:
            raise AssertionError(
                f"As {index}. command expected '{quote_argv(call.argv)}' "
                f"but was '{quote_argv(argv)}'"
            )
        if call.input is not None and input != call.input:
            raise AssertionError(
                f"As {index}. command '{quote_argv(argv)}' expected input "
                f"{call.input!r} but got {input!r}"
            )
        got_env = None if env is None else dict(env)
        if got_env != call.env:
            raise AssertionError(
                f"As {index}. command '{quote_argv(argv)}' expected env {call.env!r} "
                f"but got {got_env!r}"
            )
        if call.timeout is not None and timeout != call.timeout:
            raise AssertionError(
                f"As {index}. command '{quote_argv(argv)}' expected timeout "
                f"{call.timeout!r} but got {timeout!r}"
            )
        self.done.append(call)
        if isinstance(call.effect, BaseException):
            raise call.effect
        if callable(call.effect):
            call.effect()
        if self.installed is not None and argv[0] not in self.installed:
            from ocflib.errors import CommandNotFound

            raise CommandNotFound(argv[0])
        result = Result(argv, call.returncode, call.stdout, call.stderr)
        if ok is not None and call.returncode not in ok:
            from ocflib.errors import CommandFailed

            raise CommandFailed(argv, call.returncode, call.stderr)
        return result

    def start(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        ok: Collection[int] | None = (0,),
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> FakeRunning:
        """The next expected command, checked now (the order the agent starts them
        in); its answer, or what it raises, comes from result()."""
        try:
            return FakeRunning(self.run(argv, input=input, ok=ok, timeout=timeout, env=env), None)
        except AssertionError:
            raise
        except Exception as error:  # noqa: BLE001 - handed to result(), as the real one does
            return FakeRunning(None, error)

    def assert_done(self) -> None:
        """Fail if expected calls were never made."""
        if self.expected:
            left = "\n".join(f"  {quote_argv(c.argv)}" for c in self.expected)
            raise AssertionError(f"There are remaining expected calls:\n{left}")


def ocf_env(
    action: str | None = None,
    *,
    interval_ms: int | None = None,
    timeout_ms: int | None = 20000,
    instance: str = "test",
    meta: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    **more_params: str,
) -> dict[str, str]:
    """An environment as Pacemaker would pass it (the action goes in argv).

    Instance parameters come from params and keyword arguments.
    """
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": instance,
        "OCF_RA_VERSION_MAJOR": "1",
        "OCF_RA_VERSION_MINOR": "1",
    }
    if interval_ms is not None:
        env["OCF_RESKEY_CRM_meta_interval"] = str(interval_ms)
    if timeout_ms is not None:
        env["OCF_RESKEY_CRM_meta_timeout"] = str(timeout_ms)
    for key, value in (meta or {}).items():
        env[f"OCF_RESKEY_CRM_meta_{key}"] = value
    for key, value in {**(params or {}), **more_params}.items():
        env[f"OCF_RESKEY_{key}"] = value
    return env


class FakeAccounts:
    """Users and groups for tests, independent of the machine's: only the names
    given exist (a name not given is unknown, as on a node without it)."""

    def __init__(
        self,
        users: Mapping[str, tuple[int, int]] | None = None,
        groups: Mapping[str, int] | None = None,
    ) -> None:
        from ocflib.accounts import Account

        self.users = {n: Account(n, uid, gid) for n, (uid, gid) in (users or {}).items()}
        self.known_groups = dict(groups or {})

    def user(self, name: str) -> Account | None:
        return self.users.get(name)

    def group(self, name: str) -> int | None:
        return self.known_groups.get(name)

    def groups(self, name: str) -> frozenset[int]:
        return frozenset()


# The accounts unit tests see unless they say otherwise: root and a mysql service user.
STANDARD_ACCOUNTS = {"root": (0, 0), "mysql": (27, 27)}
STANDARD_GROUPS = {"root": 0, "mysql": 27}


class FakeSqlError(Exception):
    """What FakeSql raises for a scripted error: args (code, message), as pymysql's."""


class _SqlStep:
    __slots__ = ("kind", "text", "args", "rows", "error")

    def __init__(
        self,
        kind: str,
        text: str,
        args: tuple[object, ...] | None,
        rows: list[Mapping[str, object]],
        error: tuple[int, str] | None,
    ) -> None:
        self.kind = kind  # ping | wire | connect | query
        self.text = text  # the user, or the statement
        self.args = args
        self.rows = rows
        self.error = error

    def __str__(self) -> str:
        return self.text if self.kind == "query" else f"{self.kind} {self.text}"


class FakeSql:
    """A strict SQL server for tests: every connection and statement, in order.

    connection(user) expects a login; statement(sql, rows) a statement and its
    rows (error=(code, message) to fail it instead). Anything else, another
    order, or arguments that differ fail the test; assert_done() fails when
    scripted steps were never reached.
    """

    error = FakeSqlError

    def __init__(self) -> None:
        self.steps: list[_SqlStep] = []
        self.done: list[str] = []

    def login(self, user: str, state: str = "ok", *, refused: bool = False) -> FakeSql:
        """The monitor's quiet login (ping) as user: its answer (ok, denied, busy),
        or refused=True: nobody accepts the connection (OSError)."""
        self.steps.append(_SqlStep("ping", user, None, [], (111, state) if refused else None))
        self.steps[-1].rows = [{"state": state}]
        return self

    def ping(self, unix_socket: str, user: str, password: str, timeout: float) -> PingResult:
        from ocflib.mysqlwire import PingResult

        step = self._next("ping", user, raise_error=False)
        if step.error is not None:
            raise ConnectionRefusedError(step.error[0], "Connection refused")
        return PingResult(str(step.rows[0]["state"]))

    def wire(
        self,
        user: str,
        sql: str,
        rows: Sequence[Sequence[str | None]] = (),
        *,
        state: str = "ok",
        code: int = 0,
        refused: bool = False,
    ) -> FakeSql:
        """A one-statement session (query()) as user: its rows, or another state
        (denied, busy, error with code), or refused=True: nobody accepts the
        connection (OSError)."""
        step = _SqlStep("wire", f"{user}: {sql}", None, [], (111, state) if refused else None)
        step.rows = [{"state": state, "code": code, "rows": [tuple(r) for r in rows]}]
        self.steps.append(step)
        return self

    def query(
        self,
        unix_socket: str,
        user: str,
        password: str,
        sql: str,
        timeout: float,
        verify_peer: object,
    ) -> PingResult:
        from ocflib.mysqlwire import PingResult

        step = self._next("wire", f"{user}: {sql}", raise_error=False)
        if step.error is not None:
            raise ConnectionRefusedError(step.error[0], "Connection refused")
        answer = step.rows[0]
        rows = answer["rows"]
        code = answer["code"]
        if not isinstance(rows, list) or not isinstance(code, int):
            raise TypeError("FakeSql.wire: rows and code as scripted")
        return PingResult(str(answer["state"]), code, "scripted", rows=rows)

    def connection(self, user: str, *, error: tuple[int, str] | None = None) -> FakeSql:
        self.steps.append(_SqlStep("connect", user, None, [], error))
        return self

    def statement(
        self,
        sql: str,
        rows: Sequence[Mapping[str, object]] = (),
        *,
        args: Sequence[object] | None = None,
        error: tuple[int, str] | None = None,
    ) -> FakeSql:
        self.steps.append(
            _SqlStep("query", sql, None if args is None else tuple(args), list(rows), error)
        )
        return self

    def _next(
        self, kind: str, text: str, args: Sequence[object] | None = None, raise_error: bool = True
    ) -> _SqlStep:
        index = len(self.done) + 1
        got = _SqlStep(kind, text, None if args is None else tuple(args), [], None)
        if not self.steps:
            raise AssertionError(f"As {index}. SQL step nothing more was expected but was '{got}'")
        step = self.steps.pop(0)
        if (step.kind, step.text, step.args) != (got.kind, got.text, got.args):
            raise AssertionError(
                f"As {index}. SQL step expected '{step}' (args {step.args!r}) but was "
                f"'{got}' (args {got.args!r})"
            )
        self.done.append(str(got))
        if step.error is not None and raise_error:
            raise FakeSqlError(*step.error)
        return step

    def connect(
        self,
        *,
        unix_socket: str,
        user: str,
        password: str,
        timeout: float,
        ssl: bool,
        verify_peer: object,
    ) -> _FakeConnection:
        self._next("connect", user)
        return _FakeConnection(self)

    def assert_done(self) -> None:
        if self.steps:
            left = "\n".join(f"  {s}" for s in self.steps)
            raise AssertionError(f"There are remaining expected SQL steps:\n{left}")


class _FakeConnection:
    """One connection of a FakeSql: a cursor that answers from the script."""

    def __init__(self, sql: FakeSql) -> None:
        self.sql = sql
        self.rows: list[Mapping[str, object]] = []
        self.closed = False

    def cursor(self) -> _FakeConnection:
        return self

    def __enter__(self) -> _FakeConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute(self, statement: str, args: Sequence[object] | None = None) -> None:
        self.rows = self.sql._next("query", statement, args).rows

    def fetchall(self) -> list[Mapping[str, object]]:
        return self.rows

    def close(self) -> None:
        self.closed = True


class FakeProcesses:
    """The processes of a test's world (Context.procs), strict: signalling,
    spawning or forking anything the test did not set up fails the test.

    add() puts a process into the table; signals sent are in .signals and a
    process dies of any signal in .fatal; spawn() answers from expect_spawn()
    in order; fork() starts a child that never runs here and whose reap() gives
    .child_code (None: it hangs); pid files of the agents' own are kept in
    .pidfiles (path -> pid), never on disk. Untrusted pid files are read from the
    test's files for real (ocflib.pidfiles.read_pid_file: reading is no effect).
    """

    read_pid_file = staticmethod(read_pid_file)

    def __init__(self) -> None:
        self.table: dict[int, Process] = {}
        self.known: set[tuple[int, int]] = set()  # every process ever added
        self.signals: list[tuple[int, int]] = []
        self.fatal = {9, 15}
        self.spawns: list[tuple[tuple[str, ...], int]] = []
        self.spawn_effects: list[Callable[[], object] | None] = []
        self.spawned: list[tuple[str, ...]] = []
        self.forked: list[Callable[[], int]] = []
        self.child_code: int | None = 0
        self.killed_children: list[int] = []
        self.pidfiles: dict[str, int] = {}
        self.holders: list[Holder] = []
        self.elsewhere: dict[str, list[Mount]] = {}
        self.vanishing: set[int] = set()  # exit just before a signal reaches them
        self._next_pid = 30000

    def add(
        self, pid: int, name: str, *, uid: int = 0, sid: int | None = None, exe: str | None = None
    ) -> Process:
        """A process; with sid, a member of that session and of its process group."""
        p = Process(
            pid,
            name,
            "S",
            1,
            pid if sid is None else sid,
            pid if sid is None else sid,
            1,
            uid,
            uid,
            f"/usr/sbin/{name}" if exe is None else exe,
        )
        self.table[pid] = p
        self.known.add((pid, p.start_ticks))
        return p

    def process(self, pid: int) -> Process | None:
        return self.table.get(pid)

    def identify(
        self, pid_file: PidFile, programs: Collection[str], uids: Collection[int]
    ) -> tuple[Process | None, str]:
        return identify(pid_file, programs, uids, lookup=self.process)

    def gone(self, p: Process) -> bool:
        now = self.table.get(p.pid)
        return now is None or now.start_ticks != p.start_ticks

    def send_signal(self, p: Process, sig: int) -> bool:
        if (p.pid, p.start_ticks) not in self.known:
            raise AssertionError(f"signal {sig} to process {p.pid}, which the test never set up")
        if p.pid in self.vanishing:
            self.table.pop(p.pid, None)
        if self.gone(p):
            return False
        self.signals.append((p.pid, sig))
        if sig in self.fatal:
            del self.table[p.pid]
        return True

    def wait_gone(
        self,
        procs: Iterable[Process],
        limit_s: float,
        *,
        step: float = 0.01,
    ) -> bool:
        return all(self.gone(p) for p in procs)

    def kill_session(self, leader: Process, sig: int = 9) -> None:
        self.signals.append((-leader.pid, sig))
        for pid in [pid for pid, p in self.table.items() if p.sid == leader.pid]:
            del self.table[pid]

    def end_group(self, path: str, sig: int = 9) -> list[int]:
        """The group of the launcher our pid file recorded (its pid), also when the
        launcher has exited: its members die of sig."""
        pgid = self.pidfiles.get(path)
        if pgid is None:
            return []
        members = sorted(pid for pid, p in self.table.items() if p.pgid == pgid)
        if members:
            self.signals.append((-pgid, sig))
            for pid in members:
                del self.table[pid]
        return members

    def expect_spawn(
        self, argv: Sequence[str], pid: int, effect: Callable[[], object] | None = None
    ) -> FakeProcesses:
        """The next spawn: its argv, the pid it gets, and what it does to the
        test's world when spawned (effect: write its pid file, say)."""
        self.spawns.append((tuple(argv), pid))
        self.spawn_effects.append(effect)
        return self

    def spawn(self, argv: Sequence[str], environ: Mapping[str, str]) -> int:
        if not self.spawns or self.spawns[0][0] != tuple(argv):
            expected = quote_argv(self.spawns[0][0]) if self.spawns else "nothing"
            raise AssertionError(f"spawn of '{quote_argv(argv)}'; expected {expected}")
        self.spawned.append(tuple(argv))
        effect = self.spawn_effects.pop(0)
        if effect is not None:
            effect()
        return self.spawns.pop(0)[1]

    def fork(self, work: Callable[[], int]) -> int:
        self.forked.append(work)
        self._next_pid += 1
        return self._next_pid

    def reap(self, pid: int) -> int | None:
        return self.child_code

    def kill_child(self, pid: int) -> None:
        self.killed_children.append(pid)

    def write_pidfile(self, path: str, pid: int) -> None:
        self.pidfiles[path] = pid

    def read_pidfile(self, path: str) -> Process | None:
        pid = self.pidfiles.get(path)
        return None if pid is None else self.table.get(pid)

    def remove_own_file(self, path: str, log_warning: Callable[..., object] | None = None) -> bool:
        if self.pidfiles.pop(path, None) is not None:
            return True
        return remove_own_file(path, log_warning)  # another file of ours: for real

    def stop_pidfile_process(
        self,
        path: str,
        wait_s: float = 1.0,
        log_warning: Callable[..., object] | None = None,
    ) -> bool:
        p = self.read_pidfile(path)
        self.pidfiles.pop(path, None)
        return p is not None and self.send_signal(p, 15)

    def locate(self, ours: Mount) -> FileSystem:
        mounts = {"own": [ours], **self.elsewhere}
        return FileSystem(mounts, {ns: [] for ns in mounts}, "own")

    def find_holders(
        self,
        fs: FileSystem,
        *,
        own_mount: int | None = None,
        elsewhere_only: bool = False,
    ) -> list[Holder]:
        return [h for h in self.holders if not self.gone(h.process)]

    def pin_namespace(self, namespace: str, pid: int) -> Pinned | None:
        """Another namespace is never entered in a unit test: as if its process left."""
        return None


class FakeClock:
    """Time for a test: it moves only when the agent pauses (or the test says so).
    Each pause advances it by what step(seconds) returns (by default the pause
    itself); pauses records every pause asked for. The wall clock starts at the
    real time the fake was made (files the agent writes for real carry real
    mtimes) and moves with it."""

    def __init__(self, step: Callable[[float], float] | None = None) -> None:
        self.now = 1000.0
        self.wall = time.time() - self.now
        self.step = step
        self.pauses: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds if self.step is None else self.step(seconds)

    def time(self) -> float:
        return self.wall + self.now

    def advance(self, seconds: float) -> None:
        """Time passes between two actions."""
        self.now += seconds


class FakeMounts:
    """A mount table the test writes (table), the block devices it knows (devices:
    path -> device number) and the file system types the kernel has."""

    def __init__(
        self,
        table: Iterable[Mount] = (),
        devices: Mapping[str, int] | None = None,
        filesystems: Iterable[str] = ("ext4", "xfs", "nfs", "nfs4", "tmpfs"),
    ) -> None:
        self.table_now = list(table)
        self.devices = dict(devices or {})
        self.filesystems = set(filesystems)

    def table(self) -> list[Mount]:
        return list(self.table_now)

    def device_number(self, path: str) -> int | None:
        return self.devices.get(path)

    def supports(self, fstype: str) -> bool:
        return fstype in self.filesystems


class FakeNetwork:
    """Interfaces the test names (nics); announcements are recorded in sent as
    (kind, nic, address, count), never sent; a duplicate-address probe is recorded
    in probes and answered by owner (the MAC that answers, None: nobody)."""

    def __init__(self, nics: Iterable[str] = ("lo", "eth0")) -> None:
        self.nics = set(nics)
        self.owner: str | None = None
        self.sent: list[tuple[str, str, str, int]] = []
        self.probes: list[tuple[str, str, int]] = []

    def nic_exists(self, nic: str) -> bool:
        return nic in self.nics

    def probe_ipv4_in_use(self, nic: str, ip: IPAddr, timeout_ms: int) -> str | None:
        self.probes.append((nic, ip.text, timeout_ms))
        return self.owner

    def send_gratuitous_arp(self, nic: str, ip: IPAddr, count: int, interval_ms: int) -> int:
        self.sent.append(("arp", nic, ip.text, count))
        return count

    def send_unsolicited_na(self, nic: str, ip: IPAddr, count: int, interval_ms: int) -> int:
        self.sent.append(("na", nic, ip.text, count))
        return count


class FakeHost:
    """Root unless euid says otherwise; the node's configuration files are where the
    test puts them (nowhere by default: the machine's are never read)."""

    def __init__(
        self,
        euid: int = 0,
        hosts_file: str = "/nonexistent/hosts",
        clustercheck_files: Sequence[str] = ("/nonexistent/clustercheck",),
    ) -> None:
        self.uid = euid
        self.hosts_file = hosts_file
        self.clustercheck_files = tuple(clustercheck_files)

    def euid(self) -> int:
        return self.uid


class FakeDrbd:
    """The DRBD module as the test sets it: version (None: not loaded), holders."""

    def __init__(self, version: tuple[int, int, int] | None = (8, 4, 11)) -> None:
        self.version = version
        self.holders: list[str] = []
        self.on_load: Callable[[], None] | None = None

    def module_version(self) -> tuple[int, int, int] | None:
        return self.version

    def device_holders(self, minors: Iterable[int]) -> list[str]:
        return list(self.holders)


class RecordingLog(Log):
    """A Log that keeps every message (debug included) as (level, text) in records
    and writes nowhere else."""

    def __init__(self, script: str = "test") -> None:
        super().__init__(script, "test", to_stderr=False)
        self.records: list[tuple[str, str]] = []

    def log(self, level: str, msg: str, *args: object, ignore_stderr: bool = False) -> None:
        self.records.append((level, self.format(msg, args)))
        super().log(level, msg, *args, ignore_stderr=ignore_stderr)


def fake_world(
    runner: Runner | None = None,
    *,
    log: Log | None = None,
    accounts: FakeAccounts | None = None,
    sql: FakeSql | None = None,
    procs: FakeProcesses | None = None,
    clock: FakeClock | None = None,
    mounts: FakeMounts | None = None,
    net: FakeNetwork | None = None,
    host: FakeHost | None = None,
    drbd: FakeDrbd | None = None,
) -> World:
    """A World of strict fakes: every seam not given is a fresh fake (root and mysql
    accounts, no processes, no SQL, a clock that moves only when paused, an empty
    mount table, lo and eth0, euid 0, DRBD 8.4 loaded). Output goes to StringIOs."""
    return World(
        runner=runner if runner is not None else FakeRunner(),
        log=log if log is not None else RecordingLog(),
        out=io.StringIO(),
        err=io.StringIO(),
        clock=clock if clock is not None else FakeClock(),
        procs=procs if procs is not None else FakeProcesses(),
        sql=sql if sql is not None else FakeSql(),
        accounts=accounts
        if accounts is not None
        else FakeAccounts(STANDARD_ACCOUNTS, STANDARD_GROUPS),
        mounts=mounts if mounts is not None else FakeMounts(),
        net=net if net is not None else FakeNetwork(),
        host=host if host is not None else FakeHost(),
        drbd=drbd if drbd is not None else FakeDrbd(),
    )


def fake_context(agent: Agent, env: OcfEnv, *, timeout_s: float = 10.0, **seams: Any) -> Context:
    """A Context for calling one of an agent's functions directly, in a fake world
    (fake_world's seams; those given by keyword replace them)."""
    from ocflib.agent import Context
    from ocflib.run import Deadline

    world = fake_world(**seams)
    clock = world.clock
    deadline = Deadline(timeout_s, clock=clock.monotonic, sleep=clock.sleep)
    runner = world.runner if world.runner is not None else FakeRunner()
    log = world.log if world.log is not None else RecordingLog()
    return Context(env, world, runner, deadline, log, agent)


if TYPE_CHECKING:  # each fake implements its seam's Protocol (checked by mypy)
    from ocflib import seams

    _runner: seams.Runner = FakeRunner()
    _clock: seams.Clock = FakeClock()
    _procs: seams.Processes = FakeProcesses()
    _sql: seams.Sql = FakeSql()
    _accounts: seams.Accounts = FakeAccounts()
    _mounts: seams.Mounts = FakeMounts()
    _net: seams.Network = FakeNetwork()
    _host: seams.Host = FakeHost()
    _drbd: seams.DrbdNode = FakeDrbd()
