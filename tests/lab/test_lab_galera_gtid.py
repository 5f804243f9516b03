"""galera-py with wsrep_gtid_mode=ON and a binary log on every node (the setting
MariaDB documents for Galera nodes that feed asynchronous replicas): a cold start,
a node killed and rejoining, a full hard outage, every acknowledged commit there.

In GTID mode --wsrep-recover reports "uuid:seqno,domain-server-seqno"; before
galera-py read that form, every start after a crash failed with "Unable to detect
last known write sequence number"."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from lab import galera_scenarios as S
from lab.galera import GaleraLab
from tests.lab.test_lab_galera import ok, tools

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab() -> Iterator[GaleraLab]:
    tools()
    with GaleraLab("pyha", gtid=True) as cluster:
        yield cluster
        if cluster.unhealthy():  # keep what went wrong: the lab's directory goes with it
            cluster.collect_logs(f"/var/tmp/pyha-galera-gtid-lab-logs-{cluster.id}")


def gtid_positions(lab: GaleraLab) -> dict[str, str]:
    return {name: lab.sql(name, "SELECT @@gtid_binlog_pos") for name in lab.node_names()}


def test_1_cold_start_in_gtid_mode(lab: GaleraLab) -> None:
    ok(lab, S.cold_start(lab))
    assert lab.promoted() == ["node1", "node2", "node3"]
    for name in lab.node_names():
        assert lab.sql(name, "SELECT @@wsrep_gtid_mode, @@log_bin") == "1\t1"


def test_2_a_killed_node_recovers_its_gtid_position_and_rejoins_by_ist(lab: GaleraLab) -> None:
    r = S.kill_one(lab, "node3")
    ok(lab, r)
    assert r.notes["rejoined by"] == "IST"
    # the agent read the GTID form (its own log line, in Pacemaker's log)
    assert re.search(r"Last commit version found: [0-9]+,[0-9]+-[0-9]+-[0-9]+", lab.log("node3"))


def test_3_full_outage_in_gtid_mode(lab: GaleraLab) -> None:
    ok(lab, S.full_outage(lab))
    positions = gtid_positions(lab)
    assert len(set(positions.values())) == 1, positions  # one history, the same GTIDs
    assert next(iter(positions.values())).startswith("1-1-")


def test_4_without_fencing_a_healed_partition_leaves_no_record_that_could_excuse_the_node(
    lab: GaleraLab,
) -> None:
    """stonith-enabled=false, no-quorum-policy=freeze: node3 is cut off until the
    others record its departure, then comes back. Its record goes. Later it is the
    last to commit (the others stopped in order) and dies: the others, back without
    it, wait for it; back, it bootstraps, and its commits are all there."""
    r = S.heal_without_fencing(lab, "node3")
    ok(lab, r)
    assert r.notes["without it"] == "waited", r.notes
    assert r.notes["bootstrap"] == "node3", r.notes
