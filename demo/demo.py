#!/usr/bin/python3
"""pyha demo: the classic MySQL HA stack fails over in a real Pacemaker cluster.

Default (`make demo`): two User-Mode-Linux nodes (a Linux 6.1 kernel with DRBD
8.4.11, run as ordinary processes) on a private bridge, each running corosync
and pacemaker, with real fencing. With progress shown as it goes:

1. DRBD resource mysql_res on both nodes' disks, an ext4 file system and a
   MariaDB datadir on it;
2. the stack configured with crm: drbd-py as a promotable clone, a group of
   IPaddr2-py (the VIP), Filesystem-py on /dev/drbd0 and mysql-py, colocated
   with the DRBD Primary and started after its promotion;
3. a client commits rows through the VIP, one transaction each;
4. the node running the stack is powered off hard (every process of it killed);
5. the survivor fences it, promotes DRBD, mounts, starts MariaDB, takes the
   VIP; every commit the client saw acknowledged is there;
6. the failover time and where it went (detection, membership, fencing, each
   agent action), read from the cluster's own logs.

`--namespaces`: the same group on nodes made of namespaces (seconds instead of
minutes; a shared loop device instead of DRBD), after IPaddr2-py refuses a VIP
that a rogue host holds.

`--galera`: Active/Active. Three namespace nodes, each with its own MariaDB
Galera server, galera-py as a promotable clone (all three Promoted); clients
commit on every node; all three nodes are powered off at once; powered on,
the cluster comes back by itself from the most advanced node, every commit is
there, and the timeline shows how.

Everything is torn down at the end, also after a failure or Ctrl-C; a failure
says what failed and where the logs are.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import TextIO

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from lab.cluster import LabError, NamespaceCluster  # noqa: E402
from lab.disks import loop_devices  # noqa: E402
from lab.galera import GaleraLab  # noqa: E402
from lab.ops import CLUSTER_TIMELINE  # noqa: E402

VIP = "192.0.2.100"
DATA = "/srv/data"
PYTHON = "/usr/bin/python3"
SQL_CLIENT = os.path.join(ROOT, "lab", "sql_client.py")


def prepare_datadir(device: str) -> None:
    """An empty datadir owned by mysql on the shared disk (in a private mount
    namespace: nothing is mounted on the machine itself)."""
    script = (
        f"mount -t tmpfs x /tmp && mkdir /tmp/d && mount {device} /tmp/d && "
        "mkdir /tmp/d/mysql && chown mysql:mysql /tmp/d/mysql && umount /tmp/d"
    )
    subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], check=True
    )


LOGS = os.path.join(ROOT, "lab-logs")


# The lab directory of this run (its logs), and everything the demo printed: on any
# failure both are kept together, with the failure and its traceback.
LAB_DIRS: list[str] = []


class Tee:
    """A stream that also keeps what was written (the demo's own output)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.kept: list[str] = []

    def write(self, text: str) -> int:
        self.kept.append(text)
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def keep_failure(output: Tee, err: BaseException) -> str | None:
    """Write the demo's output and the failure into the lab directory (kept on
    failure); its path, or None when the lab never came up."""
    import traceback

    kept = getattr(err, "kept", None)  # a lab that failed to come up kept its logs there
    directory = kept or next((d for d in reversed(LAB_DIRS) if os.path.isdir(d)), None)
    if directory is None:
        return None
    with open(os.path.join(directory, "demo-output.txt"), "w") as f:
        f.write("".join(output.kept))
    with open(os.path.join(directory, "demo-failure.txt"), "w") as f:
        f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} demo failed: {err!r}\n\n")
        f.write("".join(traceback.format_exception(type(err), err, err.__traceback__)))
    return directory


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def fail(text: str) -> None:
    raise LabError(text)


def client_reaches(lab: NamespaceCluster, mac: str, tries: int = 40) -> bool:
    for _ in range(tries):
        if lab.on_client(["ping", "-c", "1", "-W", "1", VIP]).returncode == 0 and (
            lab.client_neighbour(VIP) == mac
        ):
            return True
        time.sleep(0.1)
    return False


# Events of a failover in the survivor's logs, in the order they happen.
TIMELINE = [
    *CLUSTER_TIMELINE,
    ("pacemaker", r"Initiating start operation vip_start_0", "IPaddr2-py start begins"),
    ("pacemaker", r"Result of start operation for vip on {alive}: ok", "IPaddr2-py start done"),
    ("pacemaker", r"Initiating start operation fs_start_0", "Filesystem-py start begins"),
    ("pacemaker", r"Result of start operation for fs on {alive}: ok", "Filesystem-py start done"),
    ("pacemaker", r"Initiating start operation db_start_0", "mysql-py start begins"),
    ("pacemaker", r"Result of start operation for db on {alive}: ok", "mysql-py start done"),
]


