"""galera-py: MariaDB Galera as a promotable clone (OCF 1.1), Active/Active.

A drop-in replacement for ocf:heartbeat:galera: the same parameters and
defaults, the same roles (Unpromoted: server stopped, its last committed
position published; Promoted: server running in the primary component) and
the same node attributes (<rsc>-last-committed, -safe-to-bootstrap,
-no-grastate, -bootstrap), so a cluster can switch agents node by node.

What it adds (docs/agents.md, 'galera-py'): a monitor that calls a node Promoted only when
it can commit, a login that passes no password in argv and survives
max_connections, a recovered start position for IST after a crash, honest
progress and a clear reason when a state transfer outlasts promote, and an
election that does not wait forever for a node that is known to be behind.
"""

from __future__ import annotations

import os

from ocflib.agent import Agent, Context
from ocflib.agents.mysql_server import (
    DATADIR,
    GROUP,
    LAUNCHERS,
    SERVER_PARAMS,
    SOCKET,
    START_PARAMS,
    USER,
    VERSION,
    binary,
    check_local,
    check_peer,
    command_line,
    failed_to_start,
    launch,
    prepare,
    promotable_actions,
    server_process,
    stop_server,
)
from ocflib.errors import ConfigError, GenericError, NotInstalledError, OCFError
from ocflib.exitcodes import OCF
from ocflib.params import Boolean, Config, Param, Problem, String

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from ocflib.galerastate import Election, GraState, NodeView, Position
    from ocflib.pacemaker import ClusterView

# --- 1. Parameters (beyond mysql's) ------------------------------------------------------------

WSREP_CLUSTER_ADDRESS = Param(
    "wsrep_cluster_address",
    String(max_len=4096),
    required=True,
    default="",
    shortdesc="Galera cluster address",
    longdesc="The galera cluster address, gcomm://node,node,node. Only nodes of this "
    "list may run an instance; the names are Pacemaker node names unless "
    "cluster_host_map maps them.",
)
CLUSTER_HOST_MAP = Param(
    "cluster_host_map",
    String(max_len=4096),
    default="",
    shortdesc="Pacemaker to Galera name mapping",
    longdesc="pcmk1:galera1;pcmk2:galera2;... when the names in wsrep_cluster_address "
    "are not the Pacemaker node names (for example addresses on a dedicated network).",
)
CHECK_USER = Param(
    "check_user",
    String(max_len=80),
    default="",
    shortdesc="MySQL test user",
    longdesc="The user whose login reads the wsrep status. Empty: MYSQL_USERNAME of "
    "/etc/sysconfig/clustercheck or /etc/default/clustercheck (read as KEY=VALUE "
    "lines, never run), else root.",
)
CHECK_PASSWD = Param(
    "check_passwd",
    String(max_len=256),
    default="",
    secret=True,
    shortdesc="check password",
    longdesc="Password of check_user (never in argv or logs). Empty: MYSQL_PASSWORD of "
    "the clustercheck file; an empty password is used only with check_passwd_use_empty.",
)
CHECK_PASSWD_USE_EMPTY = Param(
    "check_passwd_use_empty",
    Boolean(),
    default="0",
    shortdesc="check password use empty",
    longdesc="Log in with an empty password (check_passwd is ignored).",
)
TWO_NODE_MODE = Param(
    "two_node_mode",
    Boolean(),
    default="false",
    shortdesc="Special recovery when running on a 2-node cluster",
    longdesc="In a 2-node cluster, the node that survived a split (its partition is "
    "quorate and the peer is cleanly fenced) may bootstrap without the peer's "
    "position. Needs fencing: ignored, with a warning, when stonith-enabled is false.",
)

PARAMS: Sequence[Param[object]] = (
    *SERVER_PARAMS,
    *START_PARAMS,
    WSREP_CLUSTER_ADDRESS,
    CLUSTER_HOST_MAP,
    CHECK_USER,
    CHECK_PASSWD,
    CHECK_PASSWD_USE_EMPTY,
    TWO_NODE_MODE,
)

PROMOTED_SCORE = 100
NON_PRIMARY_GRACE = 10.0  # s a member may be seen out of the primary component before it fails
STATUS_SQL = "SHOW GLOBAL STATUS LIKE 'wsrep\\_%'"

# --- 2. Names: galera's and Pacemaker's ------------------------------------------------------


def galera_nodes(cfg: Config) -> list[str]:
    """The node names of wsrep_cluster_address, in order (options after ? dropped)."""
    text = cfg.get(WSREP_CLUSTER_ADDRESS) or ""
    if text.startswith("gcomm://"):
        text = text[len("gcomm://") :]
    text = text.split("?", 1)[0]
    return [n.strip() for n in text.split(",") if n.strip()]


def host_map(cfg: Config) -> list[tuple[str, str]]:
    """cluster_host_map as (pacemaker, galera) pairs."""
    pairs = []
    for item in (cfg.get(CLUSTER_HOST_MAP) or "").split(";"):
        pcmk, sep, galera = item.replace(" ", "").partition(":")
        if sep and pcmk and galera:
            pairs.append((pcmk, galera))
    return pairs


def to_pcmk(cfg: Config, galera: str) -> str | None:
    pairs = host_map(cfg)
    if not pairs:
        return galera
    return next((p for p, g in pairs if g == galera), None)


def to_galera(cfg: Config, pcmk: str) -> str | None:
    pairs = host_map(cfg)
    if not pairs:
        return pcmk
    return next((g for p, g in pairs if p == pcmk), None)


def _same_host(entry: str, name: str) -> bool:
    """An address entry names this node: exactly, with a :port, as its FQDN, or
    by its short name when the node's name is an FQDN."""
    host = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
    return name in (entry, host) or host.startswith(name + ".") or name.startswith(host + ".")


def member_named(host: str, members: Collection[str]) -> str:
    """The Pacemaker node an unmapped address entry names: itself when it is a
    member, else the one member whose first label it shares (node1.example.com
    names node1, node1 names node1.example.com); unchanged when there is none, or
    more than one, or host is an IPv4 address."""
    if not members or host in members or host.replace(".", "").isdigit():
        return host
    short = host.split(".", 1)[0]
    found = [m for m in members if m.split(".", 1)[0] == short]
    return found[0] if len(found) == 1 else host


