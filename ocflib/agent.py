"""The agent object and its dispatcher: the one place exit codes leave from."""

from __future__ import annotations

import os
import sys

from ocflib.env import OcfEnv
from ocflib.errors import OCFError
from ocflib.exitcodes import OCF
from ocflib.log import Log
from ocflib.params import Config, Param, Problem, String, parse_params

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Callable, TextIO

    from ocflib.run import Deadline
    from ocflib.seams import (
        Accounts,
        Clock,
        DrbdNode,
        Host,
        Mounts,
        Network,
        Processes,
        Runner,
        Sql,
    )
    from ocflib.trace import Trace
    from ocflib.world import World

    Handler = Callable[[Config, "Context"], OCF]
    Checker = Callable[[Config, "Context"], list[Problem]]

__all__ = ["Action", "Agent", "Context"]

BUILTIN_ACTIONS = ("meta-data", "usage", "methods", "validate-all", "help")


class Action:
    """An advertised action: handler, timeout and (for monitor) interval/depth/role.

    A promotable agent lists monitor twice (one per role, distinct
    intervals); both entries must name the same handler.
    """

    __slots__ = (
        "name",
        "handler",
        "timeout_s",
        "interval_s",
        "depth",
        "role",
        "start_delay_s",
        "never_fails",
    )

    def __init__(
        self,
        name: str,
        handler: Handler | None = None,
        *,
        timeout: float,
        interval: float | None = None,
        depth: int | None = None,
        role: str | None = None,
        start_delay: float | None = None,
        never_fails: bool = False,
    ) -> None:
        self.name = name
        self.handler = handler
        self.timeout_s = timeout
        self.interval_s = interval
        self.depth = depth
        self.role = role
        self.start_delay_s = start_delay
        # notify: "Must not fail. Must return OCF_SUCCESS" (Pacemaker).
        self.never_fails = never_fails


class Context:
    """What a handler gets besides its Config: the environment, the action's
    deadline, the log, a runner bounded by the deadline, and the world's other
    seams (ocflib.seams) as attributes: procs, sql, accounts, clock, mounts, net,
    host, drbd, out."""

    __slots__ = ("env", "runner", "deadline", "log", "agent", "argv0", "world")

    def __init__(
        self,
        env: OcfEnv,
        world: World,
        runner: Runner,
        deadline: Deadline,
        log: Log,
        agent: Agent,
        argv0: str = "",
    ) -> None:
        self.env = env
        self.world = world
        self.runner = runner
        self.deadline = deadline
        self.log = log
        self.agent = agent
        self.argv0 = argv0

    @property
    def out(self) -> TextIO:
        """Where an action prints (status' running/stopped)."""
        return self.world.out

    @property
    def procs(self) -> Processes:
        return self.world.procs

    @property
    def sql(self) -> Sql:
        return self.world.sql

    @property
    def accounts(self) -> Accounts:
        return self.world.accounts

    @property
    def clock(self) -> Clock:
        return self.world.clock

    @property
    def mounts(self) -> Mounts:
        return self.world.mounts

    @property
    def net(self) -> Network:
        return self.world.net

    @property
    def host(self) -> Host:
        return self.world.host

    @property
    def drbd(self) -> DrbdNode:
        return self.world.drbd

    @property
    def action(self) -> str:
        """The action being run."""
        return self.env.action

    @property
    def is_probe(self) -> bool:
        """A monitor with interval 0."""
        return self.env.is_probe


