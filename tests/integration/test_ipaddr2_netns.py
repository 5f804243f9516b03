"""IPaddr2-py against the real kernel: `ip` in throwaway namespaces on a bridged LAN."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import AGENTS_DIR, need, process_state
from tests.netns import Netns, lan, single_host

AGENT = os.path.join(AGENTS_DIR, "IPaddr2-py")
LISTEN = os.path.join(os.path.dirname(__file__), "listen.py")
pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _tools() -> None:
    need("ip", root=True)


@pytest.fixture
def rsctmp(tmp_path: object) -> str:
    return str(tmp_path)


def agent(
    ns: Netns, action: str, rsctmp: str, interval: int | str = 0, **params: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "vip",
        "HA_RSCTMP": rsctmp,
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        "OCF_RESKEY_CRM_meta_interval": str(interval),
    }
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    return ns.run([AGENT, action], env=env)


def reason(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("ocf-exit-reason:")]
    assert len(lines) == 1, result.stderr
    return lines[0][len("ocf-exit-reason:") :]


def mac(ns: Netns, dev: str = "eth0") -> str:
    return ns.ip("-o", "link", "show", "dev", dev).stdout.split("link/ether ")[1].split()[0]


@pytest.fixture
def two() -> Iterator[tuple[Netns, Netns]]:
    """node and peer on one bridge: node 192.0.2.1/24 + 2001:db8::1, peer .2 / ::2."""
    with lan(2) as (node, peer):
        for ns, host in ((node, 1), (peer, 2)):
            ns.ip("addr", "add", f"192.0.2.{host}/24", "brd", "192.0.2.255", "dev", "eth0")
            ns.ip("addr", "add", f"2001:db8::{host}/64", "dev", "eth0", "nodad")
        yield node, peer


def test_ipv4_lifecycle_is_idempotent(two: tuple[Netns, Netns], rsctmp: str) -> None:
    node, peer = two
    p = {"ip": "192.0.2.50"}
    assert agent(node, "monitor", rsctmp, **p).returncode == 7  # probe
    assert agent(node, "start", rsctmp, **p).returncode == 0
    assert "192.0.2.50/24" in node.addresses("eth0")
    out = node.ip("-o", "-4", "addr", "show", "dev", "eth0").stdout
    assert "inet 192.0.2.50/24 brd 192.0.2.255" in out  # broadcast of the base address
    assert agent(node, "start", rsctmp, **p).returncode == 0  # already running
    assert agent(node, "monitor", rsctmp, 10000, **p).returncode == 0
    ping = peer.run(["ping", "-c", "1", "-W", "2", "192.0.2.50"])
    assert ping.returncode == 0, ping.stdout
    assert agent(node, "stop", rsctmp, **p).returncode == 0
    assert "192.0.2.50/24" not in node.addresses("eth0")
    assert agent(node, "stop", rsctmp, **p).returncode == 0  # already stopped
    assert agent(node, "monitor", rsctmp, 10000, **p).returncode == 7


def test_ipv6_global_waits_for_dad_and_link_local_needs_nic(
    two: tuple[Netns, Netns], rsctmp: str
) -> None:
    node, _ = two
    started = time.monotonic()
    assert agent(node, "start", rsctmp, ip="2001:0db8:0:0::0050").returncode == 0
    assert time.monotonic() - started < 8
    line = node.ip("-o", "-6", "addr", "show", "dev", "eth0", "to", "2001:db8::50/64").stdout
    assert "2001:db8::50/64" in line and "tentative" not in line
    assert agent(node, "monitor", rsctmp, 10000, ip="2001:db8::50").returncode == 0
    assert agent(node, "stop", rsctmp, ip="2001:db8::50").returncode == 0
    assert "2001:db8::50/64" not in node.addresses("eth0")
    bad = agent(node, "start", rsctmp, ip="fe80::50")
    assert bad.returncode == 6 and "mandatory for a link local address" in reason(bad)
    p = {"ip": "fe80::50", "nic": "eth0", "cidr_netmask": "64", "nodad": "true"}
    assert agent(node, "start", rsctmp, **p).returncode == 0
    assert "fe80::50/64" in node.addresses("eth0")
    assert agent(node, "stop", rsctmp, **p).returncode == 0
    assert "fe80::50/64" not in node.addresses("eth0")


def test_nic_detection_with_several_addresses_and_routes(rsctmp: str) -> None:
    with lan(1) as (node,):
        node.ip("link", "add", "eth1", "type", "veth", "peer", "name", "peer1")
        for dev in ("eth1", "peer1"):
            node.ip("link", "set", dev, "up")
        node.ip("addr", "add", "192.0.2.1/24", "dev", "eth0")
        node.ip("addr", "add", "198.51.100.1/24", "dev", "eth0")
        node.ip("addr", "add", "198.51.100.129/25", "dev", "eth0")
        node.ip("addr", "add", "203.0.113.1/24", "dev", "eth1")
        node.ip("route", "add", "192.0.2.64/26", "dev", "eth1")
        cases = [
            ("198.51.100.50", "eth0", "24"),
            ("198.51.100.200", "eth0", "25"),
            ("203.0.113.9", "eth1", "24"),
            ("192.0.2.70", "eth1", "26"),
            ("192.0.2.10", "eth0", "24"),
        ]
        for ip, dev, prefix in cases:
            assert agent(node, "start", rsctmp, ip=ip).returncode == 0, ip
            assert f"{ip}/{prefix}" in node.addresses(dev), (ip, node.addresses())
            assert agent(node, "stop", rsctmp, ip=ip).returncode == 0
            assert f"{ip}/{prefix}" not in node.addresses(dev)
        nowhere = agent(node, "start", rsctmp, ip="10.99.0.1")
        assert nowhere.returncode == 1
        assert reason(nowhere).startswith("Unable to find nic or netmask for 10.99.0.1")


def test_iflabel_and_explicit_broadcast(two: tuple[Netns, Netns], rsctmp: str) -> None:
    node, _ = two
    p = {
        "ip": "192.0.2.60",
        "iflabel": "vip",
        "broadcast": "192.0.2.127",
        "cidr_netmask": "25",
        "nic": "eth0",
    }
    assert agent(node, "start", rsctmp, **p).returncode == 0
    out = node.ip("-o", "-4", "addr", "show", "dev", "eth0").stdout
    assert "inet 192.0.2.60/25 brd 192.0.2.127 scope global eth0:vip" in out
    assert agent(node, "monitor", rsctmp, 10000, **p).returncode == 0
    assert agent(node, "stop", rsctmp, **p).returncode == 0


def test_nic_deleted_under_a_running_address(rsctmp: str) -> None:
    with single_host() as ns:
        p = {"ip": "192.0.2.70", "check_duplicate": "false"}
        assert agent(ns, "start", rsctmp, **p).returncode == 0
        ns.ip("link", "del", "eth0")
        mon = agent(ns, "monitor", rsctmp, 10000, **p)
        assert mon.returncode == 1, mon.stderr  # recover, not a fatal 6 (PR #334)
        assert reason(mon).startswith("Unable to find nic or netmask")
        assert agent(ns, "monitor", rsctmp, 0, **p).returncode == 7
        assert agent(ns, "stop", rsctmp, **p).returncode == 0
        gone = agent(ns, "start", rsctmp, nic="eth0", cidr_netmask="24", **p)
        assert gone.returncode == 2 and "does not exist on this node" in reason(gone)


def test_address_removed_out_of_band(two: tuple[Netns, Netns], rsctmp: str) -> None:
    node, _ = two
    p = {"ip": "192.0.2.80"}
    assert agent(node, "start", rsctmp, **p).returncode == 0
    node.ip("addr", "del", "192.0.2.80/24", "dev", "eth0")
    assert agent(node, "monitor", rsctmp, 10000, **p).returncode == 7
    assert agent(node, "stop", rsctmp, **p).returncode == 0


def test_refuses_an_address_another_host_holds(two: tuple[Netns, Netns], rsctmp: str) -> None:
    node, peer = two
    peer.ip("addr", "add", "192.0.2.90/24", "dev", "eth0")
    out = agent(node, "start", rsctmp, ip="192.0.2.90")
    assert out.returncode == 1
    assert reason(out) == (
        f"192.0.2.90 already in use by {mac(peer)} (on eth0); refusing to start; "
        "check_duplicate=false skips this check"
    )
    assert "192.0.2.90/24" not in node.addresses("eth0")
    forced = agent(node, "start", rsctmp, ip="192.0.2.90", check_duplicate="false")
    assert forced.returncode == 0
    assert agent(node, "stop", rsctmp, ip="192.0.2.90").returncode == 0


def test_ipv6_duplicate_is_rolled_back(two: tuple[Netns, Netns], rsctmp: str) -> None:
    node, peer = two
    peer.ip("addr", "add", "2001:db8::90/64", "dev", "eth0", "nodad")
    out = agent(node, "start", rsctmp, ip="2001:db8::90")
    assert out.returncode == 1 and reason(out).startswith(
        "IPv6 address collision 2001:db8::90 [DAD]"
    )
    assert "2001:db8::90/64" not in node.addresses("eth0")


def listen(peer: Netns, seconds: float) -> subprocess.Popen[str]:
    proc = peer.popen(["/usr/bin/python3", LISTEN, "eth0", str(seconds)])
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    return proc


def test_gratuitous_arp_is_seen_by_a_peer_and_updates_its_cache(
    two: tuple[Netns, Netns], rsctmp: str
) -> None:
    node, peer = two
    # The peer has a stale entry for the VIP (as after a failover).
    peer.ip(
        "neigh", "add", "192.0.2.100", "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "stale"
    )
    listener = listen(peer, 2.5)
    assert (
        agent(node, "start", rsctmp, ip="192.0.2.100", arp_count="3", arp_interval="100").returncode
        == 0
    )
    out, _ = listener.communicate(timeout=10)
    announcements = [
        ln for ln in out.splitlines() if ln.startswith("arp 1") and " 192.0.2.100 192.0.2.100" in ln
    ]
    assert announcements == [f"arp 1 {mac(node)} 192.0.2.100 192.0.2.100"] * 3, out
    neigh = peer.ip("neigh", "show", "192.0.2.100", "dev", "eth0").stdout
    assert mac(node) in neigh, neigh
    assert agent(node, "stop", rsctmp, ip="192.0.2.100").returncode == 0


def test_unsolicited_na_is_seen_by_a_peer(two: tuple[Netns, Netns], rsctmp: str) -> None:
    node, peer = two
    listener = listen(peer, 2.0)
    p = {"ip": "2001:db8::100", "nodad": "true", "arp_count": "2", "arp_interval": "100"}
    assert agent(node, "start", rsctmp, **p).returncode == 0
    out, _ = listener.communicate(timeout=10)
    assert [ln for ln in out.splitlines() if ln.startswith("na ")] == [
        f"na {mac(node)} 2001:db8::100"
    ] * 2
    assert agent(node, "stop", rsctmp, **p).returncode == 0


def test_stop_kills_the_background_sender(two: tuple[Netns, Netns], rsctmp: str) -> None:
    node, peer = two
    p = {"ip": "192.0.2.110", "arp_count": "100", "arp_interval": "50", "check_duplicate": "false"}
    assert agent(node, "start", rsctmp, **p).returncode == 0
    pidfile = os.path.join(rsctmp, "IPaddr2-py-arp-192.0.2.110.pid")
    pid = int(open(pidfile).read().split()[0])
    assert os.path.exists(f"/proc/{pid}")
    assert agent(node, "stop", rsctmp, **p).returncode == 0
    assert not os.path.exists(pidfile)
    for _ in range(200):
        if process_state(pid) in ("Z", "gone"):
            break
        time.sleep(0.01)
    else:
        pytest.fail("the announcer survived stop")
    listener = listen(peer, 0.5)
    out, _ = listener.communicate(timeout=10)
    assert " 192.0.2.110 192.0.2.110" not in out


def test_network_namespace_parameter(rsctmp: str) -> None:
    with single_host() as inner:
        # The agent runs outside and enters the namespace by name.
        env = {
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "vip",
            "HA_RSCTMP": rsctmp,
            "OCF_RESKEY_ip": "192.0.2.120",
            "OCF_RESKEY_network_namespace": inner.name,
            "OCF_RESKEY_check_duplicate": "false",
            "OCF_RESKEY_CRM_meta_interval": "10000",
        }
        unshared = subprocess.run(
            ["unshare", "--net", AGENT, "start"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert unshared.returncode == 0, unshared.stderr
        assert "192.0.2.120/24" in inner.addresses("eth0")
        mon = subprocess.run(["unshare", "--net", AGENT, "monitor"], env=env, check=False)
        assert mon.returncode == 0
        env["OCF_RESKEY_network_namespace"] = "pyha-no-such-ns"
        missing = subprocess.run(
            ["unshare", "--net", AGENT, "start"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert (
            missing.returncode == 1
            and "ocf-exit-reason:ip netns exec pyha-no-such-ns" in missing.stderr
        )


def test_lvs_support_with_the_real_loopback(rsctmp: str) -> None:
    with single_host() as ns:
        ns.ip("addr", "add", "192.0.2.130/32", "dev", "lo")
        p = {"ip": "192.0.2.130", "lvs_support": "true", "check_duplicate": "false"}
        assert agent(ns, "start", rsctmp, **p).returncode == 0
        assert "192.0.2.130/32" not in ns.addresses("lo")
        assert "192.0.2.130/24" in ns.addresses("eth0")
        assert agent(ns, "stop", rsctmp, **p).returncode == 0
        assert "192.0.2.130/32" in ns.addresses("lo")
        assert "192.0.2.130/24" not in ns.addresses("eth0")
