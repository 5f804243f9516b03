"""mysql-py with fakes: the exit-code rows of the mysql agent, the promotion-score
ladder and the statements per server version."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Generator
from typing import Any

import pytest

from ocflib import mysqlrepl
from ocflib.agents import mysql
from ocflib.exitcodes import OCF
from ocflib.mysqlwire import scramble_native
from tests.conftest import Outcome, dispatch
from tests.fakes import FakeHost, FakeProcesses, FakeRunner, FakeSql, fake_context, ocf_env

AGENT = mysql.AGENT
PROMOTABLE = {"promotable": "true", "clone_max": "2", "on_node": "n1", "notify": "true"}
ATTR = ["crm_attribute", "--promotion", "-N", "n1"]


def env(
    tmp: str, interval: int | str | None = None, meta: Any = None, **params: str
) -> dict[str, str]:
    base = {
        "binary": "/bin/true",
        "config": "/etc/hostname",
        "datadir": tmp,
        "pid": os.path.join(tmp, "m.pid"),
        "socket": os.path.join(tmp, "m.sock"),
        "log": os.path.join(tmp, "err.log"),
        **params,
    }
    e = ocf_env(interval_ms=None if interval is None else int(interval), meta=meta, params=base)
    e["HA_RSCTMP"] = tmp
    e["OCF_RESKEY_crm_feature_set"] = "3.16.2"
    return e


def run(
    action: str,
    fake: FakeRunner,
    e: dict[str, str],
    sql: FakeSql | None = None,
    procs: FakeProcesses | None = None,
) -> Outcome:
    """Dispatch with strict fakes: without a script, any SQL fails the test; the
    process table is the running server's (fixture server) or empty."""
    if procs is None and SERVERS:
        procs = SERVERS[-1]
    return dispatch(AGENT, action, e, fake, sql=sql or FakeSql(), procs=procs)


SERVERS: list[FakeProcesses] = []


# --- validation and plain rows ----------------------------------------------------------


def test_probe_and_stop_on_a_node_without_mysql(fake: FakeRunner, tmp_path: Any) -> None:
    e = env(str(tmp_path), binary="/nonexistent/mysqld_safe", config="/nonexistent.cnf")
    assert run("monitor", fake, {**e, "OCF_RESKEY_CRM_meta_interval": "0"}).rc == 7
    assert run("stop", fake, e).rc == 0
    out = run("start", fake, e)
    assert out.rc == 5
    assert out.reason == (
        "Setup problem: couldn't find command: /nonexistent/mysqld_safe; "
        "Config /nonexistent.cnf doesn't exist"
    )


@pytest.mark.parametrize("depth", [None, "0", "10"])
def test_validate_all_checks_the_installation_at_every_depth(
    fake: FakeRunner, tmp_path: Any, depth: str | None
) -> None:
    # As the reference's validate-all does, also without a depth (crm_resource --validate
    # and pcs call it so): a missing datadir, user or group is 5 there too.
    e = env(str(tmp_path), datadir="/nonexistent-datadir", user="pyha-nobody", group="pyha-none")
    if depth is not None:
        e["OCF_CHECK_LEVEL"] = depth
    out = run("validate-all", fake, e)
    assert out.rc == 5
    assert out.reason == (
        "Datadir /nonexistent-datadir doesn't exist; User pyha-nobody doesn't "
        "exist; Group pyha-none doesn't exist"
    )


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (
            {"test_table": "mysql.user; DROP TABLE x"},
            "parameter test_table='mysql.user; DROP TABLE x' contains forbidden characters ' ', ';'",
        ),
        ({"test_table": "a.b.c"}, "test_table [a.b.c] must be table or database.table"),
        ({"replication_port": "99999"}, "parameter replication_port='99999' must be at most 65535"),
        ({"max_slave_lag": "-1"}, "parameter max_slave_lag='-1' must be at least 0"),
        ({"user": "mysql;id"}, "parameter user='mysql;id' contains forbidden characters ';'"),
    ],
)
def test_configuration_errors(
    fake: FakeRunner, tmp_path: Any, params: dict[str, str], reason: str
) -> None:
    out = run("start", fake, env(str(tmp_path), **params))
    assert (out.rc, out.reason) == (6, reason)