# Every agent accepts resource-agents' tracing parameters (ocflib.trace honours them);
# they are advertised so that pcs, which adds them only for the heartbeat and
# pacemaker providers, accepts them for pyha too (pcs then lists them with the other
# options: it hides only the ones it adds itself; docs/decisions.md).
TRACE_PARAMS: tuple[Param[object], ...] = (
    Param(
        "trace_ra",
        String(max_len=16),
        shortdesc="Set to 1 to trace the agent's actions",
        longdesc="When true (1, yes, true, on), each action writes a trace: the parameters "
        "(secret ones redacted), every command it ran with its argv, exit code and time, "
        "every log message, and the exit code and reason. The trace is written to "
        "trace_file if set, else to <trace_dir>/<agent>/<resource>.<action>.<timestamp> "
        "under /var/lib/heartbeat/trace_ra, as `crm resource trace` announces. "
        "A trace that cannot be written never changes the action's result.",
        default="0",
    ),
    Param(
        "trace_file",
        String(),
        shortdesc="Trace file for trace_ra",
        longdesc="The absolute path of the file trace_ra writes to, instead of one new file "
        "per action in the trace directory. Traces are appended; a file that is not a "
        "pyha trace is never written to.",
        default="",
    ),
    Param(
        "trace_dir",
        String(),
        shortdesc="Trace directory for trace_ra",
        longdesc="The directory under which trace_ra writes one file per action, in a "
        "subdirectory named after the agent (`crm resource trace RSC OP DIR` sets it).",
        default="/var/lib/heartbeat/trace_ra",
    ),
)


