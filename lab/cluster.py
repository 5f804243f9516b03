"""A real Pacemaker/Corosync cluster on one machine, nodes as namespaces.

Each node is `unshare --net --mount --uts --ipc --pid` with lab/node_init.py
as PID 1 (private /run, /tmp, /dev/shm and cluster state, corosync and
pacemakerd); a separate network namespace holds the bridge that links the
nodes' eth0. Addresses (TEST-NET 192.0.2.0/24) exist only inside these
namespaces. pyha is installed into the lab directory and seen by the nodes
at /usr/lib/ocf/resource.d/pyha (a private bind mount).

Fencing really powers a node off: fence_dummy (type=file) writes "off" to
the node's status file and a host-side watcher SIGKILLs that node's PID 1,
which removes the whole node. Every status file exists ("on") from the start,
so a missing file can never pass for a successful fence.

With release (or PYHA_LAB_RELEASE) naming one of lab/roots.py's releases, every node
runs from that release's root tree (lab/node_init.py): its Pacemaker, Corosync, crmsh,
resource-agents and MariaDB, and pyha's agents under its python3 (Debian 13: Pacemaker
3.0 and Python 3.13 beside this machine's own cluster stack).

    with NamespaceCluster(2) as lab:
        lab.crm("node1", "configure", "primitive", "vip", "ocf:pyha:IPaddr2-py", ...)
        lab.power_off("node1")
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence

from lab.cib import cib_text, cib_text_in_root
from lab.ops import STARTED_ROLES, ClusterOps, LabError, Lifecycle

__all__ = ["NamespaceCluster", "LabError", "STARTED_ROLES"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INIT = os.path.join(ROOT, "lab", "node_init.py")
PYTHON = "/usr/bin/python3"
_ids = itertools.count()

COROSYNC_CONF = """totem {{
    version: 2
    cluster_name: pyhalab
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: {token}
}}
nodelist {{
{nodes}
}}
quorum {{
    provider: corosync_votequorum
{two_node}}}
logging {{
    to_syslog: no
    to_stderr: no
    to_logfile: yes
    logfile: /var/log/corosync/corosync.log
    timestamp: hires
}}
"""


def _run(
    argv: Sequence[str],
    *,
    check: bool = True,
    timeout: float = 60,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        list(argv), capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(argv)} returned {result.returncode}: {result.stderr.strip()}")
    return result


def corosync_conf(nodes: Sequence[tuple[str, str]], token_ms: int) -> str:
    """corosync.conf for (name, address) nodes; two_node quorum for two."""
    entry = "    node {{\n        ring0_addr: {}\n        name: {}\n        nodeid: {}\n    }}"
    text = "\n".join(entry.format(address, name, i) for i, (name, address) in enumerate(nodes, 1))
    two_node = "    two_node: 1\n" if len(nodes) == 2 else ""
    return COROSYNC_CONF.format(token=token_ms, nodes=text, two_node=two_node)


class Node:
    """One lab node: its name, address and the PID of its init (PID 1 inside)."""

    def __init__(self, name: str, index: int, address: str) -> None:
        self.name = name
        self.index = index
        self.address = address
        self.launcher: subprocess.Popen[bytes] | None = None
        self.pid = 0

    @property
    def alive(self) -> bool:
        return self.pid > 0 and os.path.exists(f"/proc/{self.pid}")


class NamespaceCluster(ClusterOps, Lifecycle):
    """A Pacemaker cluster of `size` namespace nodes (see the module docstring)."""

    def __init__(
        self,
        size: int = 2,
        *,
        token_ms: int = 1000,
        keep: bool = False,
        workdir: str | None = None,
        release: str | None = None,
    ) -> None:
        self.release = release if release is not None else os.environ.get("PYHA_LAB_RELEASE")
        self.root = ""  # the release's root tree, once up() has it
        self.id = f"{os.getpid()}-{next(_ids)}"
        self.dir = workdir or f"/var/tmp/pyha-lab-{self.id}"
        self.bridge = f"pyha-lab-{self.id}-br"
        # A plain host on the same LAN (not a cluster node): 192.0.2.10.
        self.client = f"pyha-lab-{self.id}-client"
        self.client_address = "192.0.2.10"
        self.token_ms = token_ms
        self.keep = keep
        self.nodes = [Node(f"node{i + 1}", i, f"192.0.2.{11 + i}") for i in range(size)]
        self.fence_dir = os.path.join(self.dir, "fence")
        self.fenced: list[tuple[str, float]] = []  # (node, when the fence device said off)
        self.spawned: list[subprocess.Popen[bytes]] = []  # spawn()'s, reaped by down()

    # -- life cycle ---------------------------------------------------------------

    def node(self, name: str) -> Node:
        for node in self.nodes:
            if node.name == name:
                return node
        raise LabError(f"no node {name}")

    def up(self, timeout: float = 60) -> None:
        """Prepare the lab directory, start every node, wait until all are online."""
        if os.geteuid() != 0:
            raise LabError("the lab needs root (namespaces, mounts)")
        if self.release:
            from lab import roots

            self.root = roots.ensure(self.release)
        self._prepare()
        _run(["ip", "netns", "add", self.bridge])
        _run(["ip", "-n", self.bridge, "link", "set", "lo", "up"])
        _run(["ip", "-n", self.bridge, "link", "add", "br0", "type", "bridge"])
        _run(["ip", "-n", self.bridge, "link", "set", "br0", "up"])
        _run(["ip", "netns", "add", self.client])
        _run(["ip", "-n", self.client, "link", "set", "lo", "up"])
        _run(
            [
                "ip",
                "-n",
                self.bridge,
                "link",
                "add",
                "vc",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                self.client,
            ]
        )
        _run(["ip", "-n", self.bridge, "link", "set", "vc", "master", "br0", "up"])
        _run(["ip", "-n", self.client, "addr", "add", f"{self.client_address}/24", "dev", "eth0"])
        _run(["ip", "-n", self.client, "link", "set", "eth0", "up"])
        self._init_fencing()
        for node in self.nodes:
            self._start_node(node)
        self.wait_online(timeout)

    def _prepare(self) -> None:
        os.makedirs(self.dir)
        with open(os.path.join(self.dir, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")
            f.writelines(f"{n.address} {n.name}\n" for n in self.nodes)
        # pyha, installed as a package would be, plus the machine's own providers.
        staging = os.path.join(self.dir, "resource.d")
        for provider in os.listdir(self.root + "/usr/lib/ocf/resource.d"):
            os.makedirs(os.path.join(staging, provider))
        _run(
            [
                "make",
                "-s",
                "-C",
                ROOT,
                "install",
                f"PROVIDER_DIR={staging}/pyha",
                f"SHIM_DIR={self.dir}/shim",
                f"PYTHON_SITELIB={self.dir}/site",
                f"MANDIR={self.dir}/man",  # every install path inside the lab's directory
                f"SBINDIR={self.dir}/sbin",
                f"PYTHON={PYTHON}",
            ]
        )
        seed = os.path.join(self.dir, "seed.xml")
        # An empty CIB by the nodes' own Pacemaker (its schema version: 2.0 refuses a
        # CIB that 2.1 writes), with a short dc-deadtime.
        properties = {"dc-deadtime": "2s"}
        if self.root:
            text = cib_text_in_root(self.root, properties=properties)
            if text is None:
                raise LabError(f"cannot make an empty CIB in {self.root}")
        else:
            text = cib_text(properties=properties)
        with open(seed, "w") as f:
            f.write(text)
        conf = corosync_conf([(n.name, n.address) for n in self.nodes], self.token_ms)
        uid, gid = self.user_ids("hacluster", "haclient")
        if self.root:
            shutil.copy(INIT, os.path.join(self.dir, "node_init.py"))  # run again, chrooted
        for node in self.nodes:
            base = os.path.join(self.dir, node.name)
            # var/lib/heartbeat: the node's own (trace_ra writes there), never the host's.
            for sub in (
                "etc/corosync",
                "var/lib/corosync",
                "var/log/corosync",
                "var/lib/heartbeat",
            ):
                os.makedirs(os.path.join(base, sub))
            for sub in ("cib", "pengine", "blackbox", "cores"):
                path = os.path.join(base, "var/lib/pacemaker", sub)
                os.makedirs(path)
                os.chown(path, uid, gid)
                os.chmod(path, 0o750)  # noqa: S103 - what pacemaker's packaging sets
            os.chown(os.path.join(base, "var/lib/pacemaker"), uid, gid)
            logs = os.path.join(base, "var/log/pacemaker")
            os.makedirs(logs)
            os.chown(logs, uid, gid)
            os.chmod(logs, 0o770)  # noqa: S103 - what pacemaker's packaging sets
            with open(os.path.join(base, "etc/corosync/corosync.conf"), "w") as f:
                f.write(conf)
            cib = os.path.join(base, "var/lib/pacemaker/cib/cib.xml")
            shutil.copy(seed, cib)
            os.chown(cib, uid, gid)
            os.chmod(cib, 0o600)

    def _start_node(self, node: Node) -> None:
        node.launcher = subprocess.Popen(
            [
                "unshare",
                "--net",
                "--mount",
                "--uts",
                "--ipc",
                "--pid",
                "--fork",
                "--mount-proc",
                "--propagation",
                "private",
                PYTHON,
                "-I",
                INIT,
                node.name,
                self.dir,
                *([self.root] if self.root else []),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        children = f"/proc/{node.launcher.pid}/task/{node.launcher.pid}/children"
        for _ in range(500):
            try:
                with open(children) as f:
                    pids = f.read().split()
            except OSError:
                pids = []
            if pids:
                node.pid = int(pids[0])
                break
            time.sleep(0.01)
        else:
            raise LabError(f"{node.name}: its init did not start")
        veth = f"v{node.index}"
        # The kernel removes a dead node's veth pair asynchronously, and a dying
        # namespace can linger: wait a little, then remove our end (the pair goes).
        end = time.monotonic() + 3
        while _run(["ip", "-n", self.bridge, "link", "show", veth], check=False).returncode == 0:
            if time.monotonic() > end:
                _run(["ip", "-n", self.bridge, "link", "del", veth], check=False)
                break
            time.sleep(0.05)
        _run(
            [
                "ip",
                "-n",
                self.bridge,
                "link",
                "add",
                veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                str(node.pid),
            ]
        )
        _run(["ip", "-n", self.bridge, "link", "set", veth, "master", "br0", "up"])
        self.run(node.name, ["ip", "addr", "add", f"{node.address}/24", "dev", "eth0"])
        self.run(node.name, ["ip", "link", "set", "eth0", "up"])
        with open(os.path.join(self.dir, node.name, "net-ready"), "w"):
            pass

    def down(self) -> None:
        """Stop every node (gracefully, then by force), remove namespaces and files."""
        self._stop_fencing()
        for node in self.nodes:
            if node.alive:
                os.kill(node.pid, signal.SIGTERM)
        end = time.monotonic() + 30
        for node in self.nodes:
            while node.alive and time.monotonic() < end:
                time.sleep(0.05)
            if node.alive:
                os.kill(node.pid, signal.SIGKILL)
            if node.launcher is not None:
                try:
                    node.launcher.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    node.launcher.kill()
                    node.launcher.wait()
        for proc in self.spawned:  # each ends with its node's PID namespace
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for netns in (self.client, self.bridge):
            subprocess.run(["ip", "netns", "del", netns], capture_output=True, check=False)
        if not self.keep and os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- using the cluster ----------------------------------------------------------

    def run(
        self,
        name: str,
        argv: Sequence[str],
        *,
        check: bool = True,
        timeout: float = 60,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run argv inside a node (all of its namespaces)."""
        node = self.node(name)
        if not node.alive:
            raise LabError(f"{name} is powered off")
        result = subprocess.run(
            self._inside(node, argv),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LC_ALL": "C"},
        )
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip()
            raise LabError(
                f"{name}: {' '.join(argv)} returned {result.returncode}: {detail}; "
                f"logs in {self.dir}"
            )
        return result

    def _inside(self, node: Node, argv: Sequence[str]) -> list[str]:
        """argv run in all of a node's namespaces (and its chroot, when it has one)."""
        namespaces = ["--net", "--mount", "--uts", "--ipc", "--pid"]
        where = ["--root", "--wd"] if self.root else []
        return ["nsenter", "-t", str(node.pid), *namespaces, *where, "--", *argv]

    def spawn(self, name: str, argv: Sequence[str], log: str) -> None:
        """Start argv inside a node and leave it running, as an administrator's
        daemon (its output appended to log, a host path); it ends with the node."""
        node = self.node(name)
        if not node.alive:
            raise LabError(f"{name} is powered off")
        with open(log, "ab") as out:
            self.spawned.append(
                subprocess.Popen(
                    self._inside(node, argv),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                    env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LC_ALL": "C"},
                )
            )

    def _exec(
        self, name: str, argv: Sequence[str], input: str | None, timeout: float
    ) -> tuple[int, str, str]:
        result = self.run(name, argv, check=False, timeout=timeout, input=input)
        return result.returncode, result.stdout, result.stderr

    def user_ids(self, user: str, group: str) -> tuple[int, int]:
        """user's uid and group's gid on the nodes (their root's numbering)."""
        if self.root:
            from lab import roots

            return roots.ids_in(self.root, user, group)
        return _ids_of(user, group)

    def node_names(self) -> list[str]:
        return [n.name for n in self.nodes]

    def live_nodes(self) -> list[str]:
        return [n.name for n in self.nodes if n.alive]

    def power_on(self, name: str, timeout: float = 60, *, wait: bool = True) -> None:
        """Start a powered-off node again (same state directory) and wait until
        the cluster sees it online (wait=False: several are powered on at once)."""
        node = self.node(name)
        if node.alive:
            raise LabError(f"{name} is running")
        if node.launcher is not None:
            node.launcher.wait(timeout=10)
        self.fence_rearm(name)
        ready = os.path.join(self.dir, name, "net-ready")
        if os.path.exists(ready):
            os.unlink(ready)
        self._start_node(node)
        if wait:
            self.wait_online(timeout)

    def power_off(self, name: str) -> float:
        """Hard failure: SIGKILL the node's PID 1 (the whole node vanishes). Returns when."""
        node = self.node(name)
        at = time.monotonic()
        os.kill(node.pid, signal.SIGKILL)
        while node.alive:
            time.sleep(0.005)
        return at

    def cut_link(self, name: str) -> None:
        _run(["ip", "-n", self.bridge, "link", "set", f"v{self.node(name).index}", "nomaster"])

    def restore_link(self, name: str) -> None:
        _run(["ip", "-n", self.bridge, "link", "set", f"v{self.node(name).index}", "master", "br0"])

    def on_client(
        self, argv: Sequence[str], *, check: bool = False, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """Run argv on the client host (not a cluster node)."""
        return _run(["ip", "netns", "exec", self.client, *argv], check=check, timeout=timeout)

    def mac(self, name: str) -> str:
        """eth0's MAC address on a node."""
        out = self.run(name, ["ip", "-o", "link", "show", "dev", "eth0"]).stdout
        return out.split("link/ether ")[1].split()[0]

    def client_neighbour(self, address: str) -> str:
        """The MAC the client's ARP cache holds for address (or '')."""
        words = self.on_client(["ip", "neigh", "show", address, "dev", "eth0"]).stdout.split()
        return words[words.index("lladdr") + 1] if "lladdr" in words else ""

    def addresses(self, name: str) -> list[str]:
        out = self.run(name, ["ip", "-o", "addr", "show", "dev", "eth0"]).stdout
        return [line.split()[3] for line in out.splitlines()]

    def _log_path(self, name: str, which: str) -> str:
        return os.path.join(self.dir, name, f"var/log/{which}/{which}.log")

    def collect_logs(self, dest: str) -> None:
        """Copy every node's logs to dest (kept after down())."""
        for node in self.nodes:
            target = os.path.join(dest, node.name)
            os.makedirs(target, exist_ok=True)
            for which in ("pacemaker", "corosync"):
                src = self._log_path(node.name, which)
                if os.path.exists(src):
                    shutil.copy(src, target)
            for extra in ("init.log", "daemons.log"):
                src = os.path.join(self.dir, node.name, extra)
                if os.path.exists(src):
                    shutil.copy(src, target)


def _ids_of(user: str, group: str) -> tuple[int, int]:
    import grp
    import pwd

    return pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid
