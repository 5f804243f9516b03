"""drbd-py: a DRBD resource as a promotable clone (OCF 1.1).

A drop-in replacement for ocf:linbit:drbd (drbd-utils 9.22): same
parameters, defaults, promotion scores and exit codes, for DRBD 8.4 and 9
(chosen by the loaded module). What differs: one `drbdsetup events2 --now`
reads the whole state (one parser for both versions), the module version
comes from /proc/drbd, the promotion score is only written when it changes
(a recurring monitor of a steady resource runs one command), both
`Promoted` and `Master` are understood in `crm_resource --locate`, a failed
demote or stop names what holds the device open, a Primary that lost access
to UpToDate data reports 9, and every loop ends within the action's deadline.
"""

from __future__ import annotations

import os

from ocflib.agent import Action, Agent, Context
from ocflib.errors import ConfigError, GenericError, NotInstalledError
from ocflib.exitcodes import OCF
from ocflib.params import Boolean, Config, Fallback, Kind, Param, Problem, String, Version

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ocflib.drbdstate import Ladder, State
    from ocflib.run import Result

VERSION = "1.0"
# drbd.ocf's charset for resource names and the config path.
DRBD_NAME_CHARS = "-%+./0123456789:=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
# One drbdadm/drbdsetup/crm_resource call waits at most this long (the action's deadline
# bounds it too): a hung tool must leave time for the next look and the exit reason.
TOOL_TIMEOUT_S = 30.0
SCORE_CACHE_S = 60.0  # a recurring monitor re-writes an unchanged score this often
ROUND_S = 1.0  # what a loop keeps back for one more look at the state and its reason

# --- 1. Parameters ------------------------------------------------------------------

RESOURCE = Param(
    "drbd_resource",
    String(allowed=DRBD_NAME_CHARS),
    required=True,
    unique=True,
    shortdesc="drbd resource name",
    longdesc="The name of the DRBD resource, as defined in the DRBD configuration.",
)
DRBDCONF = Param(
    "drbdconf",
    String(allowed=DRBD_NAME_CHARS),
    default="/etc/drbd.conf",
    shortdesc="Path to drbd.conf",
    longdesc="Full path of the DRBD configuration file (drbdadm -c).",
)


class ScoreLadder(Kind["Ladder"]):
    """Four non-decreasing scores; anything else is the default with a warning, as
    the reference agent does."""

    def parse(self, text: str) -> Ladder:
        from ocflib.drbdstate import Ladder

        try:
            return Ladder.parse(text)
        except ValueError as err:
            default = " ".join(map(str, Ladder.DEFAULT))
            raise Fallback(f"{err}; the default {default} is used", Ladder()) from None


class PeerPrimaryMode(Kind[str]):
    """'unexpected', or a boolean with the reference's meaning: 'true' or 'false'."""

    def parse(self, text: str) -> str:
        if text.strip() == "unexpected":
            return "unexpected"
        try:
            return "true" if Boolean().parse(text) else "false"
        except Fallback as err:
            raise Fallback(str(err), "false") from None


