"""galera-py's monitor against real MariaDB Galera nodes (mariadbd + galera-4),
each in a network namespace of the test's own, joined by a bridge in another.

The full life cycle under Pacemaker is in tests/lab/test_lab_galera.py; here are
the states a lab cannot make on purpose: a login refused for max_connections,
and nodes restarted after a staggered crash without their positions (Primary,
Synced and ready, without a cluster history).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator

import pytest

from lab.mariadb import MariaDB
from tests.conftest import AGENTS_DIR, need
from tests.netns import lan

pytestmark = pytest.mark.integration
AGENT = os.path.join(AGENTS_DIR, "galera-py")
PROVIDER = "/usr/lib/galera/libgalera_smm.so"


class Node(MariaDB):
    """One mariadbd Galera node: its namespace, address, directory."""

    def __init__(self, base: str, index: int, netns: str, count: int) -> None:
        self.name = f"g{index}"
        self.netns = netns
        self.address = f"10.251.{os.getpid() % 200}.{index}"
        self.procs: list[subprocess.Popen[bytes]] = []
        peers = ",".join(f"10.251.{os.getpid() % 200}.{i}" for i in range(1, count + 1))
        config = [
            f"bind-address={self.address}",
            "binlog_format=ROW",
            "default_storage_engine=InnoDB",
            "innodb_autoinc_lock_mode=2",
            "innodb_buffer_pool_size=32M",
            "wsrep_on=ON",
            f"wsrep_provider={PROVIDER}",
            f"wsrep_cluster_address=gcomm://{peers}",
            f"wsrep_node_address={self.address}",
            f"wsrep_node_name={self.name}",
            "wsrep_cluster_name=pyhatest",
            "wsrep_sst_method=rsync",
        ]
        super().__init__(os.path.join(base, self.name), config, install_args=["--no-defaults"])

    def start(self, *extra: str, wait: bool = True) -> None:
        self.procs.append(
            subprocess.Popen(
                [
                    "ip",
                    "netns",
                    "exec",
                    self.netns,
                    "runuser",
                    "-u",
                    "mysql",
                    "--",
                    "/usr/sbin/mariadbd",
                    f"--defaults-file={self.dir}/my.cnf",
                    f"--datadir={self.datadir}",
                    f"--socket={self.socket}",
                    f"--pid-file={self.pid_file}",
                    f"--log-error={self.dir}/err.log",
                    *extra,
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        if wait:
            self.wait_up()

    def wait_up(self) -> None:
        end = time.monotonic() + 60
        while self.query("SELECT 1") is None:
            if time.monotonic() > end:
                raise AssertionError(f"{self.name} did not start: {self.log_tail()}")
            time.sleep(0.2)

    def status(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in self.query("SHOW STATUS LIKE 'wsrep%'") or []}

    def kill(self) -> None:
        """kill -9 of the servers this test started here (runuser's children)."""
        for p in self.procs:
            for child in _children(p.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGKILL)
            p.wait(timeout=30)
        self.procs.clear()

    def log_tail(self) -> str:
        try:
            with open(os.path.join(self.dir, "err.log")) as f:
                return " | ".join(f.read().splitlines()[-5:])
        except OSError:
            return ""

    def monitor(self, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [AGENT, "monitor"],
            env={**self.monitor_env(), **(extra_env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def monitor_env(self) -> dict[str, str]:
        """The environment Pacemaker gives a recurring monitor of this node."""
        return {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "db",
            "OCF_RESKEY_CRM_meta_interval": "10000",
            "OCF_RESKEY_CRM_meta_timeout": "30000",
            "OCF_RESKEY_CRM_meta_on_node": self.name,
            "OCF_RESKEY_CRM_meta_promotable": "true",
            "HA_RSCTMP": self.dir,
            "OCF_RESKEY_binary": "/usr/sbin/mariadbd",
            "OCF_RESKEY_config": f"{self.dir}/my.cnf",
            "OCF_RESKEY_datadir": self.datadir,
            "OCF_RESKEY_pid": self.pid_file,
            "OCF_RESKEY_socket": self.socket,
            "OCF_RESKEY_log": f"{self.dir}/err.log",
            "OCF_RESKEY_wsrep_cluster_address": "gcomm://g1,g2,g3",
        }


def _children(pid: int) -> list[int]:
    """The children of a process this test started (ip netns exec becomes
    runuser, whose child is mariadbd)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


@contextlib.contextmanager
def galera_nodes(count: int) -> Iterator[list[Node]]:
    """count Galera nodes (not started), each in a namespace of its own on one
    bridge; every server, namespace and file removed afterwards."""
    need(PROVIDER, "mariadbd", "mariadb-install-db", "rsync", root=True)
    base = tempfile.mkdtemp(prefix="pyha-galera-", dir="/var/tmp")
    shutil.chown(base, "mysql", "mysql")
    nodes: list[Node] = []
    try:
        with lan(count) as hosts:
            for i, host in enumerate(hosts, 1):
                node = Node(base, i, host.name, count)
                nodes.append(node)
                host.ip("addr", "add", f"{node.address}/24", "dev", "eth0")
            try:
                yield nodes
            finally:
                for node in nodes:
                    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                        node.kill()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_monitor_of_a_real_member_and_a_full_max_connections() -> None:
    """Promoted (8) on a bootstrapped node; still 8, with a warning, when every
    connection slot is taken (the reference's monitor fails there: #680)."""
    import pymysql

    with galera_nodes(1) as (node,):
        node.start("--wsrep-new-cluster")
        monitor = node.monitor()
        out, err = monitor.communicate(timeout=60)
        assert monitor.returncode == 8, err
        node.query("SET GLOBAL max_connections = 2")
        held = []
        try:
            while True:  # every slot, the extra one for an administrator included
                held.append(pymysql.connect(unix_socket=node.socket, user="root"))
        except pymysql.MySQLError as busy:
            assert busy.args[0] == 1040, busy
        try:
            monitor = node.monitor()
            out, err = monitor.communicate(timeout=60)
            assert monitor.returncode == 8, err
            assert "too many connections" in err
        finally:
            for conn in held:
                conn.close()


def test_monitor_fails_nodes_restored_without_their_history() -> None:
    """Three nodes; one killed, the other two commit on, then killed; all three
    started again plainly (no bootstrap, no positions), as an administrator
    might. Galera restores its primary component from gvwstate.dat but resets
    the history: the nodes say Primary, Synced and ready (all the reference's
    monitor asks for). galera-py fails every such node, and why."""
    with galera_nodes(3) as nodes:
        g1, g2, g3 = nodes
        g1.start("--wsrep-new-cluster")
        g2.start()
        g3.start()
        g1.query("CREATE DATABASE t")
        g1.query("CREATE TABLE t.x (id INT PRIMARY KEY)")
        g1.query("INSERT INTO t.x VALUES (1), (2), (3)")
        g1.kill()
        end = time.monotonic() + 30
        while g2.status().get("wsrep_cluster_size") != "2" and time.monotonic() < end:
            time.sleep(0.2)
        g2.query("INSERT INTO t.x VALUES (4), (5)")
        g2.kill()
        g3.kill()
        g2.start(wait=False)
        g3.start(wait=False)
        g2.wait_up()
        g3.wait_up()
        time.sleep(4)
        g1.start()
        time.sleep(5)
        trapped = []
        for node in nodes:
            s = node.status()
            primary = s.get("wsrep_cluster_status") == "Primary" and s.get("wsrep_ready") == "ON"
            no_history = s.get("wsrep_cluster_state_uuid", "") in (
                "",
                "00000000-0000-0000-0000-000000000000",
            ) or s.get("wsrep_cluster_conf_id") in ("-1", "18446744073709551615")
            if primary and no_history:
                trapped.append(node)
        assert trapped, "the nodes came back with their history: the trap was not set"
        monitors = [(node, node.monitor()) for node in trapped]
        for node, monitor in monitors:
            _out, err = monitor.communicate(timeout=60)
            assert monitor.returncode == 1, (node.name, err)
            assert "primary component has no cluster history" in err, err