def test_stale_pid_file_is_removed_and_not_running(fake: FakeRunner, tmp_path: Any) -> None:
    pidfile = tmp_path / "m.pid"
    pidfile.write_text("4242\n")  # alive, but not a mysqld: not this server's
    procs = FakeProcesses()
    procs.add(4242, "python3", exe="/usr/bin/python3")
    out = run("monitor", fake, env(str(tmp_path), interval=20000), procs=procs)
    me = "python3"
    assert out.rc == 7
    assert pidfile.exists(), "a file naming a live process is not verifiably stale"
    assert out.logged("warning") == [
        f"pid file {pidfile} names a process that is not this "
        f"server (process 4242 is {me}, not mariadbd "
        "or mysqld or mysqld-debug): not signalled, file left alone"
    ]
    pidfile.write_text("999999999\n")
    out = run("stop", fake, env(str(tmp_path)))
    assert out.rc == 0
    assert not pidfile.exists()
    assert out.logged("info") == [
        f"removed the stale pid file {pidfile} (no process 999999999 (from {pidfile}) runs)"
    ]


def test_unknown_action(fake: FakeRunner, tmp_path: Any) -> None:
    assert run("migrate_to", fake, env(str(tmp_path))).rc == 3


def test_secrets_never_reach_argv_or_logs(tmp_path: Any) -> None:
    e = env(
        str(tmp_path), test_passwd="s3cr3t-t", replication_passwd="s3cr3t-r", binary="/nonexistent"
    )
    out = run("start", FakeRunner(), e)
    assert out.rc == 5
    assert all("s3cr3t" not in msg for _, msg in out.records)
    argv = mysql.server_argv(*_cfg_ctx(e))
    assert not any("s3cr3t" in word for word in argv)


def _cfg_ctx(e: dict[str, str]) -> tuple[Any, Any]:
    from ocflib.env import OcfEnv
    from ocflib.params import parse_params

    cfg, _ = parse_params(mysql.PARAMS, OcfEnv("start", e).reskeys)
    return cfg, fake_context(AGENT, OcfEnv("start", e), host=FakeHost())


def test_server_command_line(tmp_path: Any) -> None:
    """additional_parameters are split on white space with quotes kept, exactly as the
    reference's unquoted expansion passes them (and never through a shell)."""
    e = env(str(tmp_path), additional_parameters="--innodb-buffer-pool-size=64M  --x='a;b' $(id)")
    e["OCF_RESKEY_CRM_meta_promotable"] = "true"
    cfg, ctx = _cfg_ctx(e)
    assert mysql.server_argv(cfg, ctx) == [
        "runuser",
        "-u",
        "mysql",
        "-g",
        "mysql",
        "--",
        "/bin/true",
        "--defaults-file=/etc/hostname",
        f"--pid-file={tmp_path}/m.pid",
        f"--socket={tmp_path}/m.sock",
        f"--datadir={tmp_path}",
        f"--log-error={tmp_path}/err.log",
        "--innodb-buffer-pool-size=64M",
        "--x='a;b'",
        "$(id)",
        "--skip-slave-start",
    ]


# --- statements by version ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "replica", "binlog", "change_source"),
    [
        ("10.4.32-MariaDB", "SLAVE", "SHOW MASTER STATUS", False),
        ("10.11.19-MariaDB-0+deb12u1", "REPLICA", "SHOW BINLOG STATUS", False),
        ("5.7.44-log", "SLAVE", "SHOW MASTER STATUS", False),
        ("8.0.22", "REPLICA", "SHOW MASTER STATUS", False),
        ("8.0.36", "REPLICA", "SHOW MASTER STATUS", True),
        ("8.4.3", "REPLICA", "SHOW BINARY LOG STATUS", True),
    ],
)
def test_dialect(version: str, replica: str, binlog: str, change_source: bool) -> None:
    d = mysqlrepl.Dialect(version)
    assert (d.status(), d.start(), d.stop(), d.reset()) == (
        f"SHOW {replica} STATUS",
        f"START {replica}",
        f"STOP {replica}",
        f"RESET {replica} ALL",
    )
    assert (d.binlog_status, d.change_source) == (binlog, change_source)


def test_native_password_scramble() -> None:
    salt = bytes(range(1, 21))
    stage1 = hashlib.sha1(b"secret").digest()  # noqa: S324 - the protocol's hash
    mix = hashlib.sha1(salt + hashlib.sha1(stage1).digest()).digest()  # noqa: S324
    assert scramble_native(b"secret", salt) == bytes(a ^ b for a, b in zip(stage1, mix))
    assert scramble_native(b"", salt) == b""


# --- the promotion-score ladder with a fake server ------------------------------------


