"""Failover scenarios shared by the demo, the lab tests and the failover benchmark:
the DRBD stack on a UML cluster, a client committing through the VIP, and the
check that every acknowledged commit survived."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

from lab import stack
from lab.ops import CLUSTER_TIMELINE, ClusterOps, LabError, Lifecycle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SQL_CLIENT = os.path.join(ROOT, "lab", "sql_client.py")
PYTHON = "/usr/bin/python3"
VIP = "10.99.0.100"  # on the UML lab's bridge
NS_VIP = "192.0.2.100"  # on the namespace lab's bridge

MYSQL_STARTED = r"Result of start operation for p_mysql on {alive}: ok"
# Events of a DRBD stack failover in the survivor's logs, in the order they happen.
DRBD_TIMELINE = [
    *CLUSTER_TIMELINE,
    ("pacemaker", r"Initiating promote operation p_drbd_promote_0", "DRBD promote begins"),
    (
        "pacemaker",
        r"Result of promote operation for p_drbd\S* on {alive}: ok",
        "DRBD promote done (Primary)",
    ),
    ("pacemaker", r"Initiating start operation p_ip_start_0", "IP start begins"),
    ("pacemaker", r"Result of start operation for p_ip on {alive}: ok", "IP start done"),
    ("pacemaker", r"Result of start operation for p_fs on {alive}: ok", "Filesystem start done"),
    ("pacemaker", MYSQL_STARTED, "mysql start done"),
]


class Writer:
    """lab/sql_client.py committing rows through the VIP from a network
    namespace; each acknowledged id is recorded with its arrival time."""

    def __init__(self, netns: str, vip: str = VIP, seconds: int = 600, base: int = 0) -> None:
        self.proc = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                netns,
                PYTHON,
                SQL_CLIENT,
                vip,
                "write",
                str(seconds),
                str(base),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.acked: list[tuple[int, float]] = []
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        if self.proc.stdout is None:
            return
        for line in self.proc.stdout:
            word = line.strip()
            if word.isdigit():
                self.acked.append((int(word), time.monotonic()))

    def wait_first(self, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while not self.acked:
            if time.monotonic() > end or self.proc.poll() is not None:
                raise LabError("the client could not commit through the VIP")
            time.sleep(0.05)

    def first_after(self, when: float, timeout: float = 300, gap: float = 0.5) -> float:
        """Arrival time of the first commit acknowledged by the server that took
        over after `when`: the first one after a pause of at least `gap` s
        (acknowledgements of the old server may still arrive just after when)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            times = [t for _, t in self.acked]
            for before, after in zip(times, times[1:]):
                if after > when and after - max(before, when) >= gap:
                    return after
            time.sleep(0.02)
        raise LabError(f"no commit acknowledged within {timeout}s after the failure")

    def stop(self) -> list[int]:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self._thread.join(timeout=5)
        return [i for i, _ in self.acked]


