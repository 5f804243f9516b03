"""mysql-py as a promotable clone: read_only is the role, replication follows the
primary, the promotion score and the reader attribute say how good a replica is.
"""

from __future__ import annotations

from ocflib.agent import Context
from ocflib.agents.mysql_server import (
    EVICT,
    MAX_LAG,
    READER,
    REPL_PASSWD,
    REPL_PORT,
    REPL_USER,
    SSL_CA,
    SSL_CERT,
    SSL_KEY,
    _sql_error,
    connect,
    query,
    server_process,
)
from ocflib.errors import OCFError
from ocflib.exitcodes import OCF
from ocflib.mysqlrepl import Dialect, field, relay_applied, replica_problem
from ocflib.params import Config

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def dialect(conn: Any) -> Dialect:
    return Dialect(str(query(conn, "SELECT VERSION() AS v")[0]["v"]))


def stop_replication(cfg: Config, ctx: Context, statement: str, limit_s: float = 5.0) -> bool:
    """Run STOP REPLICA [IO_THREAD] on its own connection, waiting at most limit_s.

    An IO thread stuck connecting to a dead primary (for up to slave_net_timeout,
    60 s by default) holds STOP up that long: the action goes on without waiting,
    the server finishes the stop by itself. Returns True if it completed.
    """
    conn = connect(cfg, ctx, timeout=limit_s)
    try:
        query(conn, statement)
        return True
    except ctx.sql.error as err:
        ctx.log.warning(
            "%s did not complete within %.0f s (%s): going on", statement, limit_s, _sql_error(err)
        )
        return False
    finally:
        try:
            conn.close()
        except Exception:  # noqa: BLE001, S110 - a timed-out connection may be half closed
            pass


def replica_status(conn: Any, d: Dialect) -> dict[str, Any] | None:
    rows = query(conn, d.status())
    return rows[0] if rows else None


def read_only(conn: Any) -> bool:
    return str(query(conn, "SELECT @@global.read_only AS r")[0]["r"]) in ("1", "ON")


# --- 5. Cluster attributes -------------------------------------------------------------------


def _base_instance(ctx: Context) -> str:
    return ctx.env.instance.split(":", 1)[0]


def set_mysql_score(ctx: Context, score: int | None) -> None:
    from ocflib import cluster

    if not ctx.env.is_promotable:
        return
    if score is None:
        cluster.delete_promotion_score(ctx.env, ctx.runner)
    else:
        cluster.set_promotion_score(ctx.env, ctx.runner, score)


def set_reader(cfg: Config, ctx: Context, value: int) -> None:
    from ocflib import cluster

    if not ctx.env.is_promotable:
        return
    node = cluster.local_node_name(ctx.env, ctx.runner)
    cluster.set_node_attribute(ctx.runner, node, cfg[READER], str(value))


def repl_info_name(ctx: Context) -> str:
    """The cluster property the primary publishes its binlog position in (set
    mysql_replication, as the reference names them)."""
    return f"{_base_instance(ctx)}_REPL_INFO"


def master_host(ctx: Context) -> str:
    """This node's address for replicas: the <instance>_mysql_master_IP node attribute,
    else the node name."""
    from ocflib import cluster

    node = cluster.local_node_name(ctx.env, ctx.runner)
    value = cluster.get_node_attribute(
        ctx.runner, node, f"{_base_instance(ctx)}_mysql_master_IP", lifetime="forever"
    )
    return value or node


def _node(ctx: Context) -> str:
    from ocflib import cluster

    return cluster.local_node_name(ctx.env, ctx.runner)


