"""mysql-py against a real mariadbd: standalone, data safety, the distro layout, replication."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lab.cib import seed_cib
from lab.mariadb import MariaDB
from tests.conftest import AGENTS_DIR, feature_set, need, process_state

pytestmark = pytest.mark.integration
AGENT = os.path.join(AGENTS_DIR, "mysql-py")


class Server(MariaDB):
    """A MariaDB instance in its own directory (datadir initialised once), with binary
    logs; reachable over TCP on 127.0.0.1 when given a port."""

    def __init__(self, base: str, name: str, port: int | None = None, server_id: int = 1) -> None:
        self.port = port
        lines = [f"server_id={server_id}", "log_bin=mysql-bin", "binlog_format=ROW"]
        lines += [f"port={port}", "bind-address=127.0.0.1"] if port else ["skip-networking"]
        super().__init__(
            os.path.join(base, name),
            lines,
            install_args=["--auth-root-authentication-method=normal"],
        )


@pytest.fixture
def base() -> Iterator[str]:
    need("mariadbd", "mariadb-install-db", "runuser", root=True)
    with tempfile.TemporaryDirectory(prefix="pyha-mysql-", dir="/var/tmp") as directory:
        shutil.chown(directory, "mysql", "mysql")
        yield directory
        for pidfile in subprocess.run(
            ["find", directory, "-name", "m.pid"], text=True, capture_output=True, check=False
        ).stdout.split():
            with contextlib.suppress(OSError, ValueError), open(pidfile) as f:
                os.kill(int(f.read()), signal.SIGKILL)  # a server this test started


def agent(
    action: str,
    params: dict[str, str],
    *,
    interval: int = 0,
    level: int | None = None,
    meta: dict[str, str] | None = None,
    extra_env: dict[str, str] | None = None,
    rsctmp: str = "/run/resource-agents",
) -> subprocess.CompletedProcess[str]:
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "db",
        "HA_RSCTMP": rsctmp,
        "OCF_RESKEY_CRM_meta_timeout": "60000",
        "OCF_RESKEY_CRM_meta_interval": str(interval),
    }
    if level is not None:
        env["OCF_CHECK_LEVEL"] = str(level)
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    env.update({f"OCF_RESKEY_CRM_meta_{k}": v for k, v in (meta or {}).items()})
    env.update(extra_env or {})
    return subprocess.run(
        [AGENT, action], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def reason(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("ocf-exit-reason:")]
    assert len(lines) == 1, result.stderr
    return lines[0][len("ocf-exit-reason:") :]


def test_lifecycle_kill_9_and_depth_10(base: str) -> None:
    db = Server(base, "a")
    p = db.params()
    assert agent("monitor", p).returncode == 7
    started = time.monotonic()
    assert agent("start", p).returncode == 0
    assert time.monotonic() - started < 10
    assert db.sql("SELECT 1") == [(1,)]  # start returned: it accepts connections
    assert agent("start", p).returncode == 0
    assert agent("monitor", p, interval=20000).returncode == 0
    db.sql("CREATE USER tu@localhost IDENTIFIED BY 'pw-in-no-argv'")
    db.sql("GRANT SELECT ON mysql.* TO tu@localhost")
    good = {**p, "test_user": "tu", "test_passwd": "pw-in-no-argv"}
    assert agent("monitor", good, interval=20000, level=10).returncode == 0
    bad = agent("monitor", {**good, "test_table": "mysql.nosuchtable"}, interval=20000, level=10)
    assert bad.returncode == 1 and "Unable to read mysql.nosuchtable as tu" in reason(bad)
    assert "pw-in-no-argv" not in bad.stderr
    pid = db.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.3)
    assert agent("monitor", p, interval=20000).returncode == 7
    assert agent("stop", p).returncode == 0
    assert agent("start", p).returncode == 0
    stopped = time.monotonic()
    assert agent("stop", p).returncode == 0
    assert time.monotonic() - stopped < 5
    assert db.pid() is None and not os.path.exists(db.socket)
    assert agent("stop", p).returncode == 0


def test_installation_problems(base: str) -> None:
    db = Server(base, "a")
    missing = agent("start", db.params(binary="/usr/sbin/no-such-mysqld"))
    assert missing.returncode == 5
    assert reason(missing) == "Setup problem: couldn't find command: /usr/sbin/no-such-mysqld"
    assert agent("monitor", db.params(binary="/usr/sbin/no-such-mysqld")).returncode == 7
    nouser = agent("start", db.params(user="pyha-nobody"))
    assert nouser.returncode == 5 and reason(nouser) == "User pyha-nobody doesn't exist"
    noconf = agent("start", db.params(config="/nonexistent/my.cnf"))
    assert noconf.returncode == 5 and reason(noconf) == "Config /nonexistent/my.cnf doesn't exist"
    os.chmod(db.datadir, 0o700)
    shutil.chown(db.datadir, "root", "root")
    locked = agent("start", db.params())
    assert locked.returncode == 4
    assert reason(locked) == f"Directory {db.datadir} is not writable by mysql"


def test_enable_creation_initialises_an_empty_datadir(base: str) -> None:
    db = Server(base, "a")
    fresh = os.path.join(base, "fresh")
    os.makedirs(fresh)
    shutil.chown(fresh, "mysql", "mysql")
    p = db.params(datadir=fresh, enable_creation="true")
    assert agent("start", p).returncode == 0
    assert os.path.isdir(os.path.join(fresh, "mysql"))
    assert db.sql("SELECT COUNT(*) FROM mysql.user")[0][0] > 0
    assert agent("stop", p).returncode == 0


def test_stop_mid_transaction_keeps_every_committed_row(base: str) -> None:
    import pymysql

    db = Server(base, "a")
    p = db.params()
    assert agent("start", p).returncode == 0
    db.sql("CREATE DATABASE shop")
    db.sql("CREATE TABLE shop.orders (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB")
    committed = []
    errors: list[str] = []
    stop_writing = threading.Event()

    def writer() -> None:
        conn = pymysql.connect(unix_socket=db.socket, user="root", password="")
        try:
            i = 0
            while not stop_writing.is_set():
                i += 1
                with conn.cursor() as cur:
                    cur.execute("INSERT INTO shop.orders VALUES (%s, 'x')", (i,))
                conn.commit()
                committed.append(i)
        except pymysql.MySQLError as err:
            errors.append(str(err))

    open_tx = pymysql.connect(unix_socket=db.socket, user="root", password="")
    with open_tx.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("INSERT INTO shop.orders VALUES (-1, 'never committed')")
    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    assert (
        agent("stop", p).returncode == 0
    )  # while one client writes, another has a transaction open
    stop_writing.set()
    thread.join(10)
    assert committed and errors  # the writer was cut off by the shutdown
    assert agent("start", p).returncode == 0
    ids = {row[0] for row in db.sql("SELECT id FROM shop.orders")}
    assert set(committed) <= ids
    assert -1 not in ids
    assert agent("stop", p).returncode == 0


def test_default_parameters_manage_the_distribution_install() -> None:
    """No parameters at all: the Debian MariaDB (/etc/mysql/my.cnf, /var/lib/mysql,
    /run/mysqld, mysqld_safe), run in private mount and network namespaces over
    copies of its directories, so the machine's own install is untouched."""
    need("mysqld_safe", "unshare", root=True)
    if not os.path.isdir("/var/lib/mysql/mysql"):
        pytest.fail("the distribution's MariaDB datadir is not initialised (CI installs it)")
    with tempfile.TemporaryDirectory(prefix="pyha-distro-", dir="/var/tmp") as work:
        script = f"""
            set -e
            ip link set lo up
            cp -a /var/lib/mysql {work}/lib
            mount --bind {work}/lib /var/lib/mysql
            mkdir {work}/run && chown mysql:mysql {work}/run
            mount --bind {work}/run /run/mysqld
            mount -t tmpfs pyha-log /var/log
            set +e
            export OCF_ROOT=/usr/lib/ocf OCF_RESOURCE_INSTANCE=db HA_RSCTMP={work}/rsc
            {AGENT} monitor; echo probe=$?
            {AGENT} start; echo start=$?
            OCF_RESKEY_CRM_meta_interval=20000 {AGENT} monitor; echo monitor=$?
            mysql -e "SELECT 'via the distro socket'" 2>&1 | tail -1
            {AGENT} stop; echo stop=$?
        """
        result = subprocess.run(
            ["unshare", "--mount", "--net", "--propagation", "private", "sh", "-c", script],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        lines = result.stdout.split()
        for expected in ("probe=7", "start=0", "monitor=0", "stop=0"):
            assert expected in lines, result.stdout + result.stderr
        assert "via the distro socket" in result.stdout


# --- replication ---------------------------------------------------------------------


@pytest.fixture
def pair(base: str) -> Iterator[tuple[Server, Server, str]]:
    """Two servers on 127.0.0.1 and a CIB file for the cluster attributes."""
    need("cibadmin", "crm_attribute")
    a = Server(base, "a", port=33071, server_id=1)
    b = Server(base, "b", port=33072, server_id=2)
    cib = seed_cib(os.path.join(base, "cib.xml"), nodes=["node-a", "node-b"])
    env = {**os.environ, "CIB_file": cib}
    for name in ("node-a", "node-b"):
        # Replicas reach each primary at 127.0.0.1 (the <instance>_mysql_master_IP attribute).
        subprocess.run(
            [
                "crm_attribute",
                "-N",
                name,
                "-l",
                "forever",
                "-n",
                "db_mysql_master_IP",
                "-v",
                "127.0.0.1",
            ],
            env=env,
            check=True,
        )
    yield a, b, cib


def node_run(
    server: Server,
    peer: Server,
    node: str,
    cib: str,
    action: str,
    notify: dict[str, str] | None = None,
    **params: str,
) -> subprocess.CompletedProcess[str]:
    """The agent as Pacemaker runs it on node (a promotable clone instance)."""
    meta = {
        "promotable": "true",
        "promoted_max": "1",
        "clone_max": "2",
        "notify": "true",
        "on_node": node,
        **(notify or {}),
    }
    # Each node's replicas connect to the other server's port (one machine here).
    p = server.params(replication_port=str(peer.port), **params)
    return agent(
        action,
        p,
        interval=10000 if action == "monitor" else 0,
        meta=meta,
        # What the installed Pacemaker passes (2.0: crm_master; 2.1 on: crm_attribute).
        extra_env={"CIB_file": cib, "OCF_RESKEY_crm_feature_set": feature_set()},
        rsctmp=os.path.join(server.dir, "rsc"),
    )


def attribute(cib: str, node: str, name: str) -> str | None:
    out = subprocess.run(
        ["crm_attribute", "-N", node, "-l", "reboot", "-n", name, "-G", "-q"],
        env={**os.environ, "CIB_file": cib},
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() if out.returncode == 0 else None


def wait_replicated(server: Server, statement: str, expected: list[Any]) -> None:
    for _ in range(100):
        try:
            if server.sql(statement) == expected:
                return
        except Exception:  # noqa: BLE001, S110 - the table may not exist yet
            pass
        time.sleep(0.05)
    try:  # why: the replica's own account of its threads
        rows = server.sql("SHOW SLAVE STATUS")
        status = str(rows[0])[:2000] if rows else "not a replica"
    except Exception as error:  # noqa: BLE001 - diagnostics only
        status = f"SHOW SLAVE STATUS failed: {error}"
    pytest.fail(f"{statement} never returned {expected} on {server.dir}: {status}")


def post(op: str, promoted: str, **extra: str) -> dict[str, str]:
    return {
        "notify_type": "post",
        "notify_operation": op,
        f"notify_{op}_uname": promoted,
        "notify_promoted_uname": promoted if op == "promote" else " ",
        **extra,
    }


def test_promote_demote_notify_moves_the_primary_and_the_replica_follows(
    pair: tuple[Server, Server, str],
) -> None:
    a, b, cib = pair
    assert node_run(a, b, "node-a", cib, "start").returncode == 0
    assert node_run(b, a, "node-b", cib, "start").returncode == 0
    assert attribute(cib, "node-a", "master-db") == "1"
    assert node_run(a, b, "node-a", cib, "promote").returncode == 0
    assert a.sql("SELECT @@read_only") == [(0,)]
    assert (
        attribute(cib, "node-a", "master-db") == "3601"
        and attribute(cib, "node-a", "readable") == "1"
    )
    assert node_run(b, a, "node-b", cib, "notify", post("promote", "node-a")).returncode == 0
    assert node_run(a, b, "node-a", cib, "notify", post("promote", "node-a")).returncode == 0
    a.sql("CREATE DATABASE app")
    a.sql("CREATE TABLE app.t (id INT PRIMARY KEY)")
    a.sql("INSERT INTO app.t VALUES (1), (2)")
    wait_replicated(b, "SELECT COUNT(*) FROM app.t", [(2,)])
    assert node_run(a, b, "node-a", cib, "monitor").returncode == 8
    assert node_run(b, a, "node-b", cib, "monitor").returncode == 0
    assert attribute(cib, "node-b", "readable") == "1"
    assert int(attribute(cib, "node-b", "master-db") or -1) >= 3590
    # Switchover: demote a, b stops following it, promote b, a follows b.
    assert node_run(a, b, "node-a", cib, "demote").returncode == 0
    assert a.sql("SELECT @@read_only") == [(1,)]
    assert (
        node_run(
            b, a, "node-b", cib, "notify", post("demote", "node-a", notify_demote_uname="node-a")
        ).returncode
        == 0
    )
    assert node_run(b, a, "node-b", cib, "promote").returncode == 0
    for server, peer, node in ((a, b, "node-a"), (b, a, "node-b")):
        assert (
            node_run(server, peer, node, cib, "notify", post("promote", "node-b")).returncode == 0
        )
    b.sql("INSERT INTO app.t VALUES (3)")
    wait_replicated(a, "SELECT COUNT(*) FROM app.t", [(3,)])
    assert node_run(b, a, "node-b", cib, "monitor").returncode == 8
    assert node_run(a, b, "node-a", cib, "monitor").returncode == 0
    for server, peer, node in ((a, b, "node-a"), (b, a, "node-b")):
        assert node_run(server, peer, node, cib, "stop").returncode == 0
        assert attribute(cib, node, "master-db") is None


def a_primary_b_follows(a: Server, b: Server, cib: str) -> None:
    """Both instances started, a promoted, b told (post-promote) and following."""
    for server, peer, node in ((a, b, "node-a"), (b, a, "node-b")):
        started = node_run(server, peer, node, cib, "start")
        assert started.returncode == 0, started.stderr
    assert node_run(a, b, "node-a", cib, "promote").returncode == 0
    assert node_run(b, a, "node-b", cib, "notify", post("promote", "node-a")).returncode == 0


def test_broken_replication_drops_the_score_and_lag_is_reported(
    pair: tuple[Server, Server, str],
) -> None:
    a, b, cib = pair
    a_primary_b_follows(a, b, cib)
    a.sql("CREATE DATABASE app")
    a.sql("CREATE TABLE app.t (id INT PRIMARY KEY)")
    wait_replicated(b, "SHOW TABLES FROM app", [("t",)])
    assert node_run(b, a, "node-b", cib, "monitor").returncode == 0
    assert attribute(cib, "node-b", "master-db") is not None
    # A conflicting row on the replica: the primary's insert cannot be applied.
    b.sql("SET SESSION sql_log_bin=0")
    b.sql("INSERT INTO app.t VALUES (7)")
    a.sql("INSERT INTO app.t VALUES (7)")
    for _ in range(100):
        health = node_run(b, a, "node-b", cib, "monitor")
        if health.returncode != 0:
            break
        time.sleep(0.05)
    assert health.returncode == 190, health.stderr  # degraded: running, not promotable
    assert reason(health).startswith(
        "replication broken, promotion score removed: Last_SQL_Errno 1062"
    )
    assert attribute(cib, "node-b", "master-db") is None
    assert attribute(cib, "node-b", "readable") == "0"


def test_a_lagging_replica_is_not_readable_and_can_be_evicted(
    pair: tuple[Server, Server, str],
) -> None:
    a, b, cib = pair
    a_primary_b_follows(a, b, cib)
    b.sql("STOP SLAVE")
    b.sql("CHANGE MASTER TO MASTER_DELAY=30")
    b.sql("START SLAVE")
    a.sql("CREATE DATABASE lag")
    time.sleep(2.5)
    lagging = node_run(b, a, "node-b", cib, "monitor", max_slave_lag="1")
    assert lagging.returncode == 0
    assert attribute(cib, "node-b", "readable") == "0"
    assert attribute(cib, "node-b", "master-db") == "0"
    evicted = node_run(
        b, a, "node-b", cib, "monitor", max_slave_lag="1", evict_outdated_slaves="true"
    )
    assert evicted.returncode == 5 and "more than max_slave_lag=1: evicted" in reason(evicted)


def test_stop_uses_sigkill_only_near_the_deadline(base: str) -> None:
    db = Server(base, "a")
    p = db.params()
    assert agent("start", p).returncode == 0
    pid = db.pid()
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # it cannot act on SIGTERM any more
    env_timeout = {"OCF_RESKEY_CRM_meta_timeout": "6000"}  # budget 5 s; SIGKILL 2 s before
    began = time.monotonic()
    stopped = agent("stop", p, extra_env=env_timeout)
    took = time.monotonic() - began
    assert stopped.returncode == 0, stopped.stderr
    assert 2.0 < took < 5.0, took
    assert "did not stop on SIGTERM in time: sending SIGKILL" in stopped.stderr
    assert process_state(pid) in ("Z", "gone")
