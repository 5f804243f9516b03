"""galera-py in the other configurations users run: the reference's default launcher
(`binary=mysqld_safe`) and state transfers by mariabackup (Debian's mariadb-backup),
with a gcache small enough that a node away for a while needs a full SST. Clients
commit on every node; every acknowledged commit is checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lab import galera_scenarios as S
from lab.galera import GaleraLab
from tests.lab import need_lab
from tests.lab.test_lab_galera import ok, tools

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def lab() -> Iterator[GaleraLab]:
    tools()
    need_lab("/usr/bin/mysqld_safe", "mariabackup", "socat")
    with GaleraLab(
        "pyha",
        binary="/usr/bin/mysqld_safe",
        sst="mariabackup",
        gcache_mb=1,
        data_mb=100,  # a state transfer that a rate limit can make outlast promote
        promote_timeout=40,
    ) as c:
        yield c
        if c.unhealthy():  # keep what went wrong: the lab's directory goes with it
            c.collect_logs(f"/var/tmp/pyha-galera-variants-lab-logs-{c.id}")


def test_1_cold_start_under_mysqld_safe(lab: GaleraLab) -> None:
    ok(lab, S.cold_start(lab))
    assert lab.promoted() == ["node1", "node2", "node3"]
    for name in lab.node_names():
        assert lab.run(name, ["pgrep", "-x", "mysqld_safe"], check=False).returncode == 0, name


def test_2_a_node_away_too_long_rejoins_by_a_mariabackup_sst(lab: GaleraLab) -> None:
    r = S.kill_one(lab, "node3")
    ok(lab, r)
    assert r.notes["rejoined by"] == "SST"
    assert "mariabackup" in lab.galera_log("node3")


def test_3_full_outage_under_mysqld_safe(lab: GaleraLab) -> None:
    ok(lab, S.full_outage(lab))
    for name in lab.node_names():  # mysqld_safe did not restart a server behind the agent
        assert lab.run(name, ["pgrep", "-c", "-x", "mariadbd"], check=False).stdout.strip() == "1"


def test_4_a_promote_timeout_in_the_middle_of_an_sst_leaves_nothing_behind(
    lab: GaleraLab,
) -> None:
    """The donor limited to 2 MB/s: ~100 MB cannot reach the joiner within its
    40 s promote. promote fails first with the reason, Pacemaker stops the node,
    and stop ends the SST's helpers: with the limit lifted and a cleanup the node
    joins by a new SST (a socat or rsync left on port 4444 would make it fail),
    and every node holds the same data."""
    r = S.promote_timeout_mid_sst(lab, "node3")
    ok(lab, r)
    assert "needs a longer promote timeout" in r.notes["reason"], r.notes
    assert r.notes["rejoined by"] == "SST"
    assert r.notes["checksums equal"] == "True"


def test_5_the_donor_killed_in_the_middle_of_an_sst(lab: GaleraLab) -> None:
    """node3 needs a full SST; its donor is killed while sending it. The joiner
    gives up, Pacemaker recovers it and it joins by a new SST from the node left;
    the donor is fenced and comes back. Nothing lost, the same data on all three."""
    r = S.donor_killed_mid_sst(lab, "node3")
    ok(lab, r)
    assert r.notes["rejoined by"] == "SST", r.notes
    assert r.notes["checksums equal"] == "True", r.notes