def replication_health(cfg: Config, ctx: Context) -> OCF:
    """The role (read_only), and for a replica its health, on every monitor:
    a broken replica loses its promotion score and says why (resource-agents #1377)."""
    # One connection whose statements may take 3 s at most: a monitor must
    # answer quickly (replica status can wait behind a pending STOP).
    conn = connect(cfg, ctx, timeout=3.0)
    try:
        if not read_only(conn):
            # Above every replica (at most max_slave_lag): the promotion never moves
            # by itself. (The reference gives 2 here, and a healthy replica up to
            # max_slave_lag at depth > 0: it would take the promotion away.)
            set_mysql_score(ctx, cfg[MAX_LAG] + 1)
            return OCF.RUNNING_PROMOTED
        d = dialect(conn)
        try:
            status = replica_status(conn, d)
        except ctx.sql.error as err:
            # Leave the score as it is and say so.
            ctx.log.warning("replica status unavailable (%s): score unchanged", _sql_error(err))
            return OCF.SUCCESS
        if status is None:
            set_mysql_score(ctx, 1)
            return OCF.SUCCESS
        problem = replica_problem(status)
        if problem is not None:
            if str(field(status, "Slave_SQL_Running", "Replica_SQL_Running")) != "Yes" and not (
                field(status, "Last_SQL_Errno") or 0
            ):
                query(conn, d.start())  # stopped without an error: restart it, as the reference
            set_mysql_score(ctx, None)
            set_reader(cfg, ctx, 0)
            raise OCFError(
                f"replication broken, promotion score removed: {problem}", rc=OCF.DEGRADED
            )
        lag = field(status, "Seconds_Behind_Master", "Seconds_Behind_Source")
        max_lag = cfg[MAX_LAG]
        if lag is None:
            # The source is unreachable (typically: the primary just died). This
            # replica is the one to promote if it applied everything it received.
            set_reader(cfg, ctx, 0)
            applied = relay_applied(status)
            set_mysql_score(ctx, max_lag if applied else 1)
            ctx.log.info(
                "replication source unreachable; %s",
                "everything received is applied"
                if applied
                else "the relay log is still being applied",
            )
            return OCF.SUCCESS
        if int(lag) > max_lag:
            set_reader(cfg, ctx, 0)
            if cfg[EVICT]:
                raise OCFError(
                    f"replica lags {lag} s, more than max_slave_lag={max_lag}: evicted",
                    rc=OCF.ERR_INSTALLED,
                )
            set_mysql_score(ctx, 0)
            return OCF.SUCCESS
        set_mysql_score(ctx, max(0, max_lag - int(lag)))
        set_reader(cfg, ctx, 1)
        return OCF.SUCCESS
    finally:
        conn.close()


def promote(cfg: Config, ctx: Context) -> OCF:
    if server_process(cfg, ctx) is None:
        return OCF.NOT_RUNNING
    conn = connect(cfg, ctx)
    try:
        d = dialect(conn)
        # No SHOW REPLICA STATUS here: it waits behind a stop still pending for an
        # IO thread that connects to the dead primary. A bounded stop, and a reset
        # only when the stop went through.
        if stop_replication(cfg, ctx, d.stop()):
            query(conn, d.reset())
        rows = query(conn, d.binlog_status)
        if rows and ctx.env.is_promotable:  # the hand-off to the replicas
            info = f"{master_host(ctx)}|{rows[0]['File']}|{rows[0]['Position']}"
            from ocflib import cluster

            cluster.set_cluster_property(
                ctx.runner, repl_info_name(ctx), info, set_id="mysql_replication"
            )
        query(conn, "SET GLOBAL read_only = OFF")
    finally:
        conn.close()
    set_mysql_score(ctx, cfg[MAX_LAG] + 1)
    set_reader(cfg, ctx, 1)
    return OCF.SUCCESS


def demote(cfg: Config, ctx: Context) -> OCF:
    """read_only on, clients' connections ended (their writes stop), score 1."""
    if server_process(cfg, ctx) is None:
        return OCF.NOT_RUNNING
    conn = connect(cfg, ctx)
    try:
        query(conn, "SET GLOBAL read_only = ON")
        rows = query(
            conn,
            "SELECT ID, USER, COMMAND FROM information_schema.PROCESSLIST "
            "WHERE ID <> CONNECTION_ID()",
        )
        for row in rows:
            if row["USER"] in ("system user", "event_scheduler") or str(row["COMMAND"]).startswith(
                ("Binlog Dump", "Daemon", "Slave_", "Replica_")
            ):
                continue
            try:
                query(conn, f"KILL CONNECTION {int(row['ID'])}")
            except ctx.sql.error:
                pass  # it ended by itself
    finally:
        conn.close()
    set_mysql_score(ctx, 1)
    set_reader(cfg, ctx, 0)
    return OCF.SUCCESS