ADJUST_SCORE = Param(
    "adjust_master_score",
    ScoreLadder(),
    default="0 10 1000 10000",
    shortdesc="master score adjustments",
    longdesc="Four non-decreasing promotion scores, for: only consistent data here; "
    "only a peer has UpToDate data; UpToDate data here while the peer's state is unknown "
    "(Secondary); UpToDate data here with the peer known, or Primary. A score of 0 or less "
    "removes the score: Pacemaker will not promote there. The first value is 0 so that a "
    "node that only knows its data is consistent, not that it is the latest, is not "
    "promoted. Diskless clients use the third or fourth value minus one. An invalid value "
    "is logged and the default used.",
)
STOP_OUTDATES = Param(
    "stop_outdates_secondary",
    Boolean(),
    default="false",
    shortdesc="outdate a secondary on stop",
    longdesc="When a Secondary is stopped (or a post notification sees the peer's disk "
    "unknown) while Pacemaker reports a Primary on another node, mark the local data "
    "Outdated in DRBD's meta data. An extra safety net; configure fencing in DRBD as well.",
)
IGNORE_NOTIFY = Param(
    "ignore_missing_notifications",
    Boolean(),
    default="false",
    shortdesc="ignore missing notify=true",
    longdesc="Run without clone notifications (notify=true is otherwise required).",
)
WFC_TIMEOUT = Param(
    "wfc_timeout",
    String(max_len=20),
    default="5",
    shortdesc="wait for connections with timeout",
    longdesc="Seconds start waits at most for the connections to be established. "
    "Empty or not a number: do not wait.",
)
REMOVE_IF_PEER_PRIMARY = Param(
    "remove_master_score_if_peer_primary",
    PeerPrimaryMode(),
    default="false",
    shortdesc="remove master score if we are connected to a primary peer",
    longdesc="true: keep no promotion score while connected to a healthy Primary peer. "
    "unexpected: the same, but only when Pacemaker knows of no Primary (crm_resource "
    "--locate; a likely cluster split brain). Anything else: false.",
)
FAIL_EARLY = Param(
    "fail_promote_early_if_peer_primary",
    Boolean(),
    default="false",
    shortdesc="try promote only once when connected to a primary peer",
    longdesc="Give up promote after the first failed attempt when a peer Primary that "
    "Pacemaker does not know of is seen, instead of retrying until the timeout.",
)
UNFENCE = Param(
    "unfence_if_all_uptodate",
    Boolean(),
    default="false",
    shortdesc="call unfence-peer when all disks are UpToDate",
    longdesc="When Primary and every disk, local and peer, is UpToDate, run "
    "`drbdadm unfence-peer` to remove a stale fencing constraint.",
)
UNFENCE_ARGS = Param(
    "unfence_extra_args",
    String(max_len=1000),
    default="--quiet --flock-required --flock-timeout 0 --unfence-only-if-owner-match",
    shortdesc="extra arguments for the unfence-peer handler",
    longdesc="Passed to the unfence-peer handler in OCF_RESKEY_unfence_extra_args.",
)
VERSION_GE = Param(
    "require_drbd_module_version_ge",
    Version(),
    default="8.0.0",
    shortdesc="minimum DRBD kernel module version",
    longdesc="The loaded DRBD module must be at least this version (x.y.z).",
)
VERSION_LT = Param(
    "require_drbd_module_version_lt",
    Version(),
    default="10.0.0",
    shortdesc="DRBD kernel module version bound (exclusive)",
    longdesc="The loaded DRBD module must be older than this version (x.y.z).",
)
CONNECT_AFTER_PROMOTE = Param(
    "connect_only_after_promote",
    Boolean(),
    default="false",
    shortdesc="connect only after promote",
    longdesc="Start with the network disconnected and connect only once promoted.",
)

PARAMS: Sequence[Param[object]] = (
    RESOURCE,
    DRBDCONF,
    ADJUST_SCORE,
    STOP_OUTDATES,
    IGNORE_NOTIFY,
    WFC_TIMEOUT,
    REMOVE_IF_PEER_PRIMARY,
    FAIL_EARLY,
    UNFENCE,
    UNFENCE_ARGS,
    VERSION_GE,
    VERSION_LT,
    CONNECT_AFTER_PROMOTE,
)

NEEDS_NOTIFY = ("start", "promote", "demote", "notify", "reload")

# --- 2. Checks ------------------------------------------------------------------------


def check_config(cfg: Config, ctx: Context) -> list[Problem]:
    """The configuration itself: names drbdadm would misread, notify (rc 6)."""
    problems = []
    for param in (RESOURCE, DRBDCONF):
        if (cfg.get(param) or "").startswith("-"):
            problems.append(
                Problem(
                    f"parameter {param.name}={cfg[param]!r} must not begin with "
                    "'-' (drbdadm would read it as an option)"
                )
            )
    if ctx.action in NEEDS_NOTIFY and not ctx.env.notify_enabled and not cfg[IGNORE_NOTIFY]:
        problems.append(
            Problem("the clone needs notify=true (or set ignore_missing_notifications=true)")
        )
    return problems


