"""IPaddr2-py in a real Pacemaker cluster (namespace nodes, real fencing), driven by crm."""

from __future__ import annotations

import os
import re
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


def test_crm_resource_trace_writes_the_trace_where_crm_says(cluster: NamespaceCluster) -> None:
    lab = cluster
    holder = lab.wait_for("vip")
    said = lab.crm(holder, "resource", "trace", "vip", "monitor")
    match = re.search(r"written to (/\S+)", said)
    assert match, said
    directory = match.group(1).rstrip("/")
    if not directory.endswith("/IPaddr2-py"):
        directory += "/IPaddr2-py"
    found = ""
    end = time.monotonic() + 40  # the monitor is rescheduled with trace_ra=1 (10 s interval)
    while time.monotonic() < end and not found:
        listing = lab.run(holder, ["ls", directory], check=False).stdout.split()
        found = next((n for n in listing if n.startswith("vip.monitor.")), "")
        time.sleep(1)
    assert found, f"no trace in {directory} on {holder}"
    text = lab.run(holder, ["cat", f"{directory}/{found}"]).stdout
    assert text.startswith("# pyha trace: IPaddr2-py")
    assert f"  ip={VIP}" in text and "  trace_ra=1" in text
    assert " run: ip " in text
    assert "exit 0 (SUCCESS)" in text
    # crm report, as an administrator sends one with a bug, carries the trace.
    since = time.strftime("%Y-%m-%d %H:%M", time.localtime(time.time() - 600))
    report = os.path.join(lab.dir, "report")
    at = time.monotonic()
    usage = lab.run(holder, ["crm", "report", "-h"], check=False).stdout
    # crmsh 4: no extra logs, no editor for a description (crmsh 5 has neither option)
    quiet = [o for o in ("-M", "-D") if f"{o}     :" in usage or f"  {o} " in usage]
    lab.run(holder, ["crm", "report", "-S", "-Q", *quiet, "-d", "-f", since, report])
    took = time.monotonic() - at
    copied = [
        os.path.join(d, n)
        for d, _, names in os.walk(report)
        for n in names
        if n == found and d.endswith("/trace_ra/IPaddr2-py")
    ]
    assert copied, f"crm report did not collect {found}: {report}"
    with open(copied[0]) as f:
        assert f.read() == text
    print(f"\ncrm report -S collected the trace in {took:.1f} s")
    lab.crm(holder, "resource", "untrace", "vip", "monitor")


def test_pacemaker_reads_drbd_py_reload_support_as_for_the_reference(
    cluster: NamespaceCluster,
) -> None:
    """The controller records, with each probe, which parameters force a restart when
    the agent supports reloading (op-force-restart): for drbd-py, as for ocf:linbit:drbd,
    the unique drbd_resource only; every other parameter is reloaded."""
    lab = cluster
    node = lab.wait_for("vip")
    for name, agent in (("d_pyha", "ocf:pyha:drbd-py"), ("d_ref", "ocf:linbit:drbd")):
        lab.crm(
            node,
            "configure",
            "primitive",
            name,
            agent,
            "params",
            f"drbd_resource=r_{name}",
            "meta",
            "target-role=Stopped",
        )
    restart: dict[str, str | None] = {}
    end = time.monotonic() + 30
    while time.monotonic() < end and len(restart) < 2:
        status = lab.run(node, ["cibadmin", "--query", "--scope", "status"]).stdout
        for name in ("d_pyha", "d_ref"):
            probe = re.search(rf'<lrm_rsc_op id="{name}_last_0"[^>]*>', status)
            if probe:
                attr = re.search(r'op-force-restart="([^"]*)"', probe.group(0))
                restart[name] = " ".join(attr.group(1).split()) if attr else None
        time.sleep(1)
    assert restart.get("d_ref") == "drbd_resource", restart
    assert restart.get("d_pyha") == restart.get("d_ref"), restart