def pcmk_nodes(cfg: Config, members: Collection[str] = ()) -> list[str]:
    """The Pacemaker names of the galera nodes (without a :port when unmapped,
    matched to Pacemaker's members by name when those are given: FQDNs in
    wsrep_cluster_address for short node names, or the other way round);
    ConfigError when one has none."""
    names = []
    for g in galera_nodes(cfg):
        p = to_pcmk(cfg, g)
        if p is None:
            raise ConfigError(f"Could not determine pacemaker node from galera name <{g}>.")
        if not host_map(cfg):
            if p.count(":") == 1:
                p = p.split(":", 1)[0]
            p = member_named(p, members)
        names.append(p)
    return names


def check_config(cfg: Config, ctx: Context) -> list[Problem]:
    problems = []
    address = cfg.get(WSREP_CLUSTER_ADDRESS) or ""
    if not address:
        problems.append(Problem("Galera must be configured with a wsrep_cluster_address value."))
    elif not address.startswith("gcomm://"):
        problems.append(
            Problem(f"wsrep_cluster_address [{address}] must have the form gcomm://node,node,...")
        )
    elif not galera_nodes(cfg):
        problems.append(Problem(f"wsrep_cluster_address [{address}] names no node"))
    for item in (cfg.get(CLUSTER_HOST_MAP) or "").split(";"):
        if item.strip() and ":" not in item:
            problems.append(Problem(f"cluster_host_map entry [{item.strip()}] is not pcmk:galera"))
    if ctx.action == "start" and not ctx.env.is_promotable:
        problems.append(Problem("Galera must be configured as a multistate Master/Slave resource."))
    return problems


def _local(cfg: Config, ctx: Context) -> tuple[str, str]:
    """(Pacemaker name, galera name) of this node; ConfigError when it is not in
    wsrep_cluster_address."""
    from ocflib import cluster

    me = cluster.local_node_name(ctx.env, ctx.runner)
    galera = to_galera(cfg, me)
    if galera is None:
        raise ConfigError(f"Could not determine galera name from pacemaker node <{me}>.")
    if not any(_same_host(entry, galera) for entry in galera_nodes(cfg)):
        raise ConfigError(
            f"local node <{me}> (galera node <{galera}>) must be a member of the "
            f"wsrep_cluster_address <{cfg[WSREP_CLUSTER_ADDRESS]}> to start this galera instance"
        )
    return me, galera


# --- 3. Node attributes ------------------------------------------------------------------------


def _base(ctx: Context) -> str:
    return ctx.env.instance.split(":", 1)[0]


def attr(ctx: Context, suffix: str) -> str:
    return f"{_base(ctx)}-{suffix}"


def set_attr(ctx: Context, node: str, suffix: str, value: str, lifetime: str = "reboot") -> None:
    from ocflib import cluster

    cluster.set_node_attribute(ctx.runner, node, attr(ctx, suffix), value, lifetime=lifetime)


def clear_attr(ctx: Context, node: str, suffix: str, lifetime: str = "reboot") -> None:
    from ocflib import cluster

    cluster.delete_node_attribute(ctx.runner, node, attr(ctx, suffix), lifetime=lifetime)


def get_attr(ctx: Context, node: str, suffix: str, lifetime: str = "reboot") -> str | None:
    from ocflib import cluster

    return cluster.get_node_attribute(ctx.runner, node, attr(ctx, suffix), lifetime=lifetime)


def set_score(ctx: Context, node: str | None, score: int | None) -> None:
    from ocflib import cluster

    if score is None:
        cluster.delete_promotion_score(ctx.env, ctx.runner, node=node)
    else:
        cluster.set_promotion_score(ctx.env, ctx.runner, score, node=node)


def cluster_view(ctx: Context) -> ClusterView:
    from ocflib import cluster

    return cluster.cluster_view(ctx.runner, _base(ctx))


def master_exists(ctx: Context, view: ClusterView, me: str) -> bool:
    """A healthy Promoted instance on another node (never during a demote: the
    instances seen may be on their way down)."""
    return ctx.action != "demote" and bool(view.promoted - {me})


# --- 4. The node's position -------------------------------------------------------------------