def notify(cfg: Config, ctx: Context) -> OCF:
    if not ctx.env.is_promotable or server_process(cfg, ctx) is None:
        return OCF.SUCCESS
    info = ctx.env.notify
    me = _node(ctx)
    if info.key == "post-promote" and me not in info.unames("promote"):
        conn = connect(cfg, ctx)
        try:
            unset_master(cfg, ctx, conn)
            follow(cfg, ctx, conn)
        finally:
            conn.close()
    elif info.key == "post-demote" and me not in info.unames("demote"):
        conn = connect(cfg, ctx)
        try:
            unset_master(cfg, ctx, conn)
        finally:
            conn.close()
    return OCF.SUCCESS


def unset_master(cfg: Config, ctx: Context, conn: Any) -> None:
    """Stop replicating: let the relay log be applied (bounded), then reset."""
    d = dialect(conn)
    status = replica_status(conn, d)
    if status is None:
        return
    if str(field(status, "Slave_IO_Running", "Replica_IO_Running")) != "Yes":
        # The primary is unreachable (its IO thread is connecting): nothing more
        # arrives, and a STOP would wait for that connect (slave_net_timeout).
        # Promote stops it, bounded; leave it alone here.
        ctx.log.info("replication source unreachable: not stopping it here")
        return
    if not stop_replication(cfg, ctx, f"STOP {d.replica} IO_THREAD"):
        return

    def relay_log_applied() -> bool:
        status = replica_status(conn, d) or {}
        state = str(field(status, "Slave_SQL_Running_State", "Replica_SQL_Running_State") or "")
        return (
            "read all relay log" in state
            or str(field(status, "Slave_SQL_Running", "Replica_SQL_Running")) != "Yes"
        )

    if not ctx.deadline.wait_until(relay_log_applied, within=30.0, keep=2.0):
        ctx.log.warning("the relay log was not applied within the time left; resetting anyway")
    if stop_replication(cfg, ctx, d.stop()):
        query(conn, d.reset())


def follow(cfg: Config, ctx: Context, conn: Any) -> None:
    """Replicate from the primary published in <instance>_REPL_INFO (GTID where available)."""
    from ocflib import cluster

    info = (
        cluster.get_cluster_property(ctx.runner, repl_info_name(ctx), set_id="mysql_replication")
        or ""
    )
    if info.count("|") != 2:
        ctx.log.warning("no replication info published yet (%s)", info or "empty")
        return
    host, log_file, position = info.split("|")
    d = dialect(conn)
    status = replica_status(conn, d)
    current = field(status or {}, "Master_Host", "Source_Host")
    io_state = str(field(status or {}, "Slave_IO_Running", "Replica_IO_Running"))
    running = io_state in ("Yes", "Connecting")
    if current == host and running:
        return
    if status is not None and not stop_replication(cfg, ctx, d.stop()):
        ctx.log.warning("replication could not be stopped yet; it is redirected on a later notify")
        return
    word = "SOURCE" if d.change_source else "MASTER"
    sql = (
        f"CHANGE {'REPLICATION SOURCE' if d.change_source else 'MASTER'} TO {word}_HOST=%s, "
        f"{word}_PORT=%s, {word}_USER=%s, {word}_PASSWORD=%s"
    )
    args: list[object] = [host, cfg[REPL_PORT], cfg[REPL_USER], cfg.get(REPL_PASSWD) or ""]
    if d.mariadb:
        sql += ", MASTER_USE_GTID=current_pos"
    elif str(query(conn, "SELECT @@global.gtid_mode AS g")[0]["g"]) == "ON":
        sql += f", {word}_AUTO_POSITION=1"
    else:
        sql += f", {word}_LOG_FILE=%s, {word}_LOG_POS=%s"
        args += [log_file, int(position)]
    if cfg.get(SSL_CA) and cfg.get(SSL_CERT) and cfg.get(SSL_KEY):
        sql += f", {word}_SSL=1, {word}_SSL_CA=%s, {word}_SSL_CERT=%s, {word}_SSL_KEY=%s"
        args += [cfg[SSL_CA], cfg[SSL_CERT], cfg[SSL_KEY]]
    ctx.log.info("replicating from %s:%d", host, cfg[REPL_PORT])
    query(conn, sql, args)
    query(conn, d.start())