def run_namespace_demo() -> None:
    say(
        "starting the lab: 2 Pacemaker nodes + a client, each in its own namespaces, "
        "and a shared disk (a loop device both nodes see, as a SAN)"
    )
    with loop_devices((256, ["mkfs.ext4", "-q", "-F"])) as (disk,), NamespaceCluster(2) as lab:
        lab.keep = True  # kept on failure for the logs; removed explicitly on success
        LAB_DIRS.append(lab.dir)
        names = [n.name for n in lab.nodes]
        say(f"cluster online: {', '.join(names)} ({lab.dir})")
        lab.configure(
            "\n".join(
                [
                    *lab.fencing_resources(),
                    "property stonith-enabled=true",
                    "rsc_defaults resource-stickiness=100",
                ]
            )
        )
        say("fencing configured: fence_dummy per node; the lab powers a fenced node off")

        lab.on_client(["ip", "addr", "add", f"{VIP}/24", "dev", "eth0"], check=True)
        say(f"a rogue host (the client) holds {VIP} before the cluster tries to")
        lab.crm(
            names[0],
            "configure",
            "primitive",
            "vip",
            "ocf:pyha:IPaddr2-py",
            "params",
            f"ip={VIP}",
            "cidr_netmask=24",
            "op",
            "monitor",
            "interval=10s",
        )
        say(f"crm configure primitive vip ocf:pyha:IPaddr2-py params ip={VIP} cidr_netmask=24")
        end = time.monotonic() + 30
        while len({node for node, _ in lab.failures("vip")}) < 2 and time.monotonic() < end:
            time.sleep(0.2)
        seen = lab.failures("vip")
        if len({node for node, _ in seen}) < 2:
            fail(f"expected IPaddr2-py to refuse the duplicate on both nodes, saw {seen}")
        for node, reason in sorted(set(seen)):
            say(f"  crm_mon: vip start on {node} failed: {reason}")
        lab.on_client(["ip", "addr", "del", f"{VIP}/24", "dev", "eth0"], check=True)
        lab.crm(names[0], "resource", "cleanup", "vip")
        holder = lab.wait_for("vip", timeout=60)
        say(f"rogue gone, `crm resource cleanup vip`: vip started on {holder}")
        config = os.path.join(lab.dir, "my.cnf")
        with open(config, "w") as f:
            f.write("[mysqld]\nbind-address=0.0.0.0\nport=3306\nskip-name-resolve\n")
        prepare_datadir(disk.device)
        lab.configure(
            "\n".join(
                [
                    f"primitive fs ocf:pyha:Filesystem-py params device={disk.device} "
                    f"directory={DATA} fstype=ext4 op monitor interval=10s",
                    f"primitive db ocf:pyha:mysql-py params config={config} datadir={DATA}/mysql "
                    "log=/run/mysqld/error.log enable_creation=true op monitor interval=5s "
                    "op start timeout=120s op stop timeout=120s",
                    "group g_mysql vip fs db",
                ]
            )
        )
        lab.wait_for("db", on=holder, timeout=120)
        lab.run(
            holder,
            [
                "mariadb",
                "-e",
                "CREATE USER app@'%' IDENTIFIED BY 'app-pw'; "
                "GRANT ALL ON *.* TO app@'%'; CREATE DATABASE shop; "
                "CREATE TABLE shop.orders (id INT PRIMARY KEY)",
            ],
        )
        say(
            f"group g_mysql running on {holder}: vip, fs ({disk.device} ext4 on {DATA}), "
            "db (MariaDB, datadir on the shared disk)"
        )
        if not client_reaches(lab, lab.mac(holder)):
            fail(f"the client cannot reach {VIP} on {holder}")
        say(f"client reaches {VIP}; its ARP cache says {lab.client_neighbour(VIP)} ({holder})")

        survivor = next(n for n in names if n != holder)
        writer = subprocess.Popen(
            ["ip", "netns", "exec", lab.client, PYTHON, SQL_CLIENT, VIP, "write", "120"],
            stdout=subprocess.PIPE,
            text=True,
        )
        first = writer.stdout.readline().strip() if writer.stdout else ""
        if not first.isdigit():
            fail("the client could not commit through the VIP")
        time.sleep(1.0)
        say(f"the client commits rows through {VIP}, one transaction each")
        say(f"powering {holder} off hard (SIGKILL of its init: the whole node vanishes)")
        wall_killed = time.time()
        killed = lab.power_off(holder)
        lab.wait_for("db", on=survivor, exclude=[holder], timeout=120)
        failover = time.monotonic() - killed
        if lab.where("vip") != [survivor] or lab.where("fs") != [survivor]:
            fail(f"the group is split: vip on {lab.where('vip')}, fs on {lab.where('fs')}")
        if [n for n, _ in lab.fenced] != [holder]:
            fail(f"expected {holder} to be fenced, fence log: {lab.fenced}")
        time.sleep(1.0)  # the client reconnects and commits on the survivor
        writer.terminate()
        acked = [int(first)] + [int(x) for x in writer.communicate(timeout=30)[0].split()]
        check = subprocess.run(
            ["ip", "netns", "exec", lab.client, PYTHON, SQL_CLIENT, VIP, "ids"],
            capture_output=True,
            text=True,
            check=True,
        )
        present = {int(x) for x in check.stdout.split()}
        lost = sorted(set(acked) - present)
        if lost:
            fail(f"{len(lost)} acknowledged commits lost: {lost[:10]}")
        if not client_reaches(lab, lab.mac(survivor)):
            fail(f"the client does not reach {VIP} on {survivor}")
        say(
            f"g_mysql is back on {survivor} {failover:.2f} s after the kill; all {len(acked)} "
            f"commits the client saw acknowledged are there; its ARP cache says "
            f"{lab.client_neighbour(VIP)} ({survivor})"
        )
        say("where the time went (from the survivor's corosync and pacemaker logs):")
        for label, offset in lab.timeline(survivor, TIMELINE, wall_killed, dead=holder):
            shown = f"+{offset:5.2f} s" if offset is not None else "    ?    "
            print(f"  {shown}  {label}", flush=True)
        lab.keep = False
    say("demo passed: every step checked; lab torn down")


