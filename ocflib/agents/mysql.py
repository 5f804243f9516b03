"""mysql-py: MariaDB/MySQL for the cluster, standalone or as a promotable clone (OCF 1.1).

A drop-in replacement for ocf:heartbeat:mysql: same parameters, defaults and
exit codes, without its defects: start returns as soon as the server accepts
connections, stop uses SIGKILL only near the deadline, passwords never reach
argv, environments or logs (SQL goes through pymysql in process), a replica
whose replication is broken loses its promotion score and says why, every
wait is bounded, and MariaDB 10.x and MySQL 8.x statements are chosen by
server version.
"""

from __future__ import annotations

from ocflib.agent import Agent, Context
from ocflib.agents.mysql_replication import (
    _node,
    demote,
    follow,
    notify,
    promote,
    replication_health,
    set_mysql_score,
    set_reader,
    unset_master,
)
from ocflib.agents.mysql_server import (
    PARAMS,
    SOCKET,
    TEST_PASSWD,
    TEST_TABLE,
    TEST_USER,
    VERSION,
    _sql_error,
    check_config,
    check_local,
    connect,
    ping,
    prepare,
    promotable_actions,
    query,
    server_argv,
    server_process,
    start_server,
    stop_server,
)
from ocflib.errors import GenericError, OCFError
from ocflib.exitcodes import OCF
from ocflib.params import Config

__all__ = ["AGENT", "PARAMS", "server_argv", "server_process"]

# --- 6. Actions ---------------------------------------------------------------------------------


def start(cfg: Config, ctx: Context) -> OCF:
    set_reader(cfg, ctx, 0)
    server = server_process(cfg, ctx)
    if server is None:
        prepare(cfg, ctx)
        start_server(cfg, ctx)
    else:
        ctx.log.info("MySQL already running (pid %d)", server.pid)
    if ctx.env.is_promotable:
        conn = connect(cfg, ctx)
        try:
            query(conn, "SET GLOBAL read_only = ON")
            primary = [n for n in ctx.env.notify.unames("promoted") if n != _node(ctx)]
            if primary:
                follow(cfg, ctx, conn)
            else:
                unset_master(cfg, ctx, conn)
        finally:
            conn.close()
        set_mysql_score(ctx, 1)
    if cfg.get(TEST_PASSWD):  # as the reference: a full check when credentials are given
        select_test_table(cfg, ctx)
    return OCF.SUCCESS


def stop(cfg: Config, ctx: Context) -> OCF:
    if ctx.env.is_promotable:
        try:
            set_mysql_score(ctx, None)
            set_reader(cfg, ctx, 0)
        except OCFError as err:
            ctx.log.warning("stop: %s", err.reason)
    stop_server(cfg, ctx)
    return OCF.SUCCESS


def select_test_table(cfg: Config, ctx: Context) -> None:
    conn = connect(cfg, ctx, admin=False)
    try:
        # test_table is limited to identifier characters and dots (check_config).
        query(conn, f"SELECT COUNT(*) AS n FROM {cfg[TEST_TABLE]}")  # noqa: S608
    except ctx.sql.error as err:
        raise GenericError(
            f"Unable to read {cfg[TEST_TABLE]} as {cfg[TEST_USER]}: {_sql_error(err)}"
        ) from err
    finally:
        conn.close()


def monitor(cfg: Config, ctx: Context) -> OCF:
    server = server_process(cfg, ctx)
    if server is None:
        if ctx.env.is_promotable and not ctx.is_probe:
            set_mysql_score(ctx, None)
        return OCF.NOT_RUNNING
    try:
        ping(cfg, ctx)
    except OSError as err:
        raise GenericError(
            f"MySQL (pid {server.pid}) runs but does not accept connections on {cfg[SOCKET]}: {err}"
        ) from err
    if ctx.env.effective_check_level((0, 10)) >= 10:
        try:
            select_test_table(cfg, ctx)
        except OCFError:
            if ctx.env.is_promotable:
                set_mysql_score(ctx, None)
            raise
    if not ctx.env.is_promotable:
        return OCF.SUCCESS
    return replication_health(cfg, ctx)


def status(cfg: Config, ctx: Context) -> OCF:
    return OCF.SUCCESS if server_process(cfg, ctx) is not None else OCF.NOT_RUNNING


def validate(cfg: Config, ctx: Context) -> OCF:
    return OCF.SUCCESS


AGENT = Agent(
    "mysql-py",
    version=VERSION,
    shortdesc="Manages a MySQL database instance",
    longdesc="Resource script for MySQL/MariaDB. It manages a server instance as an HA "
    "resource, standalone or as a promotable clone with replication.\n\nmysql-py is a "
    "drop-in replacement for ocf:heartbeat:mysql written in Python on ocflib: the same "
    "parameters and defaults, and the same exit codes but for these: a replica whose "
    "replication is broken makes monitor return 190 (degraded) with the reason and lose "
    "its promotion score (mysql: 0); an existing log file that user cannot write is 4 "
    "(mysql changes its owner); a test_table that is not a table name is 6; the mysql "
    "client program is never needed, so its absence is not 5. Start returns as soon as "
    "the server accepts connections, "
    "monitor depth 0 logs in over the socket, passwords never reach argv or logs, a replica "
    "with broken replication loses its promotion score and reports why (degraded), and "
    "statements follow the server version (MariaDB 10.x, MySQL 8.x).",
    params=PARAMS,
    actions=promotable_actions(
        start=start,
        stop=stop,
        status=status,
        monitor=monitor,
        promote=promote,
        demote=demote,
        validate=validate,
        promote_timeout=120,
        notify=notify,
    ),
    check_config=check_config,
    check_local=check_local,
)