def check_local(cfg: Config, ctx: Context) -> list[Problem]:
    """This node: tools, module, its version, clone limits, config file."""
    if ctx.action == "stop":
        return []  # stop copes with all of it (and must not fail for it)
    problems = []
    for tool in ("drbdadm", "drbdsetup"):
        if ctx.runner.which(tool) is None:
            problems.append(Problem(f"{tool} is not installed", OCF.ERR_INSTALLED))
    if problems:
        return problems
    version = kernel_version(ctx)
    if version is None:
        return [Problem("DRBD kernel module not available", OCF.ERR_INSTALLED)]
    low, high = cfg[VERSION_GE], cfg[VERSION_LT]
    shown = ".".join(map(str, version))
    if not low <= version < high:
        bounds = f"[{'.'.join(map(str, low))}, {'.'.join(map(str, high))})"
        problems.append(
            Problem(f"DRBD module version {shown} is not within {bounds}", OCF.ERR_INSTALLED)
        )
    problems += clone_limits(ctx, version >= (9, 0, 0))
    if not os.access(cfg[DRBDCONF], os.R_OK):
        problems.append(
            Problem(f"cannot read the DRBD configuration {cfg[DRBDCONF]}", OCF.ERR_INSTALLED)
        )
    return problems


def clone_limits(ctx: Context, v9: bool) -> list[Problem]:
    """What drbd.ocf demands of the clone: one instance per node, one
    Primary per node, at most two Primaries, two instances for DRBD 8."""
    env = ctx.env
    clone_node_max = env.meta_int("clone_node_max") or 1
    promoted_node_max = env.promoted_node_max or 1
    promoted_max = env.promoted_max or 1
    clone_max = env.clone_max or 1
    problems = []
    if clone_node_max != 1:
        problems.append(Problem(f"clone-node-max must be 1 (is {clone_node_max})"))
    if promoted_node_max != 1:
        problems.append(Problem(f"promoted-node-max must be 1 (is {promoted_node_max})"))
    if promoted_max > 2:
        problems.append(Problem(f"promoted-max must be 1 or 2 (is {promoted_max})"))
    if clone_max > 2 and not (v9 and promoted_max != 2):
        problems.append(
            Problem(
                f"clone-max must be at most 2 (is {clone_max}) "
                + ("with promoted-max=2" if v9 else "with DRBD 8")
            )
        )
    return problems


def kernel_version(ctx: Context) -> tuple[int, int, int] | None:
    """The DRBD module's version: loaded (/proc/drbd), else what modinfo finds."""
    from ocflib.drbdstate import parse_version

    version = ctx.drbd.module_version()
    if version is not None:
        return version
    if ctx.runner.which("modinfo") is None:
        return None
    result = ctx.runner.run(["modinfo", "-F", "version", "drbd"], ok=None, timeout=10)
    return parse_version(result.stdout.strip()) if result.returncode == 0 else None


# --- 3. Commands and state -----------------------------------------------------------


def drbdadm(cfg: Config, *args: str) -> list[str]:
    return ["drbdadm", "-c", cfg[DRBDCONF], *args]


def read_state(cfg: Config, ctx: Context) -> State:
    from ocflib.drbdstate import parse_events2

    result = ctx.runner.run(
        ["drbdsetup", "events2", "--now", cfg[RESOURCE]], timeout=TOOL_TIMEOUT_S
    )
    return parse_events2(result.stdout, cfg[RESOURCE])


