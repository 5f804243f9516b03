"""galera-py in a real three-node Pacemaker cluster with fencing, each node its own
mariadbd: ten scenarios of lab/galera_scenarios.py, with clients committing
on every node and every acknowledged commit checked. Four of the scenarios run with
ocf:heartbeat:galera in a lab of its own for comparison (its results are printed
and the one it cannot pass is asserted to fail the way docs/agents.md says)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from lab import galera_scenarios as S
from lab.galera import GaleraLab
from tests.lab import need_lab, planted_checks

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def tools() -> None:
    need_lab(
        "mariadbd",
        "mariadb-install-db",
        "rsync",
        "/usr/lib/galera/libgalera_smm.so",
        "/usr/lib/ocf/resource.d/heartbeat/galera",
    )


@pytest.fixture(scope="module")
def lab() -> Iterator[GaleraLab]:
    tools()
    with GaleraLab("pyha") as cluster:
        yield cluster
        if cluster.unhealthy():  # keep what went wrong: the lab's directory goes with it
            cluster.collect_logs(f"/var/tmp/pyha-galera-lab-logs-{cluster.id}")


def ok(lab: GaleraLab, result: S.Result) -> None:
    """No acknowledged commit lost, and the cluster settled: no failed action, every
    instance active. An operation in flight (a monitor is "pending" while it runs,
    Pacemaker records pending operations) is looked at again for up to 15 s; a failure
    or an instance that is not running is not."""
    print(result)
    assert result.lost == [], f"acknowledged commits lost: {result.lost[:20]}"
    assert result.acked > 0
    end = time.monotonic() + 15
    problems = lab.unhealthy()
    while problems and all(p.endswith(" pending") for p in problems):
        if time.monotonic() > end:
            break
        time.sleep(0.5)
        problems = lab.unhealthy()
    assert problems == [], problems


def test_1_cold_start_all_promoted(lab: GaleraLab) -> None:
    r = S.cold_start(lab)
    ok(lab, r)
    assert lab.promoted() == ["node1", "node2", "node3"]


def test_2_one_node_killed_fenced_rejoins_by_ist(lab: GaleraLab) -> None:
    r = S.kill_one(lab, "node3")
    ok(lab, r)
    assert r.notes["rejoined by"] == "IST"  # the recovered position, not a full SST
    for name in ("node1", "node2"):  # the others went on committing
        assert r.seconds[f"{name} commits again"] < 15


def test_3_full_hard_outage_restarts_by_itself(lab: GaleraLab) -> None:
    ok(lab, S.full_outage(lab))


def test_4_staggered_outage_never_bootstraps_the_stale_node(lab: GaleraLab) -> None:
    r = S.staggered_outage(lab, first="node1")
    ok(lab, r)
    assert r.notes["bootstrap"] in ("node2", "node3")


def test_5_partition_minority_fenced_majority_goes_on(lab: GaleraLab) -> None:
    r = S.partition(lab, "node3")
    ok(lab, r)
    for name in ("node1", "node2"):
        assert r.seconds[f"{name} commits again"] < 15


def test_6_orderly_stop_and_start(lab: GaleraLab) -> None:
    r = S.orderly_restart(lab)
    ok(lab, r)
    assert r.notes["bootstrap"] != "?"


def test_7_absent_node_does_not_block_the_restart(lab: GaleraLab) -> None:
    """The node that died first stays away during the full restart: galera-py
    does not wait for it (it left the primary component before the others),
    the reference waits forever (resource-agents #1009)."""
    r = S.absent_node(lab, "node3", wait=90)
    ok(lab, r)
    assert r.notes["without it"] == "served"
    assert r.notes["bootstrap"] in ("node1", "node2")


def test_8_restart_by_hand_in_maintenance_mode_is_adopted(lab: GaleraLab) -> None:
    """An administrator restarts a server by hand in maintenance mode: leaving it,
    Pacemaker finds the node Promoted and operates nothing on it, no departure
    record stands, one history of three (the next scenario's full outage then
    bootstraps once)."""
    r = S.restart_in_maintenance(lab, "node2")
    ok(lab, r)
    assert r.notes["rejoined by"] == "IST", r.notes
    assert r.notes["operations on it"] == "none", r.notes
    assert r.notes["left-at"] == "none", r.notes
    assert r.notes["histories"] == "1" and r.notes["sizes"] == "3", r.notes


def test_9_refresh_during_a_bootstrap_bootstraps_once(lab: GaleraLab) -> None:
    """crm resource refresh while the bootstrap node is being promoted: every node
    runs its election again; exactly one bootstraps (one history, size 3)."""
    r = S.refresh_during_bootstrap(lab)
    ok(lab, r)
    assert len(r.notes["bootstraps"].split(",")) == 1, r.notes
    assert r.notes["histories"] == "1" and r.notes["sizes"] == "3", r.notes


def test_10_migrate_to_the_reference_agent_and_back_restarts_nothing(lab: GaleraLab) -> None:
    """pyha check finds nothing on the running three-node cluster, within 2 s; pyha
    migrate takes the promotable clone and the VIP to ocf:heartbeat:galera and
    IPaddr2 and back while every node commits: nothing started, stopped, promoted or
    demoted anywhere, the VIP where it was, all Promoted, one history of three."""
    r = S.migrate_both_ways(lab)
    ok(lab, r)
    # and each Galera misconfiguration planted into a copy of this live CIB is found
    cib = lab.sh("node1", ["cibadmin", "--query"])
    command = os.path.join(lab.dir, "sbin", "pyha")
    assert planted_checks(lab, "node1", command, cib, GALERA_PLANTS) == 5
    assert r.notes["check"] == "nothing found", r.notes["check"]
    assert r.seconds["pyha check"] < 2.0, r.seconds
    assert r.notes["operations"] == "none", r.notes["operations"]
    assert r.notes["vip"] == "stayed", r.notes
    assert r.notes["promoted"] == "node1,node2,node3", r.notes
    assert r.notes["histories"] == "1" and r.notes["sizes"] == "3", r.notes


GALERA_PLANTS = (
    "no_fencing",
    "no_fence_device",
    "galera_promotes_one",
    "galera_not_promotable",
    "quorum_ignored_by_three",
)


def test_reference_agent_in_the_same_scenarios() -> None:
    """ocf:heartbeat:galera in the same lab: it passes 1, 2 and 4 (no commit lost)
    and cannot pass 7: nothing is promoted while a node is absent. (Its full outage
    is measured side by side in `make bench-galera`; its partition and orderly
    restart, which it passes too, are left out of CI for time.)"""
    tools()
    with GaleraLab("reference") as ref:
        results = [
            S.cold_start(ref),
            S.kill_one(ref, "node3"),
            S.staggered_outage(ref, first="node1"),
        ]
        for r in results:
            print(r)
            assert r.lost == [], (r.name, r.lost[:20])
        absent = S.absent_node(ref, "node3", wait=60)
        print(absent)
        assert absent.notes["without it"] == "nothing Promoted after 60 s"
        assert absent.lost == []  # once the absent node is back, all is there
