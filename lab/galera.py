"""Active/Active MySQL: a three-node MariaDB Galera cluster run by Pacemaker.

Three namespace nodes (lab.cluster) with real fencing; each node has its own
datadir and error log (a host directory bind-mounted at /var/lib/mysql
inside the node only: data/ and error.log) and runs its own mariadbd. The galera
resource is a promotable clone with promoted-max=3, by agent set: `pyha`
(ocf:pyha:galera-py) or `reference` (ocf:heartbeat:galera), configured alike.
Clients connect to each node's own address (192.0.2.11-13); a VIP
(192.0.2.100, IPaddr2-py) follows a Promoted instance for the final checks.

    with GaleraLab("pyha") as lab:
        lab.configure_galera()
        lab.wait_promoted(3)
        lab.create_schema()
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Sequence

from lab import stack
from lab.cluster import NamespaceCluster
from lab.ops import LabError
from lab.scenario import NS_VIP, Writer, ids_present

AGENT = {"pyha": "ocf:pyha:galera-py", "reference": "ocf:heartbeat:galera"}
GALERA_CNF = """[mysqld]
bind-address=0.0.0.0
port=3306
skip-name-resolve
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_buffer_pool_size=32M
innodb_log_file_size=16M
wsrep_on=ON
wsrep_provider=/usr/lib/galera/libgalera_smm.so
wsrep_cluster_name=pyhalab
wsrep_cluster_address=gcomm://node1,node2,node3
wsrep_sst_method=rsync
wsrep_provider_options="gcache.size=64M"
"""
# GTID mode, as MariaDB documents it for Galera nodes that feed asynchronous replicas: a
# binary log on every node, replicated writes logged too, one GTID domain for the cluster.
GTID_CNF = """log_bin=mysql-bin
log_slave_updates=ON
wsrep_gtid_mode=ON
wsrep_gtid_domain_id=1
server_id=1
"""
SOCKET = "/run/mysqld/mysqld.sock"
BASE = 10_000_000  # each node's writer commits ids in its own range: node i -> i * BASE


class GaleraLab(NamespaceCluster):
    """NamespaceCluster(3) with a Galera node's datadir on each node."""

    def __init__(
        self,
        agents: str = "pyha",
        *,
        keep: bool = False,
        data_mb: int = 0,
        gtid: bool = False,
        binary: str = "/usr/sbin/mariadbd",
        sst: str = "rsync",
        gcache_mb: int = 64,
        promote_timeout: int = 300,
    ) -> None:
        super().__init__(3, keep=keep)
        self.agents = agents
        self.gtid = gtid  # wsrep_gtid_mode=ON with a binary log (GTID_CNF)
        self.binary = binary  # the agents' binary: mariadbd, or the mysqld_safe launcher
        self.sst = sst  # wsrep_sst_method: rsync or mariabackup
        self.gcache_mb = gcache_mb  # small: a node away for a while needs a full SST
        self.promote_timeout = promote_timeout
        self.config_path = os.path.join(self.dir, "galera.cnf")
        self.data_mb = data_mb  # bulk data in the seed: a full state transfer costs more

    def _prepare(self) -> None:
        super()._prepare()
        with open(self.config_path, "w") as f:
            text = GALERA_CNF.replace(
                "wsrep_sst_method=rsync", f"wsrep_sst_method={self.sst}"
            ).replace("gcache.size=64M", f"gcache.size={self.gcache_mb}M")
            f.write(text + (GTID_CNF if self.gtid else ""))
        seed = os.path.join(self.dir, "seed")
        uid, gid = self.user_ids("mysql", "mysql")  # the nodes' numbering (a release's root)
        stack.seed_datadir(seed, self.root, (uid, gid))
        if self.data_mb:
            if self.root:
                raise LabError("bulk data is written by this machine's mariadbd: not in a root")
            add_bulk_data(seed, self.data_mb)
        for node in self.nodes:
            top = os.path.join(self.dir, node.name, "var/lib/mysql")
            os.makedirs(top)
            os.chown(top, uid, gid)
            shutil.copytree(seed, os.path.join(top, "data"), symlinks=True)
            for root, dirs, files in os.walk(os.path.join(top, "data")):
                for path in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.lchown(path, uid, gid)
        shutil.rmtree(seed)

    # -- configuration -----------------------------------------------------------------

    def galera_params(self) -> dict[str, str]:
        """The galera resource's parameters in this lab (the bench's monitor too)."""
        return {
            "wsrep_cluster_address": "gcomm://" + ",".join(self.node_names()),
            "binary": self.binary,
            "config": self.config_path,
            "datadir": "/var/lib/mysql/data",
            "user": "mysql",
            "group": "mysql",
            "log": "/var/lib/mysql/error.log",
            "pid": "/run/mysqld/mysqld.pid",
            "socket": SOCKET,
        }

    def galera_config(self, promote_timeout: int | None = None) -> str:
        """The README's Galera example with this lab's nodes, paths and VIP, after the
        fencing and the cluster's defaults."""
        from lab import examples

        promote_timeout = promote_timeout or self.promote_timeout
        stack = examples.adapt(
            examples.readme_block(examples.GALERA),
            params={"p_galera": self.galera_params(), "p_vip": {"ip": NS_VIP}},
            ops={
                "p_galera": {
                    "promote": f"timeout={promote_timeout}s",
                    "monitor:Promoted": "timeout=30s",
                    "monitor:Unpromoted": "timeout=30s",
                    "start": "timeout=120s",
                }
            },
            types={AGENT["pyha"]: AGENT[self.agents]},
        )
        return "\n".join(
            [
                *self.fencing_resources(),
                "property stonith-enabled=true",
                "rsc_defaults resource-stickiness=100",
                "op_defaults timeout=120s",
                stack,
            ]
        )

    def configure_galera(self, promote_timeout: int | None = None) -> float:
        """Load the configuration; returns when (monotonic)."""
        at = time.monotonic()
        self.configure(self.galera_config(promote_timeout))
        return at

    def limit_sst(self, rate: str | None) -> None:
        """Rate-limit the donors of mariabackup state transfers from now on (the
        [sst] rlimit every node's SST script reads when it starts; e.g. "2m"), or
        lift the limit (None)."""
        with open(self.config_path) as f:
            text = f.read().split("[sst]\n", 1)[0]
        with open(self.config_path, "w") as f:
            f.write(text + (f"[sst]\nrlimit={rate}\n" if rate else ""))

    # -- state ---------------------------------------------------------------------------

    def promoted(self) -> list[str]:
        return sorted(self.where("p_galera", roles=("Promoted", "Master")))

    def wait_promoted(
        self, count: int = 3, *, timeout: float = 240, nodes: Sequence[str] | None = None
    ) -> float:
        """Until count instances (or exactly these nodes) are Promoted; returns when."""
        end = time.monotonic() + timeout
        last: list[str] = []
        while time.monotonic() < end:
            last = self.promoted()
            if (nodes is None and len(last) >= count) or (
                nodes is not None and last == sorted(nodes)
            ):
                return time.monotonic()
            time.sleep(0.1)
        raise LabError(
            f"Promoted on {last} after {timeout}s, wanted {list(nodes or []) or count}; "
            f"logs in {self.dir}"
        )

    def sql(self, name: str, statement: str) -> str:
        """A statement as root on a node's own server (unix_socket login)."""
        return self.run(
            name, ["mariadb", "-S", SOCKET, "-N", "-B", "-e", statement], timeout=60
        ).stdout.strip()

    def left_at(self, name: str) -> str | None:
        """The <rsc>-left-at record galera-py keeps for a node (permanent node
        attribute, "history-uuid:seqno"), or None; read on any live node."""
        result = self.run(
            self.live_nodes()[0],
            ["crm_attribute", "-N", name, "-n", "p_galera-left-at", "-l", "forever", "-G", "-q"],
            check=False,
        )
        return result.stdout.strip() or None if result.returncode == 0 else None

    def set_property(self, *assignments: str) -> None:
        """crm configure property name=value ... (cluster options)."""
        self.crm(self.live_nodes()[0], "configure", "property", *assignments)

    def start_by_hand(self, name: str) -> None:
        """mariadbd started on a node as an administrator would, outside Pacemaker
        (the agent's files and options; it joins the cluster named in the config)."""
        address = "gcomm://" + ",".join(self.node_names())
        self.spawn(
            name,
            [
                "runuser",
                "-u",
                "mysql",
                "--",
                "/usr/sbin/mariadbd",
                f"--defaults-file={self.config_path}",
                "--datadir=/var/lib/mysql/data",
                "--pid-file=/run/mysqld/mysqld.pid",
                f"--socket={SOCKET}",
                "--log-error=/var/lib/mysql/error.log",
                f"--wsrep-cluster-address={address}",
            ],
            os.path.join(self.dir, name, "by-hand.log"),
        )

    def create_schema(self) -> None:
        node = self.promoted()[0]
        self.sql(node, stack.APP_SQL)

    def wsrep(self, name: str, variable: str) -> str:
        out = self.sql(name, f"SHOW GLOBAL STATUS LIKE '{variable}'")
        return out.split("\t", 1)[1] if "\t" in out else ""

    def writers(self, names: Sequence[str] | None = None) -> dict[str, Writer]:
        """A client committing on each (named) node's own address."""
        started = {}
        for node in self.nodes:
            if names is None or node.name in names:
                started[node.name] = Writer(self.client, node.address, base=(node.index + 1) * BASE)
        for writer in started.values():
            writer.wait_first()
        return started

    def ids(self, name: str | None = None) -> set[int]:
        """Every id in shop.orders, read through a node's address (or the VIP)."""
        address = self.node(name).address if name else NS_VIP
        return ids_present(self.client, address)

    def galera_log(self, name: str) -> str:
        try:
            with open(os.path.join(self.dir, name, "var/lib/mysql/error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def collect_logs(self, dest: str) -> None:
        super().collect_logs(dest)
        for node in self.nodes:
            src = os.path.join(self.dir, node.name, "var/lib/mysql/error.log")
            if os.path.exists(src):
                shutil.copy(src, os.path.join(dest, node.name, "mariadb-error.log"))


def add_bulk_data(datadir: str, megabytes: int) -> None:
    """A table bulk.filler of about `megabytes` MB in a datadir, written by a plain
    mariadbd of its own (no network, no Galera) that is stopped again."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pyha-bulk-", dir="/var/tmp") as run:
        shutil.chown(run, "mysql", "mysql")
        sock = os.path.join(run, "s.sock")
        server = subprocess.Popen(
            [
                "runuser",
                "-u",
                "mysql",
                "--",
                "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={datadir}",
                f"--socket={sock}",
                f"--pid-file={run}/p.pid",
                "--skip-networking",
                f"--log-error={run}/err.log",
                "--innodb-buffer-pool-size=128M",
                "--innodb-log-file-size=256M",
            ],
            stdin=subprocess.DEVNULL,
        )
        try:
            end = time.monotonic() + 60
            while not os.path.exists(sock) and server.poll() is None and time.monotonic() < end:
                time.sleep(0.1)
            rows = str(int(megabytes) * 1024 // 4)  # rows of 4 KB
            sql = (
                "CREATE DATABASE bulk; CREATE TABLE bulk.filler (id INT PRIMARY KEY "  # noqa: S608 - a number
                "AUTO_INCREMENT, pad VARBINARY(4096)) ENGINE=InnoDB; "
                "SET SESSION max_recursive_iterations = 100000000; "
                "INSERT INTO bulk.filler (pad) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
                "SELECT i + 1 FROM n WHERE i < " + rows + ") SELECT CONCAT(RANDOM_BYTES(1024), "
                "RANDOM_BYTES(1024), RANDOM_BYTES(1024), RANDOM_BYTES(1024)) FROM n"
            )
            subprocess.run(["mariadb", "-S", sock, "-e", sql], check=True, timeout=1800)
        finally:
            server.terminate()
            server.wait(timeout=300)


def stop_all(writers: dict[str, Writer]) -> list[int]:
    acked: list[int] = []
    for writer in writers.values():
        acked += writer.stop()
    return acked


def lost(lab: GaleraLab, acked: Sequence[int], via: str | None = None) -> list[int]:
    present = lab.ids(via)
    return sorted(set(acked) - present)


def power_off_all(lab: GaleraLab, names: Sequence[str] | None = None) -> float:
    """Hard kill of several nodes at once (every node's PID 1 in one loop)."""
    import signal

    at = time.monotonic()
    targets = [lab.node(n) for n in (names or lab.live_nodes())]
    for node in targets:
        os.kill(node.pid, signal.SIGKILL)
    for node in targets:
        while node.alive:
            time.sleep(0.005)
    return at


def power_on_all(lab: GaleraLab, names: Sequence[str], timeout: float = 90) -> None:
    """Start powered-off nodes together (their fence files re-armed)."""
    for name in names:
        lab.power_on(name, wait=False)
    lab.wait_online(timeout)


__all__ = ["GaleraLab", "LabError", "stop_all", "lost", "power_off_all", "power_on_all"]