def check_defined(cfg: Config, ctx: Context) -> str:
    """The resource's device from the configuration; ERR_INSTALLED (after
    removing the score) when this host has no such resource."""
    result = ctx.runner.run(drbdadm(cfg, "sh-dev", cfg[RESOURCE]), ok=None, timeout=TOOL_TIMEOUT_S)
    if result.returncode != 0:
        set_drbd_score(cfg, ctx, None, force=True)
        detail = result.stderr.strip().splitlines()
        raise NotInstalledError(
            f"DRBD resource {cfg[RESOURCE]} is not defined in {cfg[DRBDCONF]} for this host"
            + (f" ({detail[-1]})" if detail else "")
        )
    return result.stdout.split()[0] if result.stdout.split() else ""


def failure(result: Result) -> str:
    """A short reason from a failed drbdadm/drbdsetup call: the kernel's
    'State change failed' text when there is one (exit reasons are cut at
    128 characters by Pacemaker)."""
    from ocflib.commandline import describe_failure

    argv = result.argv
    verb = argv[3] if len(argv) > 3 and argv[1] == "-c" else (argv[1] if len(argv) > 1 else "")
    for line in result.stderr.splitlines():
        _, sep, text = line.partition("State change failed: ")
        if sep:
            text = text.split(") ", 1)[-1].strip()
            return f"{result.argv[0]} {verb}: {text} (rc {result.returncode})"
    return describe_failure(result.argv, result.returncode, result.stderr)


def peer_names(state: State) -> str:
    """The Primary peers, for a reason (DRBD 8.4 calls every peer 'peer')."""
    names = [p.name for p in state.peers.values() if p.role == "Primary" and p.connected]
    named = [n for n in names if n and n != "peer"]
    if named:
        return "peer " + ", ".join(named)
    return "the peer" if names else ""


def holders_text(ctx: Context, state: State) -> str:
    holders = ctx.drbd.device_holders(state.minors)
    return ("device in use: " + ", ".join(holders) + "; ") if holders else ""


def wfc_seconds(cfg: Config) -> float | None:
    text = cfg.get(WFC_TIMEOUT) or ""
    return float(text) if text.strip().isdigit() else None


def two_primaries_allowed(cfg: Config, ctx: Context) -> None:
    """promoted-max=2 needs allow-two-primaries in the DRBD configuration."""
    if (ctx.env.promoted_max or 1) < 2:
        return
    result = ctx.runner.run(drbdadm(cfg, "dump", cfg[RESOURCE]), ok=None, timeout=TOOL_TIMEOUT_S)
    if "allow-two-primaries" not in result.stdout:
        raise ConfigError(
            f"promoted-max=2 needs allow-two-primaries in the net section "
            f"of DRBD resource {cfg[RESOURCE]}"
        )


# --- 4. Promotion score ---------------------------------------------------------------


def pacemaker_primaries(cfg: Config, ctx: Context) -> list[str]:
    """Nodes where Pacemaker has this resource promoted (crm_resource
    --locate prints `Promoted` since Pacemaker 2.1, `Master` before)."""
    from ocflib import cluster

    return cluster.promoted_nodes(ctx.runner, ctx.env.instance.split(":")[0], TOOL_TIMEOUT_S)


def score_for(cfg: Config, ctx: Context, state: State) -> object:
    """The score to set (int), None to delete, or KEEP."""
    from ocflib.drbdstate import promotion_score

    score = promotion_score(state, cfg[ADJUST_SCORE])
    if isinstance(score, int) and state.some_peer_primary and not state.primary:
        mode = cfg[REMOVE_IF_PEER_PRIMARY]
        healthy = any(
            p.role == "Primary" and p.connected and p.all_up_to_date for p in state.peers.values()
        )
        if healthy and mode == "true":
            return None
        if healthy and mode == "unexpected" and not pacemaker_primaries(cfg, ctx):
            ctx.log.warning(
                "connected to a Primary that Pacemaker does not know of; "
                "removing the promotion score"
            )
            return None
    return score


def _cache_path(ctx: Context) -> str:
    node = ctx.env.on_node or os.uname().nodename
    return os.path.join(ctx.env.rsctmp, f"drbd-py.{ctx.env.instance}.{node}.score")


