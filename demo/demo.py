#!/usr/bin/python3
"""pyha demo: a floating IP (IPaddr2-py) failing over between two nodes, seen by a client.

Everything happens inside network namespaces this script creates (a bridge,
node1, node2, client on TEST-NET 192.0.2.0/24) and is removed at the end,
also after a failure or Ctrl-C. Nothing is sent outside them.

Steps: start the VIP on node1, the client reaches it; node1 dies (its
namespace is deleted, as a hard power-off removes a host); node2 takes the
VIP (what Pacemaker does after fencing) and announces it with gratuitous
ARP; the client's ARP cache follows to node2 and it reaches the VIP again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENT = os.path.join(ROOT, "agents", "IPaddr2-py")
VIP = "192.0.2.100"
TAG = f"pyha-demo-{os.getpid()}"
BRIDGE, NODE1, NODE2, CLIENT = (f"{TAG}-{n}" for n in ("br", "node1", "node2", "client"))


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run(argv: Sequence[str], *, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:  # fmt: skip
    result = subprocess.run(list(argv), env=env, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        raise SystemExit(f"demo: FAILED: {' '.join(argv)} returned {result.returncode}: "
                         f"{result.stderr.strip()}")  # fmt: skip
    return result


def agent(node: str, action: str) -> tuple[int, float, str]:
    env = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "p_vip",
           "OCF_RESKEY_ip": VIP, "OCF_RESKEY_cidr_netmask": "24",
           "OCF_RESKEY_CRM_meta_timeout": "20000", "HA_RSCTMP": f"/run/{TAG}-{node}"}  # fmt: skip
    start = time.monotonic()
    result = run(["ip", "netns", "exec", node, AGENT, action], env=env, check=False)
    return result.returncode, time.monotonic() - start, result.stderr.strip()


def mac(node: str) -> str:
    out = run(["ip", "-n", node, "-o", "link", "show", "dev", "eth0"]).stdout
    return out.split("link/ether ")[1].split()[0]


def neighbour(node: str) -> str:
    out = run(["ip", "-n", node, "neigh", "show", VIP, "dev", "eth0"]).stdout.split()
    return out[out.index("lladdr") + 1] if "lladdr" in out else "(none)"


def ping(node: str) -> bool:
    return run(["ip", "netns", "exec", node, "ping", "-c", "1", "-W", "1", VIP],
               check=False).returncode == 0  # fmt: skip


def power_off(node: str) -> None:
    """SIGKILL every process in the node's namespace (ours: the agent's announcer),
    delete it, and wait until its link is gone from the bridge."""
    for pid in run(["ip", "netns", "pids", node], check=False).stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except ProcessLookupError:
            pass
    run(["ip", "netns", "del", node])
    index = (NODE1, NODE2, CLIENT).index(node)
    for _ in range(200):
        if run(["ip", "-n", BRIDGE, "link", "show", f"v{index}"], check=False).returncode != 0:
            return
        time.sleep(0.01)
    raise SystemExit(f"demo: FAILED: {node}'s link did not go away")


def setup() -> None:
    for ns in (BRIDGE, NODE1, NODE2, CLIENT):
        run(["ip", "netns", "add", ns])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(["ip", "-n", BRIDGE, "link", "add", "br0", "type", "bridge"])
    run(["ip", "-n", BRIDGE, "link", "set", "br0", "up"])
    for i, (ns, host) in enumerate(((NODE1, 1), (NODE2, 2), (CLIENT, 10))):
        run(["ip", "-n", BRIDGE, "link", "add", f"v{i}", "type", "veth", "peer", "name", "eth0",
             "netns", ns])  # fmt: skip
        run(["ip", "-n", BRIDGE, "link", "set", f"v{i}", "master", "br0", "up"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "addr", "add", f"192.0.2.{host}/24", "brd", "192.0.2.255", "dev",
             "eth0"])  # fmt: skip


def teardown() -> None:
    for ns in (NODE1, NODE2, CLIENT, BRIDGE):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
    for node in (NODE1, NODE2):
        subprocess.run(["rm", "-rf", f"/run/{TAG}-{node}"], check=False)


def main() -> int:
    if os.geteuid() != 0:
        raise SystemExit("demo: needs root (it creates network namespaces)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    say(f"building a LAN in namespaces: node1 192.0.2.1, node2 192.0.2.2, client 192.0.2.10 "
        f"(prefix {TAG})")  # fmt: skip
    try:
        setup()
        say(f"node1 MAC {mac(NODE1)}, node2 MAC {mac(NODE2)}")
        rc, took, err = agent(NODE1, "start")
        if rc != 0:
            raise SystemExit(f"demo: FAILED: start on node1 returned {rc}: {err}")
        say(f"IPaddr2-py start on node1: rc={rc} in {took * 1000:.0f} ms "
            "(including its duplicate-address probe)")  # fmt: skip
        rc, took, _ = agent(NODE1, "monitor")
        say(f"IPaddr2-py monitor on node1: rc={rc} in {took * 1000:.0f} ms")
        if not ping(CLIENT):
            raise SystemExit("demo: FAILED: the client cannot reach the VIP on node1")
        say(f"client reaches {VIP}; its ARP cache says {neighbour(CLIENT)} (node1)")
        rc, _, err = agent(NODE2, "start")
        last = err.splitlines()[-1] if err else ""
        say(f"node2 tries to take the VIP while node1 still holds it: rc={rc}: {last}")
        if rc == 0:
            raise SystemExit("demo: FAILED: node2 started a duplicate of a live address")
        say("node1 fails hard: its processes are killed and its namespace (with the "
            "address) disappears")  # fmt: skip
        failed_at = time.monotonic()
        power_off(NODE1)
        rc, took, err = agent(NODE2, "start")
        if rc != 0:
            raise SystemExit(f"demo: FAILED: start on node2 returned {rc}: {err}")
        say(f"IPaddr2-py start on node2: rc={rc} in {took * 1000:.0f} ms")
        for _ in range(50):
            if neighbour(CLIENT) == mac(NODE2) and ping(CLIENT):
                break
            time.sleep(0.05)
        else:
            raise SystemExit(f"demo: FAILED: the client still maps {VIP} to {neighbour(CLIENT)}")
        back = time.monotonic() - failed_at
        say(f"client's ARP cache now says {neighbour(CLIENT)} (node2, from the gratuitous ARP) "
            f"and it reaches {VIP} again, {back:.2f} s after the failure")  # fmt: skip
        rc, took, _ = agent(NODE2, "stop")
        say(f"IPaddr2-py stop on node2: rc={rc} in {took * 1000:.0f} ms")
        say("demo passed: every step checked. (The Pacemaker lab cluster joins this demo as the "
            "lab harness lands.)")  # fmt: skip
        return 0
    finally:
        teardown()
        say("namespaces removed")


if __name__ == "__main__":
    sys.exit(main())
