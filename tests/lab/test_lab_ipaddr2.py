"""IPaddr2-py in a real Pacemaker cluster (namespace nodes, real fencing), driven by crm."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lab.cluster import NamespaceCluster
from tests.lab import need_lab

pytestmark = [pytest.mark.integration, pytest.mark.slow]
VIP = "192.0.2.100"


@pytest.fixture
def cluster() -> Iterator[NamespaceCluster]:
    need_lab()
    with NamespaceCluster(2) as lab:
        lab.configure(
            "\n".join(
                [
                    *lab.fencing_resources(),
                    "property stonith-enabled=true",
                    "rsc_defaults resource-stickiness=100",
                ]
            )
        )
        lab.crm(
            lab.nodes[0].name,
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
        yield lab


def client_reaches(lab: NamespaceCluster, mac: str) -> bool:
    """The client pings the VIP and its ARP cache points at mac."""
    for _ in range(40):
        ping = lab.on_client(["ping", "-c", "1", "-W", "1", VIP])
        if ping.returncode == 0 and lab.client_neighbour(VIP) == mac:
            return True
        time.sleep(0.1)
    return False


def test_vip_fails_over_after_a_hard_kill(cluster: NamespaceCluster) -> None:
    lab = cluster
    holder = lab.wait_for("vip")
    survivor = next(n for n in lab.live_nodes() if n != holder)
    assert f"{VIP}/24" in lab.addresses(holder)
    assert f"{VIP}/24" not in lab.addresses(survivor)
    assert client_reaches(lab, lab.mac(holder))
    killed_at = lab.power_off(holder)
    lab.wait_for("vip", on=survivor, exclude=[holder], timeout=60)
    failover = time.monotonic() - killed_at
    assert [name for name, _ in lab.fenced] == [holder]  # fenced before recovery
    assert f"{VIP}/24" in lab.addresses(survivor)
    assert client_reaches(lab, lab.mac(survivor))  # gratuitous ARP moved the client
    assert failover < 20, failover
    print(f"\nVIP failover after a hard kill: {failover:.2f} s")


def test_vip_moves_on_standby_and_back(cluster: NamespaceCluster) -> None:
    lab = cluster
    holder = lab.wait_for("vip")
    other = next(n for n in lab.live_nodes() if n != holder)
    lab.crm(other, "node", "standby", holder)
    lab.wait_for("vip", on=other, timeout=60)
    assert f"{VIP}/24" not in lab.addresses(holder)  # stop really removed it
    assert f"{VIP}/24" in lab.addresses(other)
    assert client_reaches(lab, lab.mac(other))
    lab.crm(other, "node", "online", holder)
    time.sleep(2)  # stickiness keeps it where it is
    assert lab.where("vip") == [other]


def test_monitor_detects_an_address_removed_behind_the_clusters_back(
    cluster: NamespaceCluster,
) -> None:
    lab = cluster
    lab.crm(
        lab.nodes[0].name,
        "configure",
        "primitive",
        "vip2",
        "ocf:pyha:IPaddr2-py",
        "params",
        "ip=192.0.2.101",
        "cidr_netmask=24",
        "op",
        "monitor",
        "interval=2s",
    )
    holder = lab.wait_for("vip2")
    lab.run(holder, ["ip", "addr", "del", "192.0.2.101/24", "dev", "eth0"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = lab.status(holder)
        failures = (
            []
            if status is None
            else [
                op
                for op in status.iter("failure")
                if op.get("op_key", "").startswith("vip2_monitor")
            ]
        )
        if failures and "192.0.2.101/24" in lab.addresses(holder):
            break
        time.sleep(0.2)
    else:
        pytest.fail("the cluster did not notice and recover the removed address")
    assert (
        failures[0].get("exitstatus") in ("not running", "7") or failures[0].get("exitcode") == "7"
    )