def _read_cache(ctx: Context) -> tuple[str, float] | None:
    from ocflib.pidfiles import read_private_file

    got = read_private_file(_cache_path(ctx), 64)
    return (got[0].strip(), ctx.clock.time() - got[1]) if got else None


def _write_cache(ctx: Context, text: str) -> None:
    from ocflib.pidfiles import write_private_file

    try:
        write_private_file(_cache_path(ctx), text + "\n")
    except OSError as err:
        ctx.log.debug("cannot cache the promotion score: %s", err)


def set_drbd_score(
    cfg: Config, ctx: Context, score: object, *, force: bool = False, defer_lowering: bool = False
) -> None:
    """Make the node's promotion score `score` (int; None or <= 0 deletes it;
    KEEP leaves it). Unless forced, a score already written (cache younger
    than SCORE_CACHE_S) is not written again. defer_lowering: a positive
    score lowered to another positive one is left for the next monitor."""
    from ocflib import cluster
    from ocflib.drbdstate import KEEP

    if score is KEEP:
        return
    value = score if isinstance(score, int) and score > 0 else None
    text = "deleted" if value is None else str(value)
    if not force:
        cached = _read_cache(ctx)
        if cached is not None and cached[0] == text and cached[1] < SCORE_CACHE_S:
            return
        if (
            defer_lowering
            and value is not None
            and cached
            and cached[0].isdigit()
            and (int(cached[0]) > value)
        ):
            ctx.log.debug("promotion score %s -> %d left to the next monitor", cached[0], value)
            return
    from ocflib.errors import OCFError

    try:
        if value is None:
            cluster.delete_promotion_score(ctx.env, ctx.runner)
        else:
            cluster.set_promotion_score(ctx.env, ctx.runner, value)
    except OCFError as err:
        # The action's own outcome does not depend on it; the next one retries.
        ctx.log.warning(
            "cannot %s the promotion score: %s", "delete" if value is None else "set", err.reason
        )
        _write_cache(ctx, "unknown")
        return
    _write_cache(ctx, text)


def update_score(
    cfg: Config, ctx: Context, state: State, *, force: bool = False, defer_lowering: bool = False
) -> None:
    set_drbd_score(cfg, ctx, score_for(cfg, ctx, state), force=force, defer_lowering=defer_lowering)
    if (
        cfg[UNFENCE]
        and state.primary
        and state.disk_all_up_to_date
        and state.peer_disk_all_up_to_date
    ):
        ctx.runner.run(
            drbdadm(cfg, "unfence-peer", cfg[RESOURCE]),
            ok=None,
            timeout=TOOL_TIMEOUT_S,
            env={"OCF_RESKEY_unfence_extra_args": cfg[UNFENCE_ARGS]},
        )


def maybe_outdate_self(cfg: Config, ctx: Context, state: State) -> None:
    """stop_outdates_secondary: with a Primary elsewhere, mark our data Outdated."""
    if not cfg[STOP_OUTDATES]:
        return
    from ocflib.cluster import local_node_name

    notify = ctx.env.notify
    me = local_node_name(ctx.env, ctx.runner)
    stopping = set(notify.unames("stop"))
    primary = next((n for n in notify.unames("promoted") if n != me and n not in stopping), None)
    if primary is None:
        return
    if state.primary:
        ctx.log.crit(
            "resource internal SPLIT BRAIN: %s is Primary here while Pacemaker "
            "reports %s Primary; not outdating",
            cfg[RESOURCE],
            primary,
        )
        return
    ctx.log.info("%s is Primary: outdating the local data of %s", primary, cfg[RESOURCE])
    ctx.runner.run(drbdadm(cfg, "outdate", cfg[RESOURCE]), ok=None, timeout=TOOL_TIMEOUT_S)
    set_drbd_score(cfg, ctx, None, force=True)


# --- 5. Actions -------------------------------------------------------------------------