def replica(
    io: str = "Yes", sql: str = "Yes", lag: int | None = 5, sql_errno: int = 0
) -> dict[str, Any]:
    return {
        "Slave_IO_Running": io,
        "Slave_SQL_Running": sql,
        "Seconds_Behind_Master": lag,
        "Last_IO_Errno": 0,
        "Last_IO_Error": "",
        "Last_SQL_Errno": sql_errno,
        "Last_SQL_Error": "Duplicate entry '7' for key 'PRIMARY'" if sql_errno else "",
        "Master_Host": "n2",
    }


@pytest.fixture
def server(tmp_path: Any, request: pytest.FixtureRequest) -> Generator[FakeSql]:
    """A running server: its pid file, its process (mariadbd of the mysql user) in
    the fake process table, and a strict SQL script to fill."""
    (tmp_path / "m.pid").write_text("4242\n")
    procs = FakeProcesses()
    procs.add(4242, "mariadbd", uid=27)
    SERVERS.append(procs)
    sql = FakeSql()
    yield sql
    SERVERS.remove(procs)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        sql.assert_done()


VERSION = ("SELECT VERSION() AS v", [{"v": "10.11.6-MariaDB"}])
READ_ONLY = "SELECT @@global.read_only AS r"


def replica_monitor(sql: FakeSql, status: list[dict[str, Any]]) -> None:
    """The steps of a replica's monitor: the quiet login, one connection, read_only,
    the dialect, the replica status."""
    sql.login("root").connection("root").statement(READ_ONLY, [{"r": 1}]).statement(*VERSION)
    sql.statement("SHOW REPLICA STATUS", status)


def reader(value: str) -> list[str]:
    return ["crm_attribute", "-N", "n1", "-l", "reboot", "-n", "readable", "-v", value]


def test_primary_scores_above_any_replica_and_8(
    fake: FakeRunner, server: FakeSql, tmp_path: Any
) -> None:
    """max_slave_lag + 1 (as at promote), above a healthy replica's max_slave_lag - lag:
    with 2, as the reference gives, a replica without lag outranks the primary and
    Pacemaker moves the promotion to it at once, and back, without end (seen in the
    lab: 500 transitions in four minutes)."""
    server.login("root").connection("root").statement(READ_ONLY, [{"r": 0}])
    fake.expect([*ATTR, "-v", "3601"])
    out = run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server)
    assert out.rc == OCF.RUNNING_PROMOTED, (out.reasons, out.records)


def test_healthy_replica_score_by_lag(fake: FakeRunner, server: FakeSql, tmp_path: Any) -> None:
    replica_monitor(server, [replica(lag=10)])
    fake.expect([*ATTR, "-v", "3590"])
    fake.expect(reader("1"))
    assert run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server).rc == 0


def test_unconfigured_unpromoted_gets_score_1(
    fake: FakeRunner, server: FakeSql, tmp_path: Any
) -> None:
    replica_monitor(server, [])
    fake.expect([*ATTR, "-v", "1"])
    assert run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server).rc == 0


def test_broken_replica_loses_its_score_and_says_why(
    fake: FakeRunner, server: FakeSql, tmp_path: Any
) -> None:
    """resource-agents #1377: the reference keeps the score of a broken replica. An
    error is not blindly restarted (no START REPLICA in the script)."""
    replica_monitor(server, [replica(sql="No", sql_errno=1062)])
    fake.expect([*ATTR, "-D"])
    fake.expect(reader("0"))
    out = run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server)
    assert out.rc == OCF.DEGRADED
    assert out.reason == (
        "replication broken, promotion score removed: Last_SQL_Errno 1062: "
        "Duplicate entry '7' for key 'PRIMARY'"
    )


def test_stopped_sql_thread_without_error_is_restarted(
    fake: FakeRunner, server: FakeSql, tmp_path: Any
) -> None:
    replica_monitor(server, [replica(sql="No")])
    server.statement("START REPLICA")
    fake.expect([*ATTR, "-D"])
    fake.expect(reader("0"))
    out = run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server)
    assert out.rc == OCF.DEGRADED


def test_replica_status_unavailable_leaves_the_score_alone(
    fake: FakeRunner, server: FakeSql, tmp_path: Any
) -> None:
    server.login("root").connection("root").statement(READ_ONLY, [{"r": 1}])
    server.statement(*VERSION).statement("SHOW REPLICA STATUS", error=(2013, "Lost connection"))
    out = run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server)
    assert out.rc == 0
    assert out.logged("warning") == [
        "replica status unavailable (Lost connection (2013)): score unchanged"
    ]