def _read_small(path: str, limit: int) -> str | None:
    """A small regular file's text (never a FIFO, device or symlink), or None."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        return os.read(fd, limit).decode("utf-8", "replace")
    finally:
        os.close(fd)


def grastate_path(cfg: Config) -> str:
    return os.path.join(cfg[DATADIR], "grastate.dat")


def read_grastate(cfg: Config) -> GraState | None:
    from ocflib.galerastate import GRASTATE_MAX, parse_grastate

    text = _read_small(grastate_path(cfg), GRASTATE_MAX)
    return None if text is None else parse_grastate(text)


def _position_file(ctx: Context) -> str:
    return os.path.join(ctx.env.rsctmp, f"galera-py-{ctx.env.instance.replace('/', '_')}.position")


def detect_safe_to_bootstrap(ctx: Context, me: str, state: GraState | None) -> None:
    """Publish grastate.dat's safe_to_bootstrap (as the reference: only with a
    history, and a 1 only with a real seqno)."""
    flag = state.safe_to_bootstrap if state is not None and state.has_history else None
    if flag == "1" and (state is None or state.seqno is None or state.seqno < 0):
        flag = None
    if flag is None:
        clear_attr(ctx, me, "safe-to-bootstrap")
    else:
        set_attr(ctx, me, "safe-to-bootstrap", flag)


def detect_last_commit(cfg: Config, ctx: Context, me: str) -> None:
    """Find this node's last committed position and publish it: grastate.dat,
    else mariadbd --wsrep-recover (rolling back prepared XA transactions when
    recovery stops at them, as the reference does). The whole uuid:seqno is
    kept in our own file for promote (the start position for IST)."""
    gvw = os.path.join(cfg[DATADIR], "gvwstate.dat")
    if os.path.lexists(gvw) and getattr(servers_file(cfg, ctx, gvw), "st_size", None) == 0:
        ctx.log.warning("empty %s detected, removing it to prevent PC recovery failure", gvw)
        _unlink(ctx, gvw)
    state = read_grastate(cfg)
    detect_safe_to_bootstrap(ctx, me, state)
    position = state.position if state is not None else None
    seqno: int | None = state.seqno if position is not None and state is not None else None
    published = str(seqno)
    sst = False  # a heuristic rollback happened: the node rejoins by a full SST
    if position is None:
        if state is None:
            set_attr(ctx, me, "no-grastate", "true")  # avoid bootstrapping from here
        ctx.log.info("detecting the last commit with --wsrep-recover")
        found, log = wsrep_recover(cfg, ctx, rollback=False)
        if found is None:
            from ocflib.galerastate import prepared_transactions

            if prepared_transactions(log):
                ctx.log.warning(
                    "local node <%s> was not shut down properly: rolling back the stuck "
                    "transaction with --tc-heuristic-recover",
                    me,
                )
                found, log = wsrep_recover(cfg, ctx, rollback=True)
                if found is not None:
                    ctx.log.warning("state recovered: SST forced at next restart")
                    if state is not None and servers_file(cfg, ctx, grastate_path(cfg)):
                        _unlink(ctx, grastate_path(cfg))
                    set_attr(ctx, me, "no-grastate", "true")
                    sst = True
        if found is not None:
            # After a heuristic rollback the node's data may differ from what its
            # position says: no start position is kept, so it joins by SST.
            position = None if sst else found.text
            seqno = found.seqno
            published = found.published
    if seqno is None:
        clear_attr(ctx, me, "last-committed")
        ctx.procs.remove_own_file(_position_file(ctx), ctx.log.warning)
        raise GenericError("Unable to detect last known write sequence number")
    ctx.log.info("Last commit version found: %s", published)
    set_attr(ctx, me, "last-committed", published)
    if position is None:  # SST forced: nothing for promote to pass on
        ctx.procs.remove_own_file(_position_file(ctx), ctx.log.warning)
        return
    try:
        from ocflib.pidfiles import write_private_file

        os.makedirs(ctx.env.rsctmp, exist_ok=True)
        write_private_file(_position_file(ctx), position + "\n")
    except OSError as err:
        ctx.log.warning("cannot keep the position in %s: %s", ctx.env.rsctmp, err.strerror)


def servers_file(cfg: Config, ctx: Context, path: str) -> os.stat_result | None:
    """The stat of path when it is a regular file (not a link) of the server's
    user or root: a file of Galera's that the agent may replace or remove."""
    import stat

    try:
        st = os.lstat(path)
    except OSError:
        return None
    account = ctx.accounts.user(cfg[USER])
    owners = {0} | ({account.uid} if account is not None else set())
    if not stat.S_ISREG(st.st_mode) or st.st_uid not in owners:
        ctx.log.warning("%s is not a file of %s: left alone", path, cfg[USER])
        return None
    return st