def load_module(cfg: Config, ctx: Context) -> None:
    if ctx.drbd.module_version() is not None:
        return
    params = ctx.runner.run(drbdadm(cfg, "sh-mod-parms"), ok=None, timeout=TOOL_TIMEOUT_S)
    argv = ["modprobe", "-s", "drbd"]
    if params.returncode == 0:
        argv += params.stdout.split()
    result = ctx.runner.run(argv, ok=None, timeout=60)
    if result.returncode != 0 or ctx.drbd.module_version() is None:
        raise NotInstalledError(f"cannot load the DRBD module: {failure(result)}")


def start(cfg: Config, ctx: Context) -> OCF:
    load_module(cfg, ctx)
    check_defined(cfg, ctx)
    two_primaries_allowed(cfg, ctx)
    v9 = (kernel_version(ctx) or (0, 0, 0)) >= (9, 0, 0)
    res = cfg[RESOURCE]
    if not cfg[CONNECT_AFTER_PROMOTE]:
        bring_up = [drbdadm(cfg, "adjust", res)]
    elif v9:
        bring_up = [drbdadm(cfg, "adjust", "--skip-net", res)]
    else:  # 8.4's drbdadm has no --skip-net; attach needs the resource and minor first
        bring_up = [drbdadm(cfg, verb, res) for verb in ("new-resource", "new-minor", "attach")]
    tries = 0
    last = ""
    while True:
        state = read_state(cfg, ctx)
        if state.primary:
            result = ctx.runner.run(drbdadm(cfg, "secondary", res), ok=None)
            if result.returncode != 0:
                raise GenericError(
                    f"{res} is Primary and cannot be demoted: "
                    f"{holders_text(ctx, state)}{failure(result)}"
                )
            ctx.deadline.nap(0.2)  # look again, never in a busy loop
            if ctx.deadline.expired():
                raise GenericError(f"{res} is still Primary after drbdadm secondary")
            continue
        attach_failed = any(v.disk == "Diskless" and not v.client for v in state.volumes)
        reconnect = state.standalone and not cfg[CONNECT_AFTER_PROMOTE]
        if state.configured and not attach_failed and not reconnect:
            break
        if tries == 2 or ctx.deadline.expired():
            raise GenericError(f"cannot bring up DRBD resource {res}: {last}")
        if not state.configured and tries == 0:
            ctx.runner.run(drbdadm(cfg, "check-resize", res), ok=None, timeout=TOOL_TIMEOUT_S)
        for argv in bring_up:  # each step may be done already: only the last one counts
            result = ctx.runner.run(argv, ok=None)
        tries += 1
        if result.returncode != 0:
            last = failure(result)
            ctx.deadline.nap(1.0)
    wfc = wfc_seconds(cfg)
    if wfc and not cfg[CONNECT_AFTER_PROMOTE]:
        state = wait_connected(cfg, ctx, min(wfc, ctx.deadline.remaining() - ROUND_S), state)
    update_score(cfg, ctx, state, force=True)
    return OCF.SUCCESS


def wait_connected(cfg: Config, ctx: Context, seconds: float, state: State) -> State:
    """Until every connection is up with the peers' disks known, or seconds pass."""
    end = ctx.deadline.now() + seconds
    while not (state.all_connected and not state.peer_disk_any_unknown):
        if ctx.deadline.now() >= end:
            ctx.log.info("%s: not connected after %.0f s; going on", cfg[RESOURCE], seconds)
            break
        ctx.deadline.nap(0.1)
        state = read_state(cfg, ctx)
    return state


