#!/usr/bin/python3
"""pyha demo: a real Pacemaker cluster fails a floating IP (IPaddr2-py) over.

Builds the lab (lab.cluster): two Pacemaker/Corosync nodes and a client host,
each in its own namespaces on one bridge (TEST-NET 192.0.2.0/24), with real
fencing. Then, with progress shown as it goes:

1. a rogue host already holds the VIP: IPaddr2-py refuses to start on both
   nodes and crm_mon shows why; the rogue goes away, a cleanup starts the VIP;
2. the client reaches the VIP on the node holding it;
3. the VIP, a file system on a shared disk (Filesystem-py) and MariaDB on it
   (mysql-py) run as a group; the client commits rows through the VIP;
4. that node is powered off hard (every process, the whole node, gone);
5. the survivor fences it, mounts the disk, starts MariaDB, takes the VIP
   and announces it; every commit the client saw acknowledged is there;
6. the failover time and where it went (detection, membership, fencing, the
   agent's start), read from the cluster's own logs.

Everything is torn down at the end, also after a failure or Ctrl-C; a failure
says what failed and where the logs are. (DRBD joins the
stack with drbd-py, in User-Mode-Linux nodes.)
"""

from __future__ import annotations

import datetime
import os
import re
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from lab.cluster import LabError, NamespaceCluster  # noqa: E402
from lab.disks import loop_devices  # noqa: E402

VIP = "192.0.2.100"
DATA = "/srv/data"
PYTHON = "/usr/bin/python3"
SQL_CLIENT = os.path.join(ROOT, "lab", "sql_client.py")


def prepare_datadir(device: str) -> None:
    """An empty datadir owned by mysql on the shared disk (in a private mount
    namespace: nothing is mounted on the machine itself)."""
    script = (f"mount -t tmpfs x /tmp && mkdir /tmp/d && mount {device} /tmp/d && "
              "mkdir /tmp/d/mysql && chown mysql:mysql /tmp/d/mysql && umount /tmp/d")  # fmt: skip
    subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                   check=True)  # fmt: skip


LOGS = os.path.join(ROOT, "lab-logs")


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


def failures(lab: NamespaceCluster, resource: str) -> list[tuple[str, str]]:
    """(node, exit reason) of failed actions crm_mon shows for resource."""
    status = lab.status()
    if status is None:
        return []
    return [(f.get("node", ""), f.get("exitreason", "")) for f in status.iter("failure")
            if f.get("op_key", "").startswith(f"{resource}_")]  # fmt: skip


# Events of a failover in the survivor's logs, in the order they happen.
TIMELINE = [
    ("corosync", r"Token has not been received", "token lost: the peer stopped answering"),
    ("corosync", r"A new membership .* formed\. Members left", "new membership without it"),
    ("pacemaker", r"Requesting fencing \(\w+\) of node {dead}", "fencing requested"),
    ("pacemaker", r"Operation '\w+' targeting {dead} .*: OK", "fenced (powered off)"),
    ("pacemaker", r"Initiating start operation vip_start_0", "IPaddr2-py start begins"),
    ("pacemaker", r"Result of start operation for vip on {alive}: ok", "IPaddr2-py start done"),
    ("pacemaker", r"Initiating start operation fs_start_0", "Filesystem-py start begins"),
    ("pacemaker", r"Result of start operation for fs on {alive}: ok", "Filesystem-py start done"),
    ("pacemaker", r"Initiating start operation db_start_0", "mysql-py start begins"),
    ("pacemaker", r"Result of start operation for db on {alive}: ok", "mysql-py start done"),
]
STAMP = re.compile(r"^(\w{3} +\d+ \d\d:\d\d:\d\d\.\d+)")


def timeline(lab: NamespaceCluster, dead: str, alive: str, killed_at: float) -> list[str]:
    """Offsets from the kill of each TIMELINE event in the survivor's logs."""
    year = datetime.datetime.now().year
    lines = []
    for which, pattern, label in TIMELINE:
        regex = re.compile(pattern.format(dead=dead, alive=alive))
        for line in lab.log(alive, which).splitlines():
            stamp = STAMP.match(line)
            if not stamp or not regex.search(line):
                continue
            when = datetime.datetime.strptime(f"{year} {stamp.group(1)}", "%Y %b %d %H:%M:%S.%f")
            offset = when.timestamp() - killed_at
            if offset >= -0.05:  # events of this failover, not earlier ones
                lines.append(f"  +{offset:5.2f} s  {label}")
                break
        else:
            lines.append(f"      ?    {label} (not found in the {which} log)")
    return lines


