"""mysql-py in the lab cluster: the classic group on a shared disk, and replication."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from lab import examples
from lab.cluster import NamespaceCluster
from lab.disks import LoopDevice, loop_devices
from tests.lab import need_lab

pytestmark = [pytest.mark.integration, pytest.mark.slow]
VIP = "192.0.2.100"
CLIENT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "lab", "sql_client.py"
)


def tools() -> None:
    need_lab(
        "losetup",
        "mkfs.ext4",
        "mariadbd",
        "mariadb-install-db",
    )


def prepare_disk(disk: LoopDevice, owner: tuple[int, int]) -> None:
    """An ext4 file system with an empty datadir owned by mysql as the nodes number it
    (created in a private mount namespace: nothing is mounted on the machine itself)."""
    script = (
        f"mkdir -p /tmp/d && mount {disk.device} /tmp/d && mkdir /tmp/d/mysql && "
        f"chown {owner[0]}:{owner[1]} /tmp/d/mysql && umount /tmp/d"
    )
    subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            "mount -t tmpfs x /tmp && " + script,
        ],
        check=True,
    )


@pytest.fixture
def group() -> Iterator[NamespaceCluster]:
    tools()
    with loop_devices((256, ["mkfs.ext4", "-q", "-F"])) as (disk,), NamespaceCluster(2) as lab:
        prepare_disk(disk, lab.user_ids("mysql", "mysql"))
        config = os.path.join(lab.dir, "my.cnf")
        with open(config, "w") as f:
            f.write("[mysqld]\nbind-address=0.0.0.0\nport=3306\nskip-name-resolve\n")
        lab.configure(
            "\n".join(
                [
                    *lab.fencing_resources(),
                    "property stonith-enabled=true",
                    "rsc_defaults resource-stickiness=100",
                    f"primitive p_ip ocf:pyha:IPaddr2-py params ip={VIP} cidr_netmask=24 "
                    "op monitor interval=10s",
                    f"primitive p_fs ocf:pyha:Filesystem-py params device={disk.device} "
                    "directory=/srv/data fstype=ext4 op monitor interval=10s",
                    f"primitive p_mysql ocf:pyha:mysql-py params config={config} "
                    "datadir=/srv/data/mysql log=/run/mysqld/error.log enable_creation=true "
                    "op monitor interval=5s op start timeout=120s op stop timeout=120s",
                    "group g_mysql p_ip p_fs p_mysql",
                ]
            )
        )
        holder = lab.wait_for("p_mysql", timeout=120)
        lab.run(
            holder,
            [
                "mariadb",
                "-e",
                "CREATE USER app@'%' IDENTIFIED BY 'app-pw'; "
                "GRANT ALL ON *.* TO app@'%'; CREATE DATABASE shop; "
                "CREATE TABLE shop.orders (id INT PRIMARY KEY) ENGINE=InnoDB",
            ],
        )
        yield lab


def test_group_fails_over_with_every_committed_row(group: NamespaceCluster) -> None:
    lab = group
    holder = lab.wait_for("p_mysql")
    survivor = next(n for n in lab.live_nodes() if n != holder)
    writer = subprocess.Popen(
        ["ip", "netns", "exec", lab.client, "/usr/bin/python3", CLIENT, VIP, "write", "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    first = writer.stdout.readline()  # the first acknowledged commit
    assert first.strip().isdigit()
    time.sleep(0.5)
    killed = lab.power_off(holder)
    lab.wait_for("p_mysql", on=survivor, exclude=[holder], timeout=120)
    failover = time.monotonic() - killed
    writer.terminate()
    acknowledged = [int(first)] + [int(x) for x in writer.communicate(timeout=30)[0].split()]
    check = subprocess.run(
        ["ip", "netns", "exec", lab.client, "/usr/bin/python3", CLIENT, VIP, "ids"],
        capture_output=True,
        text=True,
        check=True,
    )
    present = {int(x) for x in check.stdout.split()}
    missing = set(acknowledged) - present
    assert not missing, f"{len(missing)} acknowledged commits lost: {sorted(missing)[:10]}"
    assert len(acknowledged) > 10
    print(
        f"\nmysql group failover: {failover:.2f} s; {len(acknowledged)} acknowledged commits "
        "all present"
    )


def test_mysqld_killed_behind_the_clusters_back_is_recovered(group: NamespaceCluster) -> None:
    lab = group
    holder = lab.wait_for("p_mysql")
    pid = lab.run(holder, ["cat", "/var/run/mysqld/mysqld.pid"]).stdout.strip()
    lab.run(holder, ["pkill", "-9", "-f", "mysqld_safe"], check=False)
    lab.run(holder, ["kill", "-9", pid])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = lab.status(holder)
        failed = status is not None and any(
            f.get("op_key", "").startswith("p_mysql_monitor") for f in status.iter("failure")
        )
        if failed and lab.where("p_mysql") == [holder]:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the cluster did not notice mysqld's death and restart it")
    out = lab.run(holder, ["mariadb", "-N", "-e", "SELECT 1"]).stdout.strip()
    assert out == "1"


# --- the promotable clone -----------------------------------------------------------------


@pytest.fixture
def replicated() -> Iterator[NamespaceCluster]:
    tools()
    with NamespaceCluster(2, keep=bool(os.environ.get("PYHA_LAB_KEEP"))) as lab:
        for index, node in enumerate(lab.nodes, start=1):
            lab.run(
                node.name,
                [
                    "sh",
                    "-c",
                    (
                        "mkdir -p /srv/mysql && chown mysql:mysql /srv/mysql && "
                        f"printf '[mysqld]\\nserver_id={index}\\nlog_bin=mysql-bin\\nbinlog_format=ROW\\n"
                        "bind-address=0.0.0.0\\nskip-name-resolve\\nslave_net_timeout=5\\n' > /srv/my.cnf && "
                        'printf "SET sql_log_bin=0;\\n'
                        "CREATE USER IF NOT EXISTS repl@'%%' IDENTIFIED BY 'repl-pw';\\n"
                        "GRANT ALL ON *.* TO repl@'%%';\\n"
                        "CREATE USER IF NOT EXISTS repl@localhost IDENTIFIED BY 'repl-pw';\\n"
                        'GRANT ALL ON *.* TO repl@localhost;\\n" > /srv/init.sql'
                    ),
                ],
            )
        # The README's replication example, with the lab's paths, password and VIP, and
        # monitors every 5 and 6 s (failovers within the test's time).
        stack = examples.adapt(
            examples.readme_block(examples.REPLICATION),
            params={
                "p_db": {
                    "config": "/srv/my.cnf",
                    "datadir": "/srv/mysql",
                    "log": "/run/mysqld/error.log",
                    "enable_creation": "true",
                    "replication_user": "repl",
                    "replication_passwd": "repl-pw",
                    "additional_parameters": "--init-file=/srv/init.sql",
                },
                "p_vip": {"ip": VIP},
            },
            ops={"p_db": {"monitor:Promoted": "interval=5s", "monitor:Unpromoted": "interval=6s"}},
        )
        lab.configure(
            "\n".join(
                [
                    *lab.fencing_resources(),
                    "property stonith-enabled=true",
                    "rsc_defaults resource-stickiness=100",
                    stack,
                ]
            )
        )
        yield lab


def promoted(lab: NamespaceCluster, timeout: float = 120) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = lab.status()
        if status is not None:
            for rsc in status.iter("resource"):
                if rsc.get("id") == "p_db" and rsc.get("role") in ("Promoted", "Master"):
                    nodes = [n.get("name", "") for n in rsc.iter("node")]
                    if nodes and nodes[0] in lab.live_nodes():
                        return nodes[0]
        time.sleep(0.2)
    raise AssertionError(f"nothing promoted; logs in {lab.dir}")


def sql(lab: NamespaceCluster, node: str, statement: str, *, check: bool = True) -> str:
    return lab.run(node, ["mariadb", "-N", "-e", statement], check=check).stdout.strip()


def switch_under_writes(lab: NamespaceCluster, primary: str) -> str:
    """pyha migrate takes the promotable clone to ocf:heartbeat:mysql and back while a
    client commits on the primary: nothing started, stopped, promoted or demoted, the
    same node Promoted, every acknowledged commit there (and on the replica)."""
    import threading

    from lab import migrating

    command = os.path.join(lab.dir, "sbin", "pyha")
    sql(lab, primary, "CREATE DATABASE mig; CREATE TABLE mig.t (id INT PRIMARY KEY)")
    acked: list[int] = []
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            insert = ["mariadb", "-e", f"INSERT INTO mig.t VALUES ({n})"]  # noqa: S608 - a number
            if lab.run(primary, insert, check=False).returncode == 0:
                acked.append(n)

    writer = threading.Thread(target=write)
    since = time.time()
    writer.start()
    seconds = {}
    try:
        for to in ("reference", "pyha"):
            seconds[to] = migrating.switch(
                lab, primary, command, to, ["p_db", "p_vip"], ["--timeout", "60"]
            )
            time.sleep(2)
    finally:
        stop.set()
        writer.join()
    assert migrating.operated_since(lab, ["p_db", "p_vip"], since) == []
    assert lab.where("p_vip") == [primary]
    assert promoted(lab) == primary
    present = {int(x) for x in sql(lab, primary, "SELECT id FROM mig.t").split()}
    assert acked and set(acked) <= present, sorted(set(acked) - present)[:10]
    return (
        f"mysql replication migrated to the reference agent {seconds['reference']:.1f} s and "
        f"back {seconds['pyha']:.1f} s; {len(acked)} commits acknowledged, none lost"
    )


def test_the_promotable_clone_fails_over_to_the_replica(replicated: NamespaceCluster) -> None:
    lab = replicated
    promoted(lab)
    # The cluster settles first (at start-up the promotion may move once, as both
    # servers report their scores); pyha migrate waits for that too.
    lab.sh(lab.live_nodes()[0], ["crm_resource", "--wait", "--timeout", "120s"], timeout=150)
    primary = promoted(lab)
    replica = next(n for n in lab.live_nodes() if n != primary)
    migrated = switch_under_writes(lab, primary)
    sql(lab, primary, "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY)")
    sql(lab, primary, "INSERT INTO app.t SELECT seq FROM app.seq_1_to_500")
    for _ in range(200):
        if sql(lab, replica, "SELECT COUNT(*) FROM app.t", check=False) == "500":
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the replica did not catch up; logs in {lab.dir}")
    assert sql(lab, replica, "SELECT @@read_only") == "1"
    killed = lab.power_off(primary)
    assert promoted(lab) == replica
    failover = time.monotonic() - killed
    if failover > 20 and os.environ.get("PYHA_LAB_KEEP"):
        lab.collect_logs("/var/tmp/pyha-slow-logs")
    assert sql(lab, replica, "SELECT @@read_only") == "0"
    assert sql(lab, replica, "SELECT COUNT(*) FROM app.t") == "500"
    sql(lab, replica, "INSERT INTO app.t VALUES (501)")  # the new primary takes writes
    print(f"\n{migrated}\npromotable mysql failover to the replica: {failover:.2f} s")


def test_link_cut_the_peer_fences_the_holder_and_takes_over(group: NamespaceCluster) -> None:
    """Both sides lose each other; the holder's fencing of its peer waits 5 s
    (pcmk_delay_base), so the peer fences the isolated holder first and takes over."""
    from lab.scenario import Writer, ids_present

    lab = group
    holder = lab.wait_for("p_mysql")
    survivor = next(n for n in lab.live_nodes() if n != holder)
    lab.crm(holder, "resource", "param", f"f-{survivor}", "set", "pcmk_delay_base", "5s")
    writer = Writer(lab.client, VIP)
    writer.wait_first()
    time.sleep(0.5)
    lab.cut_link(holder)
    cut = time.monotonic()
    lab.wait_for("p_mysql", on=survivor, exclude=[holder], timeout=120)
    first = writer.first_after(cut)
    assert [n for n, _ in lab.fenced] == [holder]
    assert holder not in lab.live_nodes()  # fenced means powered off
    time.sleep(0.5)
    acked = writer.stop()
    lab.restore_link(holder)
    missing = set(acked) - ids_present(lab.client, VIP)
    assert not missing, f"{len(missing)} acknowledged commits lost: {sorted(missing)[:10]}"
    print(
        f"\nlink cut: commits again {first - cut:.2f} s after the cut; {len(acked)} "
        "acknowledged commits all present"
    )