def test_unreachable_source_keeps_a_caught_up_replica_promotable(
    fake: FakeRunner, server: FakeSql, tmp_path: Any
) -> None:
    caught_up = {
        **replica(io="Connecting", lag=None),
        "Last_IO_Errno": 2003,
        "Last_IO_Error": "error reconnecting to master",
        "Master_Log_File": "b.000003",
        "Read_Master_Log_Pos": 900,
        "Relay_Master_Log_File": "b.000003",
        "Exec_Master_Log_Pos": 900,
    }
    replica_monitor(server, [caught_up])
    fake.expect(reader("0"))
    fake.expect([*ATTR, "-v", "3600"])
    assert run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server).rc == 0
    replica_monitor(server, [{**caught_up, "Exec_Master_Log_Pos": 500}])
    fake.expect(reader("0"))
    fake.expect([*ATTR, "-v", "1"])
    assert run("monitor", fake, env(str(tmp_path), 10000, PROMOTABLE), server).rc == 0


def test_lag_beyond_max(fake: FakeRunner, server: FakeSql, tmp_path: Any) -> None:
    replica_monitor(server, [replica(lag=100)])
    fake.expect(reader("0"))
    fake.expect([*ATTR, "-v", "0"])
    e = env(str(tmp_path), 10000, PROMOTABLE, max_slave_lag="60")
    assert run("monitor", fake, e, server).rc == 0
    replica_monitor(server, [replica(lag=100)])
    fake.expect(reader("0"))
    out = run("monitor", fake, {**e, "OCF_RESKEY_evict_outdated_slaves": "yes"}, server)
    assert out.rc == OCF.ERR_INSTALLED


def test_promote_and_demote(fake: FakeRunner, server: FakeSql, tmp_path: Any) -> None:
    # promote: replication stopped on a connection of its own (bounded), reset, the
    # binlog position handed to the replicas, read_only off
    server.connection("root").statement(*VERSION)
    server.connection("root").statement("STOP REPLICA")
    server.statement("RESET REPLICA ALL")
    server.statement("SHOW BINLOG STATUS", [{"File": "mysql-bin.000007", "Position": 1234}])
    server.statement("SET GLOBAL read_only = OFF")
    fake.expect(
        ["crm_attribute", "-N", "n1", "-l", "forever", "-n", "test_mysql_master_IP", "-G", "-q"],
        returncode=6,
    )
    fake.expect(
        [
            "crm_attribute",
            "--type",
            "crm_config",
            "--name",
            "test_REPL_INFO",
            "-s",
            "mysql_replication",
            "-v",
            "n1|mysql-bin.000007|1234",
        ]
    )
    fake.expect([*ATTR, "-v", "3601"])
    fake.expect(reader("1"))
    assert run("promote", fake, env(str(tmp_path), meta=PROMOTABLE), server).rc == 0
    # demote: read_only on, then the clients' connections ended (not the server's own)
    server.connection("root").statement("SET GLOBAL read_only = ON")
    server.statement(
        "SELECT ID, USER, COMMAND FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()",
        [
            {"ID": 10, "USER": "app", "COMMAND": "Query"},
            {"ID": 11, "USER": "system user", "COMMAND": "Slave_SQL"},
            {"ID": 12, "USER": "repl", "COMMAND": "Binlog Dump GTID"},
        ],
    )
    server.statement("KILL CONNECTION 10")
    fake.expect([*ATTR, "-v", "1"])
    fake.expect(reader("0"))
    assert run("demote", fake, env(str(tmp_path), meta=PROMOTABLE), server).rc == 0


def test_notify_never_fails(fake: FakeRunner, server: FakeSql, tmp_path: Any) -> None:
    server.connection("root", error=(1045, "Access denied"))
    meta = {
        **PROMOTABLE,
        "notify_type": "post",
        "notify_operation": "promote",
        "notify_promote_uname": "n2",
    }
    out = run("notify", fake, env(str(tmp_path), meta=meta), server)
    assert out.rc == 0
    assert out.reasons == ["cannot log in to MySQL as root: Access denied (1045)"]


def test_stop_when_the_server_exits_just_before_the_signal(fake: FakeRunner, tmp_path: Any) -> None:
    """A server gone between reading its pid and signalling it is stopped, not an error."""
    (tmp_path / "m.pid").write_text("4242\n")
    procs = FakeProcesses()
    procs.add(4242, "mariadbd", uid=27)
    procs.vanishing.add(4242)
    out = run("stop", fake, env(str(tmp_path)), procs=procs)
    assert (out.rc, out.reasons, procs.signals) == (0, [], [])