def run_demo() -> None:
    say("starting the lab: 2 Pacemaker nodes + a client, each in its own namespaces, "
        "and a shared disk (a loop device both nodes see, as a SAN)")  # fmt: skip
    with loop_devices((256, ["mkfs.ext4", "-q", "-F"])) as (disk,), NamespaceCluster(2) as lab:
        lab.keep = True  # kept on failure for the logs; removed explicitly on success
        names = [n.name for n in lab.nodes]
        say(f"cluster online: {', '.join(names)} ({lab.dir})")
        lab.configure("\n".join([*lab.fencing_resources(), "property stonith-enabled=true",
                                 "rsc_defaults resource-stickiness=100"]))  # fmt: skip
        say("fencing configured: fence_dummy per node; the lab powers a fenced node off")

        lab.on_client(["ip", "addr", "add", f"{VIP}/24", "dev", "eth0"], check=True)
        say(f"a rogue host (the client) holds {VIP} before the cluster tries to")
        lab.crm(names[0], "configure", "primitive", "vip", "ocf:pyha:IPaddr2-py", "params",
                f"ip={VIP}", "cidr_netmask=24", "op", "monitor", "interval=10s")  # fmt: skip
        say(f"crm configure primitive vip ocf:pyha:IPaddr2-py params ip={VIP} cidr_netmask=24")
        end = time.monotonic() + 30
        while len({node for node, _ in failures(lab, "vip")}) < 2 and time.monotonic() < end:
            time.sleep(0.2)
        seen = failures(lab, "vip")
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
        lab.configure("\n".join([
            f"primitive fs ocf:pyha:Filesystem-py params device={disk.device} directory={DATA} "
            "fstype=ext4 op monitor interval=10s",
            f"primitive db ocf:pyha:mysql-py params config={config} datadir={DATA}/mysql "
            "log=/run/mysqld/error.log enable_creation=true op monitor interval=5s "
            "op start timeout=120s op stop timeout=120s",
            "group g_mysql vip fs db",
        ]))  # fmt: skip
        lab.wait_for("db", on=holder, timeout=120)
        lab.run(holder, ["mariadb", "-e", "CREATE USER app@'%' IDENTIFIED BY 'app-pw'; "
                         "GRANT ALL ON *.* TO app@'%'; CREATE DATABASE shop; "
                         "CREATE TABLE shop.orders (id INT PRIMARY KEY)"])  # fmt: skip
        say(f"group g_mysql running on {holder}: vip, fs ({disk.device} ext4 on {DATA}), "
            "db (MariaDB, datadir on the shared disk)")  # fmt: skip
        if not client_reaches(lab, lab.mac(holder)):
            fail(f"the client cannot reach {VIP} on {holder}")
        say(f"client reaches {VIP}; its ARP cache says {lab.client_neighbour(VIP)} ({holder})")

        survivor = next(n for n in names if n != holder)
        writer = subprocess.Popen(["ip", "netns", "exec", lab.client, PYTHON, SQL_CLIENT, VIP,
                                   "write", "120"], stdout=subprocess.PIPE, text=True)  # fmt: skip
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
        check = subprocess.run(["ip", "netns", "exec", lab.client, PYTHON, SQL_CLIENT, VIP, "ids"],
                               capture_output=True, text=True, check=True)  # fmt: skip
        present = {int(x) for x in check.stdout.split()}
        lost = sorted(set(acked) - present)
        if lost:
            fail(f"{len(lost)} acknowledged commits lost: {lost[:10]}")
        if not client_reaches(lab, lab.mac(survivor)):
            fail(f"the client does not reach {VIP} on {survivor}")
        say(f"g_mysql is back on {survivor} {failover:.2f} s after the kill; all {len(acked)} "
            f"commits the client saw acknowledged are there; its ARP cache says "
            f"{lab.client_neighbour(VIP)} ({survivor})")  # fmt: skip
        say("where the time went (from the survivor's corosync and pacemaker logs):")
        for line in timeline(lab, holder, survivor, wall_killed):
            print(line, flush=True)
        lab.keep = False
    say("demo passed: every step checked; lab torn down")


def main() -> int:
    if os.geteuid() != 0:
        print("demo: needs root (it builds namespaces and runs a cluster)", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        run_demo()
    except (LabError, KeyboardInterrupt) as err:
        print(f"demo: FAILED: {err}", file=sys.stderr)
        kept = [d for d in os.listdir("/var/tmp") if d.startswith("pyha-lab-")]
        if kept:
            print(f"demo: the lab's logs are in /var/tmp/{kept[-1]} (nodeN/var/log/...)",
                  file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
