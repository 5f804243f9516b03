"""Test helpers: a strict, ordered fake runner and an OCF environment builder.

FakeRunner follows pcs's mock runner: the test lists every command it
expects, in order, with canned output; an unexpected command fails with
"As N. command expected X but was Y", and calls left over fail at the end.
"""

from __future__ import annotations

from ocflib.commandline import quote_argv
from ocflib.run import Result

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Mapping, Sequence

    from ocflib.accounts import Account

__all__ = ["FakeRunner", "FakeAccounts", "FakeSql", "ocf_env", "Call"]


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
        self.groups = dict(groups or {})

    def user(self, name: str) -> Account | None:
        return self.users.get(name)

    def group(self, name: str) -> int | None:
        return self.groups.get(name)


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
        self.kind = kind  # connect | query
        self.text = text  # the user, or the statement
        self.args = args
        self.rows = rows
        self.error = error

    def __str__(self) -> str:
        return f"connect {self.text}" if self.kind == "connect" else self.text


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

    def _next(self, kind: str, text: str, args: Sequence[object] | None = None) -> _SqlStep:
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
        if step.error is not None:
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