class Agent:
    """An agent's whole spec in one place: parameters, actions, checks.

    check_config(cfg, ctx) reports problems of the configuration itself
    (rc 6 by default); check_local(cfg, ctx) reports problems of this node
    (binaries, devices: rc 5/2/4). dispatch() applies the OCF action policy
    to them (see its docstring).
    """

    def __init__(
        self,
        name: str,
        *,
        version: str,
        shortdesc: str,
        longdesc: str,
        params: Sequence[Param[object]],
        actions: Sequence[Action],
        check_config: Checker | None = None,
        check_local: Checker | None = None,
        ocf_version: str = "1.0",
    ) -> None:
        self.name = name
        self.version = version
        self.shortdesc = shortdesc
        self.longdesc = longdesc
        names = {p.name for p in params}
        self.params = (*params, *(p for p in TRACE_PARAMS if p.name not in names))
        self.actions = tuple(actions)
        self.check_config = check_config
        self.check_local = check_local
        self.ocf_version = ocf_version
        self.secret_params = tuple(p for p in self.params if p.secret)
        handlers: dict[str, Action] = {}
        for action in self.actions:
            known = handlers.get(action.name)
            if known is not None and known.handler is not action.handler:
                raise ValueError(f"action {action.name} is listed with two handlers")
            handlers[action.name] = action
        self._by_name = handlers

    def all_actions(self) -> list[Action]:
        """The advertised actions, with meta-data and validate-all (every agent has
        them: the dispatcher answers both) added when the agent does not list them."""
        actions = list(self.actions)
        names = {a.name for a in actions}
        if "meta-data" not in names:
            actions.append(Action("meta-data", timeout=5))
        if "validate-all" not in names:
            actions.append(Action("validate-all", timeout=20))
        return actions

    def action(self, name: str) -> Action | None:
        """The Action advertised under name, or None."""
        return self._by_name.get(name)

    def metadata(self) -> str:
        """The meta-data XML."""
        from ocflib.metadata import render

        return render(self)

    def usage(self) -> str:
        """One usage line, as the shell agents print it."""
        names = sorted({*self._by_name, "meta-data", "validate-all"})
        return f"usage: {self.name} {{{'|'.join(names)}}}"

    # -- dispatch -----------------------------------------------------------

    def dispatch(
        self, argv: Sequence[str], environ: Mapping[str, str], world: World | None = None
    ) -> int:
        """Run the action named by argv[1] and return the exit status.

        world: the seams the action acts through (ocflib.world.World); none given,
        the node's own.

        Policy: meta-data/usage/methods need nothing and always work.
        Configuration problems: stop returns SUCCESS (a resource with a
        configuration it could never start with is not running), a probe
        returns NOT_RUNNING, anything else the problem's code. Node problems
        (check_local: the installation, as the reference agents check it in
        validate-all at every depth): a probe returns NOT_RUNNING; validate-all's
        handler adds the stricter node checks at OCF_CHECK_LEVEL >= 10. Errors
        raised anywhere become one ocf-exit-reason line and their code; stop
        never returns NOT_RUNNING;
        a never_fails action (notify) always returns SUCCESS.
        """
        if world is None:
            from ocflib.world import World

            world = World()
        action_name = argv[1] if len(argv) > 1 else ""
        env = OcfEnv(action_name, environ)
        text = self._static_answer(action_name)
        if text is not None:
            problem = _write(world.out, text)
            if problem is None:
                return OCF.SUCCESS
            _write(
                world.err,
                f"{env.exit_reason_prefix}cannot write the {action_name} output: {problem}\n",
            )
            return OCF.ERR_GENERIC
        log = world.log
        if log is None:
            from ocflib.log import configure

            log = configure(environ, self.name, env.instance)
        for param in self.secret_params:
            value = env.reskeys.get(param.name)
            if value:
                log.add_secret(value)
        trace = self._open_trace(argv, environ, env, log)
        rc: int = OCF.ERR_GENERIC
        try:
            rc = self._dispatch(argv[0], env, environ, world, log)
        finally:
            if trace is not None:
                log.trace = None
                trace.finish(rc)
        return rc

    def _static_answer(self, action_name: str) -> str | None:
        """The text of methods, meta-data and usage (they need nothing), else None."""
        if action_name == "methods":
            return "\n".join(sorted({*self._by_name, "meta-data", "validate-all"})) + "\n"
        if action_name == "meta-data":
            from ocflib.pacemaker import for_this_pacemaker

            return for_this_pacemaker(self.metadata().encode()).decode()
        if action_name in ("usage", "help", "-h", "--help"):
            return self.usage() + "\n"
        return None

    def _open_trace(
        self, argv: Sequence[str], environ: Mapping[str, str], env: OcfEnv, log: Log
    ) -> Trace | None:
        """The action's trace when trace_ra asks for one (it then gets every log
        message through log.trace)."""
        if not (environ.get("OCF_RESKEY_trace_ra") or environ.get("OCF_TRACE_RA")):
            return None
        from ocflib import trace as tracing

        if not tracing.wanted(environ):
            return None
        trace = tracing.Trace.open(environ, self.name, env.instance, env.action, log.warning)
        if trace is not None:
            trace.header(
                self.name,
                self.version,
                env.action,
                argv,
                environ,
                log.redact,
                [p.name for p in self.secret_params],
            )
            log.trace = trace
        return trace

    def _dispatch(
        self, argv0: str, env: OcfEnv, environ: Mapping[str, str], world: World, log: Log
    ) -> int:
        """dispatch() after the log (and the trace) is set up."""
        action_name = env.action
        err = world.err
        if not action_name:
            _write(err, self.usage() + "\n")
            return self._fail(env, log, err, OCF.ERR_ARGS, "no action given")
        action = self._by_name.get(action_name)
        if action is None and action_name != "validate-all":
            _write(err, self.usage() + "\n")
            return self._fail(
                env, log, err, OCF.ERR_UNIMPLEMENTED, f"action {action_name!r} is not implemented"
            )
        from ocflib.run import Deadline

        fallback = action.timeout_s if action is not None else 20.0
        clock = world.clock
        deadline = Deadline.from_timeout_ms(env.timeout_ms, fallback, clock.monotonic, clock.sleep)
        runner = world.runner
        if runner is None:
            from ocflib.run import ProcessRunner

            runner = ProcessRunner(deadline, log, environ=environ, secrets=log.secrets)
        ctx = Context(env, world, runner, deadline, log, self, os.path.realpath(argv0))
        try:
            rc = self._run(action, ctx)
        except OCFError as error:
            rc = self._fail(env, log, err, error.rc, error.reason)
        except OSError as error:
            # The node refused (permissions, a read-only or full file system):
            # a failure of this action here, said plainly, not an agent bug.
            where = f"{error.filename}: " if error.filename else ""
            reason = f"{action_name} failed: {where}{error.strerror or error}"
            rc = self._fail(env, log, err, OCF.ERR_GENERIC, reason)
        except Exception as error:  # noqa: BLE001 - the one place that catches all
            import traceback

            log.debug("traceback: %s", traceback.format_exc())
            reason = f"internal error in {self.name}: {type(error).__name__}: {error}"
            rc = self._fail(env, log, err, OCF.ERR_GENERIC, reason)
        if action_name == "stop" and rc == OCF.NOT_RUNNING:
            rc = OCF.SUCCESS
        if action is not None and action.never_fails and rc != OCF.SUCCESS:
            log.warning("%s returned %d; reporting success (it must not fail)", action_name, rc)
            rc = OCF.SUCCESS
        return int(rc)

    def _run(self, action: Action | None, ctx: Context) -> OCF:
        env = ctx.env
        cfg, problems = parse_params(self.params, env.reskeys)
        if self.check_config is not None:
            try:
                problems += self.check_config(cfg, ctx)
            except KeyError:
                pass  # it needs a value that did not parse: that problem is reported
        for warning in [p for p in problems if p.rc == OCF.SUCCESS]:
            ctx.log.warning("%s", warning.message)
        problems = [p for p in problems if p.rc != OCF.SUCCESS]
        if problems:
            return self._config_problems(ctx, problems)
        if self.check_local is not None:
            problems = self.check_local(cfg, ctx)
            if problems:
                if env.is_probe:
                    ctx.log.info("probe: %s; not running here", _summary(problems))
                    return OCF.NOT_RUNNING
                raise OCFError(_summary(problems), rc=problems[0].rc)
        if action is None or action.handler is None:
            if env.action == "validate-all":
                return OCF.SUCCESS
            raise OCFError(f"action {env.action} has no handler", rc=OCF.ERR_UNIMPLEMENTED)
        rc = action.handler(cfg, ctx)
        if not OCF.is_valid(rc):
            raise OCFError(f"{env.action} returned an invalid code {rc!r}")
        return OCF(rc)

    def _config_problems(self, ctx: Context, problems: list[Problem]) -> OCF:
        summary = _summary(problems)
        for problem in problems:
            ctx.log.log(
                "warning" if ctx.action == "stop" or ctx.is_probe else "error",
                "%s",
                problem.message,
            )
        if ctx.action == "stop":
            ctx.log.warning("stop: %s; nothing can be running with it", summary)
            return OCF.SUCCESS
        if ctx.is_probe:
            return OCF.NOT_RUNNING
        raise OCFError(summary, rc=problems[0].rc)

    def _fail(self, env: OcfEnv, log: Log, err: TextIO | None, rc: OCF, reason: str) -> OCF:
        """Write the ocf-exit-reason line (stderr) and log it; return rc."""
        line = " ".join(log.redact(reason).split())
        if log.trace is not None:
            log.trace.reason = line
        _write(err, f"{env.exit_reason_prefix}{line}\n")
        log.log("error", "%s", line, ignore_stderr=True)
        return rc

    def main(self) -> int:
        """Entry point of an agent executable: the node's own world."""
        return self.dispatch(sys.argv, os.environ)


def _write(stream: TextIO | None, text: str) -> str | None:
    """Write and flush text; None, or what went wrong (a closed stream, a reader
    gone, a full disk): never an exception. A stream that failed is pointed at
    /dev/null so that the interpreter's own flush at exit stays quiet."""
    if stream is None:
        return "the stream is closed"
    try:
        stream.write(text)
        stream.flush()
        return None
    except (OSError, ValueError) as error:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass
        return str(error) or type(error).__name__


def _summary(problems: Sequence[Problem]) -> str:
    return "; ".join(p.message for p in problems)