def run_drbd_demo() -> None:
    from lab import stack, umlhost
    from lab.scenario import DRBD_TIMELINE, VIP, DrbdStack

    verdict = umlhost.probe(say=False)  # said here, into the demo's kept output
    if not verdict.usable:
        say(verdict.sentence)
        say(
            "showing the namespace variant's failover instead (a shared loop device: "
            "DRBD is NOT exercised on this host)"
        )
        run_namespace_demo()
        say("DRBD was not exercised: UML guests cannot run on this host (see above)")
        return
    say(verdict.sentence)
    started = time.monotonic()
    say(
        "booting two User-Mode-Linux nodes (Linux 6.1 with DRBD 8.4.11) on a private "
        "bridge (10.99.0.0/24); corosync and pacemaker in each"
    )
    with DrbdStack("pyha") as scenario:
        lab = scenario.uml
        lab.keep = True  # kept on failure for the logs; removed explicitly on success
        LAB_DIRS.append(lab.dir)
        say(
            f"cluster online after {time.monotonic() - started:.0f} s: "
            f"{', '.join(lab.node_names())} ({lab.dir})"
        )
        scenario.prepare()
        say(
            f"DRBD {stack.DRBD_RES} on both nodes' /dev/ubda: fresh meta data, the initial "
            "sync skipped, ext4 with a MariaDB datadir on /dev/drbd0, then down"
        )
        say("crm configure (fencing: fence_dummy per node; the lab powers a fenced node off):")
        for line in scenario.group().splitlines():
            print(f"    {line}", flush=True)
        mark = time.monotonic()
        holder = scenario.configure()
        say(
            f"the stack runs on {holder} ({time.monotonic() - mark:.0f} s after configuring): "
            f"DRBD Primary, {VIP}, /var/lib/mysql mounted, MariaDB"
        )
        if not scenario.reachable():
            fail(f"the client cannot reach {VIP}")
        writer = scenario.writer()
        time.sleep(2.0)
        say(
            f"the client commits rows through {VIP}, one transaction each "
            f"({len(writer.acked)} so far)"
        )
        say(f"powering {holder} off hard (SIGKILL of every process of the guest)")
        wall_killed = time.time()
        survivor, first_commit, running = scenario.hard_failover(holder, writer)
        say(
            f"the client commits again {first_commit:.1f} s after the kill; Pacemaker shows "
            f"the stack on {survivor} after {running:.1f} s"
        )
        if [n for n, _ in lab.fenced] != [holder]:
            fail(f"expected {holder} to be fenced, fence log: {lab.fenced}")
        role = lab.sh(survivor, ["drbdadm", "role", stack.DRBD_RES]).strip()
        if not role.startswith("Primary"):
            fail(f"DRBD on {survivor} is {role}, not Primary")
        time.sleep(1.0)
        acked = writer.stop()
        lost = scenario.check_commits(acked)
        if lost:
            fail(f"{len(lost)} acknowledged commits lost: {lost[:10]}")
        say(
            f"{holder} was fenced; DRBD on {survivor}: {role}; all {len(acked)} commits the "
            "client saw acknowledged are there"
        )
        say("where the time went (from the survivor's corosync and pacemaker logs):")
        for label, offset in lab.timeline(survivor, DRBD_TIMELINE, wall_killed, dead=holder):
            shown = f"+{offset:5.1f} s" if offset is not None else "    ?   "
            print(f"  {shown}  {label}", flush=True)
        print(f"  +{first_commit:5.1f} s  first commit acknowledged on {survivor}", flush=True)
        lab.keep = False
    say("demo passed: every step checked; lab torn down")