def _unlink(ctx: Context, path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        ctx.log.warning("cannot remove %s: %s", path, err.strerror)


def server_binary(cfg: Config, ctx: Context) -> str:
    """The server program itself (mariadbd/mysqld): binary, or the one beside
    or on PATH when binary is a launcher (mysqld_safe)."""
    path = binary(cfg, ctx)
    if os.path.basename(path) not in LAUNCHERS:
        return path
    for name in ("mariadbd", "mysqld"):
        for directory in (os.path.dirname(path), "/usr/sbin", "/usr/libexec"):
            candidate = os.path.join(directory, name)
            if os.access(candidate, os.X_OK):
                return candidate
        found = ctx.runner.which(name)
        if found:
            return found
    raise NotInstalledError(f"no mariadbd or mysqld found for {path}")


def wsrep_recover(cfg: Config, ctx: Context, *, rollback: bool) -> tuple[Position | None, str]:
    """Run the server with --wsrep-recover (as user) into a log of ours; the
    recovered position if any, and the log's text."""
    from ocflib.galerastate import recovered_position

    account = ctx.accounts.user(cfg[USER])
    gid = ctx.accounts.group(cfg[GROUP])
    if account is None or gid is None:
        raise NotInstalledError(f"User {cfg[USER]} or group {cfg[GROUP]} doesn't exist")
    os.makedirs(ctx.env.rsctmp, exist_ok=True)
    log = os.path.join(ctx.env.rsctmp, f"galera-py-{_base(ctx)}.recover.log")
    ctx.procs.remove_own_file(log, ctx.log.warning)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchown(fd, account.uid, gid)
    finally:
        os.close(fd)
    extra = ["--wsrep-recover"] + (["--tc-heuristic-recover=rollback"] if rollback else [])
    argv = command_line(cfg, ctx, extra, program=server_binary(cfg, ctx), log=log)
    result = ctx.runner.run(argv, ok=None)
    # What the server printed before it opened its log (an early abort) counts too.
    text = (_read_small(log, 1 << 20) or "") + result.stderr + result.stdout
    ctx.procs.remove_own_file(log, ctx.log.warning)
    found = recovered_position(text)
    if found is None:
        ctx.log.info(
            "--wsrep-recover found no position (rc %d): %s",
            result.returncode,
            " | ".join(text.strip().splitlines()[-3:]),
        )
    return found, text


def allow_bootstrap(cfg: Config, ctx: Context) -> None:
    """Set safe_to_bootstrap: 1 in grastate.dat (the elected node after a crash).

    The file is replaced only when it is a small regular file of the server's
    user or root that parses as a grastate.dat; the new one keeps its owner
    and mode."""
    import stat

    from ocflib.galerastate import GRASTATE_MAX, parse_grastate, with_safe_to_bootstrap

    path = grastate_path(cfg)
    if not os.path.lexists(path):
        return  # no file: nothing forbids the bootstrap
    st = servers_file(cfg, ctx, path)
    text = _read_small(path, GRASTATE_MAX)
    if st is None or text is None or not parse_grastate(text).has_history:
        raise GenericError(f"{path} is not a grastate.dat of {cfg[USER]}: left alone")
    tmp = f"{path}.pyha-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, with_safe_to_bootstrap(text).encode())
        os.fchown(fd, st.st_uid, st.st_gid)
        os.fchmod(fd, stat.S_IMODE(st.st_mode))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    ctx.log.info("safe_to_bootstrap in %s set to 1", path)


# --- 5. The election ---------------------------------------------------------------------------


def own_history(cfg: Config, ctx: Context) -> str | None:
    """The cluster history (state UUID) of this node's data: grastate.dat's, else
    the position recovered at start."""
    state = read_grastate(cfg)
    if state is not None and state.has_history:
        return (state.uuid or "").lower()
    from ocflib.galerastate import parse_position
    from ocflib.pidfiles import read_private_file

    got = read_private_file(_position_file(ctx), 256)
    position = parse_position(got[0]) if got and got[0].strip() else None
    return position.uuid if position is not None else None


def left_at_record(cfg: Config, ctx: Context, node: str, history: str | None) -> int | None:
    """A node's departure record (<rsc>-left-at, permanent), when it was written in
    the history this node's data belongs to; a record of another history (an old
    CIB restored, a cluster made anew) or of none (an older pyha's) is not used."""
    from ocflib.galerastate import parse_left_at

    text = get_attr(ctx, node, "left-at", lifetime="forever")
    record = parse_left_at(text)
    if record is None:
        return None
    uuid, seqno = record
    if uuid is None or uuid != history:
        ctx.log.info(
            "%s's departure record %s is not of this cluster's history %s: not used",
            node,
            text,
            history or "(unknown)",
        )
        return None
    return seqno


def node_views(cfg: Config, ctx: Context, view: ClusterView) -> list[NodeView]:
    from ocflib.galerastate import NodeView, seqno_value

    views = []
    history: list[str | None] = []  # read once, when a record is needed
    for node in pcmk_nodes(cfg, view.members):
        attrs = view.attrs.get(node, {})
        last = seqno_value(attrs.get(attr(ctx, "last-committed")))
        left_at = None
        if last is None:  # permanent: kept while the node is away
            if not history:
                history.append(own_history(cfg, ctx))
            left_at = left_at_record(cfg, ctx, node, history[0])
        views.append(
            NodeView(
                node,
                last_committed=last,
                safe_to_bootstrap=attrs.get(attr(ctx, "safe-to-bootstrap")) == "1",
                no_grastate=attrs.get(attr(ctx, "no-grastate")) == "true",
                left_at=left_at,
                online=node in view.online,
            )
        )
    return views


def two_node_survivor(cfg: Config, ctx: Context, view: ClusterView, me: str) -> bool:
    """two_node_mode: this node survived a split of a 2-node cluster, so it may
    bootstrap: 2 members, this partition alone and quorate, the peer cleanly
    fenced (offline and not unclean), and fencing enabled."""
    if not cfg[TWO_NODE_MODE] or len(view.members) != 2:
        return False
    if not view.stonith:
        ctx.log.warning("two_node_mode ignored: it needs fencing, and stonith-enabled is false")
        return False
    peer_clean = all(n in view.online or n not in view.unclean for n in view.members)
    if view.online == {me} and view.quorate and peer_clean:
        ctx.log.warning("Survived a split in a 2-node cluster, considering ourselves safe")
        return True
    return False


def run_election(cfg: Config, ctx: Context, view: ClusterView, me: str) -> Election:
    """The election on this view (this node counted safe when it survived a
    two-node split)."""
    from ocflib.galerastate import elect

    nodes = node_views(cfg, ctx, view)
    if two_node_survivor(cfg, ctx, view, me):
        refuse_stale_survivor(cfg, ctx, view, me)
        for n in nodes:
            if n.name == me:
                n.safe_to_bootstrap = True
    return elect(nodes)


def refuse_stale_survivor(cfg: Config, ctx: Context, view: ClusterView, me: str) -> None:
    """two_node_mode's survivor must not be the node that left first: when the
    peer recorded this node's departure (<rsc>-left-at) it stayed in the primary
    component and may have committed more before it was fenced. GenericError
    with what the administrator can do."""
    from ocflib.galerastate import parse_left_at

    left_at = get_attr(ctx, me, "left-at", lifetime="forever")
    record = parse_left_at(left_at)
    if record is None or (record[0] is not None and record[0] != own_history(cfg, ctx)):
        return
    peers = [n for n in pcmk_nodes(cfg, view.members) if n != me] or ["the peer"]
    raise GenericError(
        f"two_node_mode: this node left the primary component at seqno {left_at} while "
        f"{peers[0]} stayed in it, and {peers[0]} may have committed more before it was "
        f"fenced: bootstrapping here could lose those commits. Start {peers[0]} again; "
        "only if its data is lost for good, clear the record "
        f"(crm_attribute -N {me} -l forever -n {attr(ctx, 'left-at')} -D) and run "
        "crm resource cleanup"
    )


def marked(ctx: Context, view: ClusterView) -> set[str]:
    """The nodes marked to bootstrap (<rsc>-bootstrap) in this view."""
    name = attr(ctx, "bootstrap")
    return {node for node, values in view.attrs.items() if values.get(name) == "true"}


def detect_first_master(cfg: Config, ctx: Context, view: ClusterView, me: str) -> Election:
    """Run the election and, when it names a node, mark it to bootstrap; an
    earlier election's mark on another node is taken back (one mark at most)."""
    election = run_election(cfg, ctx, view, me)
    if election.bootstrap is None:
        ctx.log.info("Waiting before any instance is promoted: %s", election.why)
        return election
    for stale in sorted(marked(ctx, view) - {election.bootstrap}):
        ctx.log.info("%s is no longer the bootstrap node: its mark is cleared", stale)
        clear_attr(ctx, stale, "bootstrap")
        set_score(ctx, stale, None)
    ctx.log.info("Promoting %s to be our bootstrap node: %s", election.bootstrap, election.why)
    set_attr(ctx, election.bootstrap, "bootstrap", "true")
    set_score(ctx, election.bootstrap, PROMOTED_SCORE)
    return election


def still_elected(cfg: Config, ctx: Context, view: ClusterView, me: str) -> bool:
    """promote's last check before a bootstrap, on a fresh view: no other marked
    node is being promoted, and the election does not now name another node (it
    may name none when a node's position went away since: the mark stands)."""
    others = marked(ctx, view) - {me}
    busy = sorted(others & (view.promoting | view.promoted))
    if busy:
        ctx.log.warning("%s is being promoted to bootstrap the cluster: not this node", busy[0])
        return False
    election = run_election(cfg, ctx, view, me)
    if election.bootstrap not in (None, me):
        ctx.log.warning(
            "%s is to bootstrap the cluster, not this node: %s", election.bootstrap, election.why
        )
        return False
    return True


def _size_file(ctx: Context) -> str:
    return os.path.join(ctx.env.rsctmp, f"galera-py-{_base(ctx)}.size")


def record_departures(cfg: Config, ctx: Context, status: dict[str, str | None], me: str) -> None:
    """Note, for a node that left the primary component while this one stayed,
    that it cannot be more advanced than this node is now (<rsc>-left-at,
    permanent): the election then need not wait for it. Done only when the
    component shrank since the last monitor, and only when Pacemaker's view agrees with
    Galera's (exactly cluster_size nodes Promoted), so a node still in the
    component is never marked. The record is "history-uuid:seqno": it can never
    excuse a node in another history.

    This node's own record goes when it is seen in a new membership (a new
    wsrep_cluster_conf_id since the last monitor): it is in the primary component,
    so whatever recorded its departure is over (a partition that healed by itself,
    without a promote)."""
    from ocflib.galerastate import is_uuid, seqno_value
    from ocflib.pidfiles import read_private_file, write_private_file

    size = seqno_value(status.get("wsrep_cluster_size"))
    committed = seqno_value(status.get("wsrep_last_committed"))
    conf = status.get("wsrep_cluster_conf_id") or ""
    history = (status.get("wsrep_cluster_state_uuid") or "").lower()
    if size is None or committed is None or not is_uuid(history):
        return
    cache = _size_file(ctx)
    got = read_private_file(cache)
    words = got[0].split() if got else []
    before = seqno_value(words[0] if words else None)
    conf_before = words[1] if len(words) > 1 else None
    if before == size and conf_before == conf:
        return
    if conf_before is not None and conf_before != conf:
        clear_attr(ctx, me, "left-at", lifetime="forever")
    if before is not None and size < before:
        view = cluster_view(ctx)
        if len(view.promoted) != size or me not in view.promoted:
            return  # Pacemaker has not caught up yet: the next monitor looks again
        members = galera_members(status)
        for node, entry in zip(pcmk_nodes(cfg, view.members), galera_nodes(cfg)):
            if node in view.promoted:
                continue
            if node_addresses(ctx, node, entry) & members:
                ctx.log.info(
                    "%s is still a member of the Galera component (wsrep_incoming_addresses): "
                    "not recorded as gone",
                    node,
                )
                continue
            ctx.log.info("%s left the primary component at seqno %d or before", node, committed)
            set_attr(ctx, node, "left-at", f"{history}:{committed}", lifetime="forever")
    try:
        os.makedirs(ctx.env.rsctmp, exist_ok=True)
        write_private_file(cache, f"{size} {conf}\n")
    except OSError as err:
        ctx.log.warning("cannot keep the cluster size in %s: %s", ctx.env.rsctmp, err.strerror)


def galera_members(status: dict[str, str | None]) -> set[str]:
    """The hosts of Galera's own members (wsrep_incoming_addresses, host:port each)."""
    hosts = set()
    for raw in (status.get("wsrep_incoming_addresses") or "").split(","):
        item = raw.strip().lower()
        if item.startswith("["):  # [v6]:port
            hosts.add(item[1:].split("]", 1)[0])
        elif item:
            hosts.add(item.rsplit(":", 1)[0] if item.count(":") == 1 else item)
    return hosts - {"", "auto", "0.0.0.0"}  # noqa: S104 - a value compared, never bound


def node_addresses(ctx: Context, node: str, entry: str) -> set[str]:
    """What a node may appear as among Galera's members: its Pacemaker name, its
    wsrep_cluster_address entry, and their addresses in /etc/hosts (read as a
    file: never DNS, which could hang a monitor)."""
    host = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
    names = {node.lower(), host.lower()}
    found = set(names)
    text = _read_small(ctx.host.hosts_file, 1 << 20) or ""
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and names & {w.lower() for w in words[1:]}:
            found.add(words[0].lower())
    return found


# --- 6. The server's status over SQL ------------------------------------------------------------


def _clustercheck(ctx: Context) -> dict[str, str]:
    """MYSQL_USERNAME/MYSQL_PASSWORD of a clustercheck file, read as KEY=VALUE
    lines (the reference sources it as shell: never run here). Only a
    root-owned file that no one else may write counts."""
    import stat

    for path in ctx.host.clustercheck_files:
        try:
            st = os.stat(path)
        except OSError:
            continue
        if st.st_uid != 0 or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return {}
        values = {}
        for line in (_read_small(path, 65536) or "").splitlines():
            key, sep, value = line.strip().partition("=")
            if sep and key in ("MYSQL_USERNAME", "MYSQL_PASSWORD"):
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                values[key] = value
        return values
    return {}


def credentials(cfg: Config, ctx: Context) -> tuple[str, str]:
    """check_user and its password, with the reference's fallbacks."""
    user = cfg.get(CHECK_USER) or ""
    password = cfg.get(CHECK_PASSWD) or ""
    if not user or not password:
        found = _clustercheck(ctx)
        user = user or found.get("MYSQL_USERNAME", "")
        password = password or found.get("MYSQL_PASSWORD", "")
    if cfg[CHECK_PASSWD_USE_EMPTY]:
        password = ""
    return user or "root", password


def wsrep_status(cfg: Config, ctx: Context, timeout_s: float = 5.0) -> dict[str, str | None] | None:
    """The wsrep status variables, or None when the server refuses logins for
    lack of connections (max_connections). GenericError when it does not answer
    or refuses check_user."""
    user, password = credentials(cfg, ctx)
    try:
        result = ctx.sql.query(
            cfg[SOCKET],
            user,
            password,
            STATUS_SQL,
            min(timeout_s, max(ctx.deadline.remaining(), 0.5)),
            lambda pid, uid: check_peer(cfg, ctx, pid, uid),
        )
    except OSError as err:
        raise GenericError(f"MySQL does not accept connections on {cfg[SOCKET]}: {err}") from err
    if result.state == "busy":
        return None
    if result.state != "ok":
        raise GenericError(
            f"Unable to retrieve wsrep_cluster_status, verify check_user '{user}' has "
            f"permissions to view status: {result.message}"
        )
    return {row[0] or "": row[1] if len(row) > 1 else None for row in result.rows}


# --- 7. Actions ---------------------------------------------------------------------------------


def start(cfg: Config, ctx: Context) -> OCF:
    me, _ = _local(cfg, ctx)
    server = server_process(cfg, ctx)
    if server is not None:
        # Unpromoted means stopped. The reference then reads the position of a live
        # datadir (--wsrep-recover cannot lock it and fails); say what is wrong instead.
        from ocflib.galerastate import health

        status = wsrep_status(cfg, ctx)
        if status is not None and health(status).state == "promoted":
            raise GenericError("master galera instance started outside of the cluster's control")
        raise GenericError(
            f"MySQL (pid {server.pid}) runs outside the cluster's control and is not a "
            "member of the primary component: stop it, then start the resource"
        )
    prepare(cfg, ctx)
    detect_last_commit(cfg, ctx, me)
    view = cluster_view(ctx)
    if master_exists(ctx, view, me):
        ctx.log.info("Master instances are already up: this instance will join them")
        set_score(ctx, me, PROMOTED_SCORE)
    else:
        set_score(ctx, me, None)
        detect_first_master(cfg, ctx, view, me)
    return OCF.SUCCESS


def monitor(cfg: Config, ctx: Context) -> OCF:
    from ocflib.galerastate import health

    server = server_process(cfg, ctx)
    if server is None:
        from ocflib import cluster

        me = cluster.local_node_name(ctx.env, ctx.runner)
        if get_attr(ctx, me, "last-committed") is None:
            return OCF.NOT_RUNNING
        # Unpromoted: the server is down and its position published. The election
        # is bookkeeping here: a cluster tool failing is a warning, the next monitor retries.
        try:
            view = cluster_view(ctx)
            if master_exists(ctx, view, me):
                set_score(ctx, me, PROMOTED_SCORE)
            else:
                detect_first_master(cfg, ctx, view, me)
        except OCFError as err:
            ctx.log.warning("election not run: %s", err.reason)
        return OCF.SUCCESS
    me, _ = _local_running(cfg, ctx)
    status = wsrep_status(cfg, ctx)
    seen = health(status) if status is not None else None
    if seen is not None and seen.state == "failed" and seen.transient and not ctx.is_probe:
        # Galera re-forms its primary component by itself within seconds after
        # a membership change (two nodes joining at once, a peer that left):
        # look again for a while before calling the node failed.
        ctx.log.info("%s: looking again for %.0f s", seen.why, NON_PRIMARY_GRACE)

        def recovered() -> bool:
            nonlocal status, seen
            status = wsrep_status(cfg, ctx)
            seen = health(status) if status is not None else None
            return seen is None or seen.state != "failed"

        ctx.deadline.wait_until(recovered, within=NON_PRIMARY_GRACE, keep=2.0, step=0.5, first=0.5)
    if status is None or seen is None:
        doubted = doubt(ctx, "busy")
        if doubted > DOUBT_LIMIT:
            raise GenericError(
                f"MySQL pid {server.pid} has refused logins (max_connections) for "
                f"{doubted:.0f} s: a node whose Galera state cannot be seen is not kept "
                "Promoted longer"
            )
        ctx.log.warning(
            "MySQL pid %d refuses logins: too many connections (max_connections); its "
            "Galera state is unknown, the last one stands (for %.0f s now, failed after %d s)",
            server.pid,
            doubted,
            DOUBT_LIMIT,
        )
        return OCF.RUNNING_PROMOTED
    if seen.state == "failed":
        raise GenericError(f"local node <{me}> is started, but {seen.why}")
    if seen.state == "joining":
        doubted = doubt(ctx, "joining") if not ctx.is_probe else 0.0
        if doubted > DOUBT_LIMIT:
            raise GenericError(
                f"local node <{me}> has been joining for {doubted:.0f} s while Promoted and "
                f"cannot commit: {seen.why}"
            )
        ctx.log.info("local node <%s> is %s", me, seen.why)
        return OCF.RUNNING_PROMOTED
    doubt(ctx, None)
    if ctx.is_probe:
        set_score(ctx, me, PROMOTED_SCORE)  # restore the score of a running member
        # A healthy member: no record of its departure stands (it may have run
        # without a promote of ours: maintenance mode, another agent, a restored CIB).
        try:
            clear_attr(ctx, me, "left-at", lifetime="forever")
        except OCFError as err:  # bookkeeping: the next probe or membership change retries
            ctx.log.warning("cannot clear this node's departure record: %s", err.reason)
    else:
        try:
            record_departures(cfg, ctx, status, me)
        except OCFError as err:  # bookkeeping: the member is healthy; the next monitor retries
            ctx.log.warning("cannot record who left the primary component: %s", err.reason)
    return OCF.RUNNING_PROMOTED


# How long a Promoted member may stay unable to commit (joining again: Joining or
# Joined, wsrep_ready OFF) or unseen (logins refused for max_connections) before its
# monitor fails it: the VIP and the clients are not left on it for ever.
DOUBT_LIMIT = 60


def _doubt_file(ctx: Context) -> str:
    return os.path.join(ctx.env.rsctmp, f"galera-py-{_base(ctx)}.doubt")


def doubt(ctx: Context, kind: str | None) -> float:
    """Seconds this Promoted member has been in doubt of this kind ("busy" or
    "joining"), counted from the first monitor that saw it; kind None: all is well,
    forget it. Kept in a file of ours in HA_RSCTMP (the clock is monotonic: a reboot
    empties the directory)."""
    path = _doubt_file(ctx)
    if kind is None:
        if os.path.lexists(path):
            ctx.procs.remove_own_file(path, ctx.log.warning)
        return 0.0
    from ocflib.pidfiles import read_private_file, write_private_file

    now = ctx.deadline.now()
    got = read_private_file(path, 128)
    seen_kind, _, since_text = (got[0] if got else "").partition(" ")
    try:
        since = float(since_text)
    except ValueError:
        since = None
    if seen_kind == kind and since is not None and 0 <= now - since < 86400 * 366:
        return now - since
    try:
        os.makedirs(ctx.env.rsctmp, exist_ok=True)
        write_private_file(path, f"{kind} {now}\n")
    except OSError as err:
        ctx.log.warning("cannot keep the doubt in %s: %s", ctx.env.rsctmp, err.strerror)
    return 0.0


def _local_running(cfg: Config, ctx: Context) -> tuple[str, str]:
    try:
        return _local(cfg, ctx)
    except ConfigError as err:  # started, so not fatal cluster-wide: recover here
        raise GenericError(err.reason.replace("must be", "is started, but is not")) from err


def promote(cfg: Config, ctx: Context) -> OCF:
    from ocflib.galerastate import health

    me, _ = _local(cfg, ctx)
    view = cluster_view(ctx)
    bootstrap = False
    if view.promoted - {me}:
        extra = [f"--wsrep-cluster-address={cfg[WSREP_CLUSTER_ADDRESS]}"]
        wait_for_earlier_joiners(cfg, ctx, view, me)
    elif me in marked(ctx, view):
        if not still_elected(cfg, ctx, view, me):
            # Exactly one bootstrap: the mark and the promotion go back, the next
            # election marks one node again.
            clear_attr(ctx, me, "bootstrap")
            set_score(ctx, me, None)
            return OCF.SUCCESS
        bootstrap = True
        extra = ["--wsrep-cluster-address=gcomm://"]
    else:
        # Promoted to join, but nothing runs to join any more: give the promotion
        # back, the next election decides (the reference does the same).
        ctx.log.warning("There is no running cluster to join, demoting ourself")
        set_score(ctx, me, None)
        return OCF.SUCCESS

    if server_process(cfg, ctx) is not None:
        status = wsrep_status(cfg, ctx)
        if status is not None and health(status).state == "promoted":
            return promoted(cfg, ctx, me, bootstrap, view.members)
        raise GenericError("MySQL runs but is not part of the primary component: stop it first")
    if bootstrap:
        state = read_grastate(cfg)
        if state is not None and state.safe_to_bootstrap != "1":
            allow_bootstrap(cfg, ctx)
        ctx.log.info("Node <%s> is bootstrapping the cluster", me)
    clear_attr(ctx, me, "last-committed")
    clear_attr(ctx, me, "safe-to-bootstrap")
    prepare(cfg, ctx)
    forget_saved_component(cfg, ctx)
    start_galera(cfg, ctx, extra)
    return promoted(cfg, ctx, me, bootstrap, view.members)


JOIN_STAGGER = 1.0  # s between joiners promoted together


def wait_for_earlier_joiners(cfg: Config, ctx: Context, view: ClusterView, me: str) -> None:
    """Stagger the joiners: while nodes listed before this one in
    wsrep_cluster_address are being promoted, start JOIN_STAGGER seconds after
    each (or as soon as they are done). Galera nodes that connect to the group
    at the same moment keep re-establishing their connections for seconds
    (measured in the lab: the second of two joiners started together was synced
    8.7 s after the bootstrap; one after the other, 8.7 s too; staggered by 1 s,
    6.6 s) and may briefly take the primary component down; a joiner is in the
    group about a second after its start, and then the next may come (their
    state transfers overlap)."""
    nodes = pcmk_nodes(cfg, view.members)
    earlier = set(nodes[: nodes.index(me)]) if me in nodes else set()
    ahead = view.promoting & earlier
    if not ahead:
        return
    stagger = min(JOIN_STAGGER * len(ahead), ctx.deadline.remaining() / 2)
    ctx.log.info("joining %.1f s after %s", stagger, ", ".join(sorted(ahead)))

    def alone() -> bool:
        return not cluster_view(ctx).promoting & earlier

    ctx.deadline.wait_until(alone, within=stagger, first=0.25, step=0.5)


def forget_saved_component(cfg: Config, ctx: Context) -> None:
    """Remove gvwstate.dat, Galera's saved primary component, before a start.

    With it, a node restarted after a crash tries to re-form the old primary
    component by itself (pc.recovery): a joiner then waits for peers of the
    old view before it joins the running cluster (seconds, measured in the
    lab), and nodes started together may form a component without their
    history (the monitor fails them). Here the election decides who
    bootstraps, so the saved view is only in the way. Removed only when it is
    a regular file of the server's user or root in the datadir."""
    path = os.path.join(cfg[DATADIR], "gvwstate.dat")
    if servers_file(cfg, ctx, path) is None:
        return
    _unlink(ctx, path)
    ctx.log.info("removed %s: the election, not a saved view, forms the cluster", path)


def start_position(cfg: Config, ctx: Context) -> list[str]:
    """--wsrep-start-position when grastate.dat has no position but recovery found
    one: the node then asks for IST instead of a full SST."""
    state = read_grastate(cfg)
    if state is not None and state.position is not None:
        return []
    from ocflib.galerastate import parse_position
    from ocflib.pidfiles import read_private_file

    got = read_private_file(_position_file(ctx), 256)
    position = parse_position(got[0]) if got and got[0].strip() else None
    return [f"--wsrep-start-position={position.text}"] if position is not None else []


def start_galera(cfg: Config, ctx: Context, extra: list[str]) -> None:
    """Launch the server and wait until it is a synced member of the primary
    component, logging the progress of a state transfer; GenericError, with
    what was seen and what to configure, when promote's time runs out first."""
    from ocflib.galerastate import health

    launcher = launch(cfg, ctx, command_line(cfg, ctx, [*start_position(cfg, ctx), *extra]))
    ctx.log.info("joining with %s", " ".join(extra))
    seen = ["launched; waiting for the server"]
    last_report = [0.0]

    def synced() -> bool:
        if failed_to_start(cfg, ctx, launcher):
            seen[0] = "waiting for a state transfer (SST): the server answers only after it"
        else:
            try:
                status = wsrep_status(cfg, ctx, timeout_s=2.0)
            except GenericError as err:
                seen[0] = err.reason
                status = None
            if status is not None:
                h = health(status, joining_ok=True)
                seen[0] = h.why
                if h.state == "promoted":
                    return True
        if ctx.deadline.elapsed() - last_report[0] >= 10:
            last_report[0] = ctx.deadline.elapsed()
            ctx.log.info(
                "promote: %.0f s, %s; datadir %s", last_report[0], seen[0], _datadir_size(cfg)
            )
        return False

    if not ctx.deadline.wait_until(synced, first=0.05, step=0.25):
        # Pacemaker keeps the first 128 characters of an exit reason: what to do first.
        raise GenericError(
            f"needs a longer promote timeout: not synced with the cluster after "
            f"{ctx.deadline.elapsed():.0f} s (datadir {_datadir_size(cfg)}; {seen[0]}; "
            "promote timeout: 60 s + 2 x datadir / transfer rate)"
        )


def _datadir_size(cfg: Config) -> str:
    total = 0
    for root, _dirs, files in os.walk(cfg[DATADIR]):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return f"{total / 1e6:.0f} MB"


def promoted(
    cfg: Config, ctx: Context, me: str, bootstrap: bool, members: Collection[str] = ()
) -> OCF:
    """Bookkeeping once this node is a synced member: the bootstrap node lets the
    others join; every node forgets its pre-start position and departure."""
    if bootstrap:
        for node in pcmk_nodes(cfg, members):
            set_score(ctx, node, PROMOTED_SCORE)
        clear_attr(ctx, me, "bootstrap")
        ctx.log.info("Bootstrap complete, promoting the rest of the galera instances.")
    clear_attr(ctx, me, "no-grastate")
    clear_attr(ctx, me, "last-committed")
    clear_attr(ctx, me, "safe-to-bootstrap")
    clear_attr(ctx, me, "left-at", lifetime="forever")
    doubt(ctx, None)
    ctx.log.info("Galera started")
    return OCF.SUCCESS


def demote(cfg: Config, ctx: Context) -> OCF:
    from ocflib import cluster

    me = cluster.local_node_name(ctx.env, ctx.runner)
    stop_server(cfg, ctx)
    ctx.procs.remove_own_file(_size_file(ctx), ctx.log.warning)
    for suffix in ("bootstrap", "last-committed", "no-grastate", "safe-to-bootstrap"):
        clear_attr(ctx, me, suffix)
    # No promotion here before a monitor has seen the other nodes again.
    set_score(ctx, me, None)
    detect_last_commit(cfg, ctx, me)
    return OCF.SUCCESS


def stop(cfg: Config, ctx: Context) -> OCF:
    from ocflib import cluster

    stop_server(cfg, ctx)
    try:
        me = cluster.local_node_name(ctx.env, ctx.runner)
        for suffix in ("safe-to-bootstrap", "last-committed", "bootstrap", "no-grastate"):
            clear_attr(ctx, me, suffix)
        set_score(ctx, me, None)
    except OCFError as err:  # the server is stopped: that is what stop answers for
        ctx.log.warning("stop: %s", err.reason)
    ctx.procs.remove_own_file(_position_file(ctx), ctx.log.warning)
    ctx.procs.remove_own_file(_size_file(ctx), ctx.log.warning)
    ctx.procs.remove_own_file(_doubt_file(ctx), ctx.log.warning)
    return OCF.SUCCESS


def status(cfg: Config, ctx: Context) -> OCF:
    return OCF.SUCCESS if server_process(cfg, ctx) is not None else OCF.NOT_RUNNING


def validate(cfg: Config, ctx: Context) -> OCF:
    return OCF.SUCCESS


AGENT = Agent(
    "galera-py",
    version=VERSION,
    shortdesc="Manages a galera instance",
    longdesc="MariaDB Galera as a promotable clone: Unpromoted is the server stopped with "
    "its last committed position published as a node attribute, Promoted the server "
    "running in the primary component. The most advanced node bootstraps the cluster "
    "after a full outage; the others join it.\n\ngalera-py is a drop-in replacement for "
    "ocf:heartbeat:galera written in Python on ocflib: the same parameters, defaults and "
    "node attributes, and the same exit codes but for these: monitor calls a node "
    "Primary and Synced without a cluster history 1 (galera: 8), and stays 8 where galera "
    "returns 1 for a member out of the primary component for less than 10 s, and for 60 "
    "s of consecutive monitors of a server refusing logins for max_connections or of a "
    "member fallen back to Joining/Joined; promote returns 1 before its timeout when a "
    "state transfer outlasts it (galera: killed by Pacemaker); stop is 0 when "
    "crm_attribute fails. Promoted means able to commit, the monitor's login passes no "
    "password in argv, a node recovered after a crash rejoins by IST, and promote "
    "reports the progress of a state transfer.",
    params=PARAMS,
    actions=promotable_actions(
        start=start,
        stop=stop,
        status=status,
        monitor=monitor,
        promote=promote,
        demote=demote,
        validate=validate,
        promote_timeout=300,
    ),
    check_config=check_config,
    check_local=check_local,
)