def stop(cfg: Config, ctx: Context) -> OCF:
    if cfg.get(RESOURCE) is None:
        return OCF.SUCCESS
    res = cfg[RESOURCE]
    if ctx.drbd.module_version() is None:
        set_drbd_score(cfg, ctx, None, force=True)
        return OCF.SUCCESS
    if ctx.runner.which("drbdsetup") is None:
        raise NotInstalledError("drbdsetup is not installed: cannot stop DRBD")
    state = read_state(cfg, ctx)
    while state.configured:
        if state.primary:
            result = ctx.runner.run(drbdadm(cfg, "secondary", res), ok=None)
        else:
            result = ctx.runner.run(drbdadm(cfg, "down", res), ok=None)
            if result.returncode != 0:
                # drbdadm needs a readable configuration; drbdsetup does not.
                result = ctx.runner.run(["drbdsetup", "down", res], ok=None)
        if result.returncode != 0:
            last = holders_text(ctx, state) + failure(result)
            ctx.deadline.nap(0.5)
            if ctx.deadline.remaining() < ROUND_S:  # no time for another look and try
                raise GenericError(f"cannot stop DRBD resource {res}: {last}")
        state = read_state(cfg, ctx)
    maybe_outdate_self(cfg, ctx, state)
    set_drbd_score(cfg, ctx, None, force=True)
    return OCF.SUCCESS


def _throttle(ctx: Context) -> None:
    """drbd.ocf's pause after a failed promote: a retry loop of start and
    promote by Pacemaker is slowed to one try per 15 s."""
    ctx.deadline.nap(15.0 - ctx.deadline.elapsed())


def promote(cfg: Config, ctx: Context) -> OCF:
    res = cfg[RESOURCE]
    state = read_state(cfg, ctx)
    if not state.configured:
        raise GenericError(f"cannot promote {res}: it is not started here")
    if not state.primary:
        two_primaries_allowed(cfg, ctx)
        first = True
        while True:
            result = ctx.runner.run(drbdadm(cfg, "primary", res), ok=None)
            if result.returncode == 0:
                break
            reason = failure(result)
            if result.returncode == 17:
                _throttle(ctx)
                ctx.log.error("%s", reason)
                raise GenericError(
                    f"cannot promote {res}: no access to UpToDate data "
                    f"(local disk {'/'.join(state.disks)})"
                )
            state = read_state(cfg, ctx)
            peers = peer_names(state)
            if peers:
                reason = f"{peers} is Primary; {reason}"
                if cfg[FAIL_EARLY] and not first and not [n for n in pacemaker_primaries(cfg, ctx)]:
                    raise GenericError(
                        f"cannot promote {res}: {reason} (unknown to Pacemaker; giving up early)"
                    )
            first = False
            ctx.deadline.nap(1.0)
            if ctx.deadline.remaining() < 2.0:
                raise GenericError(f"cannot promote {res}: {reason}")
    if cfg[CONNECT_AFTER_PROMOTE]:
        ctx.runner.run(drbdadm(cfg, "adjust", res), ok=None)
        state = read_state(cfg, ctx)
    else:
        state.role = "Primary"  # what drbdadm just did; the disks did not change
    update_score(cfg, ctx, state)
    return OCF.SUCCESS


def demote(cfg: Config, ctx: Context) -> OCF:
    res = cfg[RESOURCE]
    state = read_state(cfg, ctx)
    if not state.configured:
        raise GenericError(f"cannot demote {res}: it is not running here")
    while state.primary:
        result = ctx.runner.run(drbdadm(cfg, "secondary", res), ok=None)
        if result.returncode == 0:
            state.role = "Secondary"
            break
        reason = holders_text(ctx, state) + failure(result)
        ctx.deadline.nap(0.5)
        if ctx.deadline.remaining() < ROUND_S:
            raise GenericError(f"cannot demote {res}: {reason}")
        state = read_state(cfg, ctx)
    update_score(cfg, ctx, state)
    return OCF.SUCCESS


def monitor(cfg: Config, ctx: Context) -> OCF:
    state = read_state(cfg, ctx)
    if not state.configured:
        if not ctx.is_probe:
            check_defined(cfg, ctx)
            set_drbd_score(cfg, ctx, None)
        return OCF.NOT_RUNNING
    update_score(cfg, ctx, state, force=ctx.is_probe)
    if not state.primary:
        return OCF.SUCCESS
    if not state.data_accessible:
        from ocflib.errors import OCFError

        why = (
            "quorum lost"
            if not state.have_quorum
            else (f"local disk {'/'.join(state.disks)} and no connected peer with UpToDate data")
        )
        raise OCFError(
            f"{cfg[RESOURCE]} is Primary without access to good data: {why}", rc=OCF.FAILED_PROMOTED
        )
    return OCF.RUNNING_PROMOTED