GALERA_TIMELINE = [
    ("pacemaker", r"Result of probe operation for p_galera on {node}", "{node}: probed"),
    (
        "pacemaker",
        r"Result of start operation for p_galera on {node}: ok",
        "{node}: position published",
    ),
    (
        "pacemaker",
        r"Initiating promote operation p_galera_promote_0 (locally )?on {node}",
        "{node}: promote begins",
    ),
    ("pacemaker", r"Result of promote operation for p_galera on {node}: ok", "{node}: Promoted"),
]


def galera_timeline(lab: GaleraLab, since: float) -> list[tuple[float, str]]:
    """Events of a restart in every node's pacemaker log, earliest first."""
    found: dict[str, float] = {}
    for name in lab.live_nodes():
        for which, pattern, label in GALERA_TIMELINE:
            for node in lab.node_names():
                key = label.format(node=node)
                events = [(which, pattern.format(node=node), key)]
                ((_, offset),) = lab.timeline(name, events, since)
                if offset is not None and (key not in found or offset < found[key]):
                    found[key] = offset
    return sorted((offset, label) for label, offset in found.items())


def run_galera_demo() -> None:
    from lab import galera_scenarios as scenarios
    from lab.galera import power_off_all, power_on_all, stop_all

    started = time.monotonic()
    say(
        "starting the lab: 3 Pacemaker nodes, each with its own MariaDB Galera server, and "
        "a client host, each in its own namespaces"
    )
    with GaleraLab("pyha") as lab:
        lab.keep = True  # kept on failure for the logs; removed explicitly on success
        LAB_DIRS.append(lab.dir)
        say(f"cluster online after {time.monotonic() - started:.0f} s ({lab.dir})")
        say("crm configure (fencing: fence_dummy per node; the lab powers a fenced node off):")
        for line in lab.galera_config().splitlines():
            if not line.startswith(("primitive f-", "location l-f-")):
                print(f"    {line}", flush=True)
        cold = scenarios.cold_start(lab)
        say(
            f"cold start: all three Promoted {cold.seconds['all Promoted']:.1f} s after "
            f"configuring: {', '.join(lab.promoted())}"
        )
        writers = lab.writers()
        time.sleep(3.0)
        counts = ", ".join(f"{name} {len(w.acked)}" for name, w in writers.items())
        say(f"clients commit on every node, one row per transaction ({counts} so far)")
        say("powering all three nodes off at once (SIGKILL of every process of each)")
        wall = time.time()
        power_off_all(lab)
        acked = stop_all(writers)
        say(f"{len(acked)} commits were acknowledged before the outage")
        on = time.monotonic()
        power_on_all(lab, lab.node_names())
        say("powered on again; nobody touches the cluster")
        lab.wait_promoted(3, timeout=300)
        took = time.monotonic() - on
        boot = scenarios.bootstrap_node(lab, wall) or "?"
        say(f"all three Promoted {took:.1f} s after power-on; {boot} bootstrapped the cluster")
        missing = sorted(set(acked) - lab.ids())
        if missing:
            fail(f"{len(missing)} acknowledged commits lost: {missing[:10]}")
        say(f"all {len(acked)} acknowledged commits are there (read through the VIP)")
        say("where the time went (from the nodes' pacemaker logs, seconds after the outage):")
        for offset, label in galera_timeline(lab, wall):
            print(f"  +{offset:5.1f} s  {label}", flush=True)
        lab.keep = False
    say("demo passed: every step checked; lab torn down")


def main() -> int:
    if os.geteuid() != 0:
        print("demo: needs root (it builds namespaces and runs a cluster)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    output = Tee(sys.stdout)
    sys.stdout = output
    try:
        if "--galera" in sys.argv[1:]:
            run_galera_demo()
        elif "--namespaces" in sys.argv[1:]:
            run_namespace_demo()
        else:
            run_drbd_demo()
    except (Exception, KeyboardInterrupt, SystemExit) as err:  # any failure keeps its logs
        if isinstance(err, SystemExit) and not err.code:
            return 0
        print(f"demo: FAILED: {err if isinstance(err, LabError) else repr(err)}", file=sys.stderr)
        kept = keep_failure(output, err)
        if kept:
            print(
                f"demo: kept in {kept}: demo-output.txt, demo-failure.txt (the traceback) "
                "and the nodes' logs (nodeN/var/log/... or logs/)",
                file=sys.stderr,
            )
        else:
            print("demo: the lab did not come up; nothing was kept", file=sys.stderr)
        return 1
    finally:
        sys.stdout = output.stream
    return 0


if __name__ == "__main__":
    sys.exit(main())