def ids_present(netns: str, vip: str = VIP) -> set[int]:
    out = subprocess.run(
        ["ip", "netns", "exec", netns, PYTHON, SQL_CLIENT, vip, "ids"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {int(x) for x in out.stdout.split()}


class Failover:
    """One hard failover: where it went, how long it took, what was lost."""

    def __init__(
        self,
        dead: str,
        survivor: str,
        first_commit: float,
        running: float,
        acked: int,
        lost: list[int],
        fenced: float | None = None,
    ) -> None:
        self.dead = dead
        self.survivor = survivor
        self.first_commit = first_commit
        self.running = running
        self.acked = acked
        self.lost = lost
        self.fenced = fenced  # kill -> fencing confirmed: the cluster's part, before any agent

    def __repr__(self) -> str:
        parts = [f"first commit {self.first_commit:.2f} s", f"running {self.running:.2f} s"]
        if self.fenced is not None:
            parts.append(f"fenced {self.fenced:.2f} s")
        return (
            f"Failover({self.dead}->{self.survivor}: {', '.join(parts)}, "
            f"{self.acked} acked, {len(self.lost)} lost)"
        )


class Stack(Lifecycle):
    """The classic stack in a lab cluster, a client, hard failovers (base class)."""

    lab: ClusterOps
    vip: str
    agents: str
    killed_wall = 0.0  # wall clock of the last hard_failover's kill
    ip_params = ""  # more parameters of the VIP (SharedStack), set before configure()

    @property
    def netns(self) -> str:
        """The network namespace the client runs in."""
        raise NotImplementedError

    def prepare(self) -> None:
        raise NotImplementedError

    def group(self) -> str:
        raise NotImplementedError

    def rejoin(self, name: str) -> None:
        """Power a node on again and wait until it is ready to take over."""
        raise NotImplementedError

    def configure(self) -> str:
        """Fencing and the stack; returns the node where MySQL runs."""
        lab = self.lab
        lab.configure(stack.cluster_defaults(lab))
        # A VIP parameter the reference agent does not declare is forced in, as an
        # administrator must (crmsh refuses it otherwise).
        lab.configure(self.group(), force=bool(self.ip_params))
        end = time.monotonic() + 600
        while True:
            nodes = lab.where("p_mysql")
            if nodes:
                break
            failed = lab.failures("p_mysql")
            if len({node for node, _ in failed}) == len(lab.node_names()):
                raise LabError(f"p_mysql failed on every node: {failed[0][1]}; logs in {lab.dir}")
            if time.monotonic() > end:
                raise LabError(f"p_mysql not started after 600 s; logs in {lab.dir}")
            time.sleep(1.0)
        lab.sh(nodes[0], ["mariadb", "-e", stack.APP_SQL])
        return nodes[0]

    def reachable(self, timeout: float = 30) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            ping = subprocess.run(
                ["ip", "netns", "exec", self.netns, "ping", "-c", "1", "-W", "1", self.vip],
                capture_output=True,
                check=False,
            )
            if ping.returncode == 0:
                return True
            time.sleep(0.1)
        return False

    def writer(self) -> Writer:
        writer = Writer(self.netns, self.vip)
        writer.wait_first()
        return writer

    def hard_failover(self, holder: str, writer: Writer) -> tuple[str, float, float]:
        """Power the holder off; returns (survivor, seconds to the first commit
        on the survivor, seconds until Pacemaker shows p_mysql started there)."""
        lab = self.lab
        survivor = next(n for n in lab.node_names() if n != holder)
        killed = lab.power_off(holder)
        killed_wall = self.killed_wall = time.time() - (time.monotonic() - killed)
        first = writer.first_after(killed)
        # When the survivor's controller recorded the start (what crm_mon shows
        # next), read from its log on the host: polling crm_mon in a UML guest
        # would take CPU from the agents being measured.
        running = lab.wait_logged(survivor, MYSQL_STARTED, killed_wall, timeout=300)
        lab.wait_for("p_mysql", on=survivor, exclude=[holder], timeout=60, poll=0.5)
        return survivor, first - killed, running

    def check_commits(self, acked: Sequence[int]) -> list[int]:
        """The acknowledged ids that are missing (should be none)."""
        present = ids_present(self.netns, self.vip)
        return sorted(set(acked) - present)

    def soak(
        self,
        holder: str,
        count: int,
        *,
        settle: float = 2.0,
        report: Callable[[Failover], None] | None = None,
    ) -> list[Failover]:
        """count hard failovers in a row, the dead node rejoining after each;
        every acknowledged commit is checked after each one."""
        done = []
        for _ in range(count):
            writer = self.writer()
            time.sleep(settle)
            survivor, first, running = self.hard_failover(holder, writer)
            time.sleep(1.0)
            acked = writer.stop()
            fenced = self.lab.timeline(
                survivor, CLUSTER_TIMELINE[-1:], self.killed_wall, dead=holder
            )[0][1]
            failover = Failover(
                holder, survivor, first, running, len(acked), self.check_commits(acked), fenced
            )
            done.append(failover)
            if report is not None:
                report(failover)
            if failover.lost:
                raise LabError(f"{failover}: lost {failover.lost[:10]}; logs in {self.lab.dir}")
            self.rejoin(holder)
            problems = self.wait_healthy()
            if problems:
                raise LabError(
                    f"after {failover} and the rejoin: {'; '.join(problems[:5])}; "
                    f"logs in {self.lab.dir}"
                )
            holder = survivor
        return done

    def wait_healthy(self, timeout: float = 120) -> list[str]:
        """Until crm_mon shows every resource active and no failed action; the
        problems still there after timeout (empty: healthy)."""
        end = time.monotonic() + timeout
        while True:
            problems = self.lab.unhealthy()
            if not problems or time.monotonic() > end:
                return problems
            time.sleep(1.0)


class DrbdStack(Stack):
    """The classic stack on real DRBD in a UML cluster (pyha or reference agents)."""

    def __init__(self, agents: str = "pyha", *, keep: bool = False) -> None:
        from lab.umlcluster import UmlCluster

        self.agents = agents
        self.vip = VIP
        guests = ["uml1", "uml2"]
        files = {
            f"/etc/drbd.d/{stack.DRBD_RES}.res": stack.drbd_resource_text(guests),
            stack.MY_CNF_PATH: stack.MY_CNF,
        }
        self.uml = UmlCluster(2, files=files, keep=keep)
        self.lab = self.uml

    def up(self) -> None:
        self.uml.up()

    def down(self) -> None:
        self.uml.down()

    @property
    def netns(self) -> str:
        return self.uml.netns

    def group(self) -> str:
        return stack.group_config(self.agents, self.vip, "/dev/drbd0", drbd=True)

    def drbd_state(self, name: str) -> str:
        return self.uml.sh(name, ["drbdsetup", "events2", "--now", stack.DRBD_RES])

    def wait_drbd(self, name: str, text: str, timeout: float = 120) -> None:
        end = time.monotonic() + timeout
        while text not in self.drbd_state(name):
            if time.monotonic() > end:
                raise LabError(f"{name}: DRBD never showed {text!r}; logs in {self.uml.dir}")
            time.sleep(0.2)

    def prepare(self) -> None:
        """Fresh meta data on both disks, the initial sync skipped, an ext4 file
        system with a MariaDB datadir on it; then DRBD down again for Pacemaker."""
        lab, res = self.uml, stack.DRBD_RES
        first, second = lab.node_names()
        for name in (first, second):
            lab.sh(
                name,
                [
                    "sh",
                    "-c",
                    f"modprobe drbd && drbdadm create-md --force {res} && drbdadm up {res}",
                ],
            )
        self.wait_drbd(first, "connection:Connected", 60)
        lab.sh(first, ["drbdadm", "--", "--clear-bitmap", "new-current-uuid", res])
        stack.seed_datadir(os.path.join(lab.guest(first).dir, "seed"))
        lab.sh(
            first,
            [
                "sh",
                "-c",
                f"drbdadm primary {res} && mkfs.ext4 -q /dev/drbd0 && "
                "mkdir -p /mnt/seed && mount /dev/drbd0 /mnt/seed && "
                f"cp -a /host/seed /mnt/seed/data && umount /mnt/seed && "
                f"drbdadm secondary {res}",
            ],
        )
        for name in (first, second):
            lab.sh(name, ["drbdadm", "down", res])

    def rejoin(self, name: str) -> None:
        self.uml.power_on(name)
        self.uml.wait_for("p_drbd", on=name, roles=("Unpromoted", "Slave"), timeout=300, poll=1.0)
        survivor = next(n for n in self.uml.node_names() if n != name)
        self.wait_drbd(survivor, "peer-disk:UpToDate", 300)


class SharedStack(Stack):
    """The classic stack on namespace nodes, the data on a shared loop device."""

    def __init__(self, agents: str = "pyha", *, keep: bool = False) -> None:
        import contextlib

        from lab.cluster import NamespaceCluster
        from lab.disks import loop_devices

        self.agents = agents
        self.vip = NS_VIP
        self._stack = contextlib.ExitStack()
        self._disks = loop_devices((256, ["mkfs.ext4", "-q", "-F"]))
        self.ns = NamespaceCluster(2, keep=keep)
        self.lab = self.ns
        self.device = ""

    def up(self) -> None:
        (disk,) = self._stack.enter_context(self._disks)
        self.device = disk.device
        self._stack.enter_context(self.ns)

    def down(self) -> None:
        self._stack.close()

    @property
    def netns(self) -> str:
        return self.ns.client

    @property
    def config(self) -> str:
        return os.path.join(self.ns.dir, "my.cnf")

    def group(self) -> str:
        return stack.group_config(
            self.agents,
            self.vip,
            self.device,
            drbd=False,
            data="/srv/data",
            config=self.config,
            ip_params=self.ip_params,
        )

    def prepare(self) -> None:
        """An ext4 file system with a MariaDB datadir (in a private mount
        namespace: nothing is mounted on the machine itself)."""
        with open(self.config, "w") as f:
            f.write(stack.MY_CNF)
        seed = os.path.join(self.ns.dir, "seed")
        # by the nodes' own MariaDB, owned by their mysql user (a release's root numbers
        # it differently from this machine)
        stack.seed_datadir(seed, self.ns.root, self.ns.user_ids("mysql", "mysql"))
        script = (
            f"mount -t tmpfs x /mnt && mkdir /mnt/d && mount {self.device} /mnt/d && "
            f"cp -a {seed} /mnt/d/data && umount /mnt/d"
        )
        subprocess.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], check=True
        )

    def rejoin(self, name: str) -> None:
        self.ns.power_on(name)