def notify(cfg: Config, ctx: Context) -> OCF:
    info = ctx.env.notify
    res = cfg[RESOURCE]
    reconnect = info.operation == "start" and not cfg[CONNECT_AFTER_PROMOTE]
    if not reconnect and info.type != "post":
        return OCF.SUCCESS  # pre-promote, pre-demote, pre-stop: nothing to do (fast)
    state = read_state(cfg, ctx)
    if not state.configured:
        return OCF.SUCCESS
    # A peer is (re)starting: make sure we are listening for it.
    listening = not (state.standalone or not state.peers)
    if reconnect and not listening:
        ctx.runner.run(drbdadm(cfg, "adjust", res), ok=None)
        state = read_state(cfg, ctx)
    if info.type == "post":
        # Lowering 10000 to 1000 when the peer just left (post-demote/post-stop
        # of a failover) would rewrite the score twice and abort Pacemaker's
        # transition twice on the way to promoting this very node: the next
        # monitor lowers it. Deletion (data not trustworthy) is never deferred.
        update_score(cfg, ctx, state, defer_lowering=True)
        if state.peer_disk_any_unknown:
            maybe_outdate_self(cfg, ctx, state)
    return OCF.SUCCESS


def reload(cfg: Config, ctx: Context) -> OCF:
    state = read_state(cfg, ctx)
    if not state.configured:
        return OCF.NOT_RUNNING
    ctx.runner.run(drbdadm(cfg, "adjust", cfg[RESOURCE]))
    update_score(cfg, ctx, read_state(cfg, ctx), force=True)
    return OCF.SUCCESS


def status(cfg: Config, ctx: Context) -> OCF:
    state = read_state(cfg, ctx)
    if not state.configured:
        return OCF.NOT_RUNNING
    return OCF.RUNNING_PROMOTED if state.primary else OCF.SUCCESS


def validate(cfg: Config, ctx: Context) -> OCF:
    if ctx.env.check_level >= 10:
        check_defined(cfg, ctx)
    return OCF.SUCCESS


AGENT = Agent(
    "drbd-py",
    version=VERSION,
    shortdesc="Manages a DRBD device as a Master/Slave resource",
    longdesc="Runs a DRBD resource as a promotable clone: Secondary when started, Primary "
    "when promoted, with promotion scores that tell Pacemaker where the good data is.\n\n"
    "drbd-py is a drop-in replacement for ocf:linbit:drbd for DRBD 8.4 and 9, in Python on "
    "ocflib: the same parameters and defaults, and the same exit codes but for these: a "
    "probe on a node without the DRBD module, or with the clone's notify or limits "
    "missing, is 7 (drbd: 5, 6) and stop without the module 0; monitor of a Primary "
    "without access to good data is 9 (drbd: 8); reload of a stopped resource is 7 "
    "(drbd: 1). One drbdsetup events2 call reads "
    "the state, the score is written only when it changes, a failed demote names what holds "
    "the device, and every wait ends within the action's timeout.\n\n"
    "To avoid diverging data, enable DRBD quorum with on-no-quorum io-error, or fencing "
    "resource-and-stonith in DRBD together with fencing in Pacemaker.",
    params=PARAMS,
    actions=(
        Action("start", start, timeout=240),
        Action("promote", promote, timeout=90),
        Action("demote", demote, timeout=90),
        Action("notify", notify, timeout=90, never_fails=True),
        Action("stop", stop, timeout=100),
        Action("monitor", monitor, timeout=20, interval=20, role="Unpromoted"),
        Action("monitor", monitor, timeout=20, interval=10, role="Promoted"),
        Action("reload", reload, timeout=30),
        Action("status", status, timeout=20),
        Action("validate-all", validate, timeout=30),
        Action("meta-data", timeout=5),
    ),
    check_config=check_config,
    check_local=check_local,
)
