"""The Galera scenarios, run against either agent set in a GaleraLab.

Each scenario starts clients committing on every live node, does its damage,
waits until the cluster serves again, stops the clients and checks that every
commit a client saw acknowledged is in the database. It returns what it
measured (seconds, counts) for the tests, the benchmark and the demo.

    with GaleraLab("pyha") as lab:
        r = cold_start(lab)            # all three Promoted from nothing
        r = kill_one(lab, "node3")     # ...
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from lab.galera import GaleraLab, lost, power_off_all, power_on_all, stop_all
from lab.ops import STARTED_ROLES as STARTED
from lab.ops import LabError
from lab.scenario import Writer

__all__ = [
    "Result",
    "cold_start",
    "kill_one",
    "full_outage",
    "staggered_outage",
    "partition",
    "orderly_restart",
    "absent_node",
    "bootstrap_node",
    "bootstraps",
    "histories",
    "refresh_during_bootstrap",
    "promote_timeout_mid_sst",
    "restart_in_maintenance",
    "heal_without_fencing",
    "donor_killed_mid_sst",
]


class Result:
    """What a scenario measured: seconds to the state it waited for, commits
    acknowledged and lost, and notes (the bootstrap node, ...)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seconds: dict[str, float] = {}
        self.acked = 0
        self.lost: list[int] = []
        self.notes: dict[str, str] = {}

    def __repr__(self) -> str:
        times = ", ".join(f"{k} {v:.1f} s" for k, v in self.seconds.items())
        return f"{self.name}: {times}; {self.acked} acked, {len(self.lost)} lost {self.notes}"


def _wait_size(lab: GaleraLab, names: Sequence[str], size: int, timeout: float = 60) -> None:
    """Until Galera on each named node counts size members (a dead peer evicted)."""
    end = time.monotonic() + timeout
    for name in names:
        while lab.wsrep(name, "wsrep_cluster_size") != str(size):
            if time.monotonic() > end:
                raise LabError(f"{name}: cluster size never became {size}; logs in {lab.dir}")
            time.sleep(0.2)


def _check(lab: GaleraLab, r: Result, acked: Sequence[int], via: str | None = None) -> None:
    r.acked += len(acked)
    r.lost += lost(lab, acked, via)


PROBED = r"Result of probe operation for p_galera on {node}"


def first_logged(lab: GaleraLab, pattern: str, since: float, node: str = r"\w+") -> float | None:
    """Seconds after `since` (wall clock) of the earliest line matching pattern in
    any live node's pacemaker log."""
    found = []
    for name in lab.live_nodes():
        ((_, offset),) = lab.timeline(name, [("pacemaker", pattern.format(node=node), "")], since)
        if offset is not None:
            found.append(offset)
    return min(found) if found else None


def agents_part(lab: GaleraLab, r: Result, since: float, done: float, node: str = r"\w+") -> None:
    """The agents' part of a restart: from the first probe (the cluster is up and
    asks the agents) until all were Promoted (done: wall clock)."""
    probed = first_logged(lab, PROBED, since, node)
    if probed is not None:
        r.seconds["first probe to all Promoted"] = done - since - probed


def bootstraps(lab: GaleraLab, since: float) -> list[str]:
    """Every node that bootstrapped the cluster after `since` (wall clock), in
    order, from the agents' logs (both agents log "Node <X> is bootstrapping the
    cluster")."""
    import datetime

    year = datetime.datetime.now().year
    found: list[tuple[float, str]] = []
    for name in lab.live_nodes():
        for line in lab.log(name, "pacemaker").splitlines():
            m = re.search(r"^(\w{3} +\d+ \d\d:\d\d:\d\d).*Node <(\w+)> is bootstrapping", line)
            if not m:
                continue
            when = datetime.datetime.strptime(f"{year} {m.group(1)}", "%Y %b %d %H:%M:%S")
            if when.timestamp() >= since - 1:
                found.append((when.timestamp(), m.group(2)))
    return [name for _, name in sorted(found)]


def bootstrap_node(lab: GaleraLab, since: float) -> str | None:
    """The node that bootstrapped the cluster after `since` (the first one)."""
    found = bootstraps(lab, since)
    return found[0] if found else None


def histories(lab: GaleraLab) -> dict[str, tuple[str, str]]:
    """Each live node's cluster history (state UUID) and cluster size."""
    return {
        name: (lab.wsrep(name, "wsrep_cluster_state_uuid"), lab.wsrep(name, "wsrep_cluster_size"))
        for name in lab.live_nodes()
    }


def cold_start(lab: GaleraLab, timeout: float = 240) -> Result:
    """1. From nothing: configure, all three Promoted, clients commit on each."""
    r = Result("cold start")
    wall = time.time()
    at = lab.configure_galera()
    r.seconds["all Promoted"] = lab.wait_promoted(3, timeout=timeout) - at
    agents_part(lab, r, wall, time.time())
    lab.create_schema()
    writers = lab.writers()
    time.sleep(2)
    _check(lab, r, stop_all(writers))
    return r


def kill_one(lab: GaleraLab, victim: str = "node3", timeout: float = 240) -> Result:
    """2. Hard kill of one node: the others go on committing; the dead node is
    fenced, powered on again, rejoins (IST) and is Promoted again."""
    r = Result(f"kill {victim}")
    writers = lab.writers()
    killed = lab.power_off(victim)
    survivors = [n for n in lab.node_names() if n != victim]
    for name in survivors:  # commits acknowledged on each survivor after the kill
        writer = writers[name]
        r.seconds[f"{name} commits again"] = writer.first_after(killed, gap=1.0) - killed
    lab.wait_promoted(nodes=survivors, timeout=timeout)
    r.seconds["survivors Promoted"] = time.monotonic() - killed
    while not any(name == victim for name, _ in lab.fenced):
        if time.monotonic() - killed > timeout:
            raise LabError(f"{victim} was never fenced; logs in {lab.dir}")
        time.sleep(0.1)
    time.sleep(1)
    on = time.monotonic()
    wall = time.time()
    lab.power_on(victim)
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["kill to Promoted again"] = time.monotonic() - killed
    r.seconds["power on to Promoted"] = time.monotonic() - on
    agents_part(lab, r, wall, time.time(), node=victim)
    r.notes["rejoined by"] = _transfer(lab, victim)
    time.sleep(1)
    acked = stop_all(writers)
    _check(lab, r, acked)
    r.lost += sorted(set(acked) - lab.ids(victim))  # the rejoined node serves them too
    return r


def _transfer(lab: GaleraLab, name: str) -> str:
    """How the node's last join got its state: IST or SST (its error log)."""
    log = lab.galera_log(name)
    ist = log.rfind("IST received") if "IST received" in log else -1
    sst = max(log.rfind("SST received"), log.rfind("SST succeeded"))
    if ist < 0 and sst < 0:
        return "unknown"
    return "IST" if ist > sst else "SST"


def _all_killed_while_committing(lab: GaleraLab) -> tuple[float, list[int], float]:
    """Clients commit on every node, then all nodes are killed at once: the wall time
    before the kill, the acknowledged commits, the monotonic time after it."""
    writers = lab.writers()
    time.sleep(2)
    since = time.time()
    power_off_all(lab)
    acked = stop_all(writers)
    return since, acked, time.monotonic()


def full_outage(lab: GaleraLab, timeout: float = 300) -> Result:
    """3. All three killed at once, powered on again: the cluster restarts by
    itself from the most advanced node."""
    r = Result("full outage")
    since, acked, on = _all_killed_while_committing(lab)
    wall = time.time()
    power_on_all(lab, lab.node_names())
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["power on to all Promoted"] = time.monotonic() - on
    agents_part(lab, r, wall, time.time())
    r.notes["bootstrap"] = bootstrap_node(lab, since) or "?"
    _check(lab, r, acked)
    return r


def staggered_outage(lab: GaleraLab, first: str = "node1", timeout: float = 300) -> Result:
    """4. One node dies, the others commit more, then they die too; all come
    back: the stale node must not bootstrap, the last survivors' data is served."""
    r = Result("staggered outage")
    writers = lab.writers()
    lab.power_off(first)
    others = [n for n in lab.node_names() if n != first]
    _wait_size(lab, others, 2)
    time.sleep(3)  # the survivors commit on while the first node is dead
    for name in others:
        writers[name].first_after(time.monotonic() - 1, gap=0.0)
    since = time.time()
    power_off_all(lab, others)
    acked = stop_all(writers)
    on = time.monotonic()
    power_on_all(lab, lab.node_names())
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["power on to all Promoted"] = time.monotonic() - on
    r.notes["bootstrap"] = bootstrap_node(lab, since) or "?"
    if r.notes["bootstrap"] == first:
        raise LabError(f"the stale node {first} bootstrapped the cluster; logs in {lab.dir}")
    _check(lab, r, acked)
    return r


def partition(lab: GaleraLab, minority: str = "node3", timeout: float = 240) -> Result:
    """5. Partition 1 | 2: the minority stops serving (fenced by the majority),
    the majority goes on; healed, the minority rejoins."""
    r = Result(f"partition {minority} | rest")
    writers = lab.writers()
    cut = time.monotonic()
    lab.cut_link(minority)
    majority = [n for n in lab.node_names() if n != minority]
    for name in majority:
        r.seconds[f"{name} commits again"] = writers[name].first_after(cut, gap=1.0) - cut
    while not any(name == minority for name, _ in lab.fenced):
        if time.monotonic() - cut > timeout:
            raise LabError(f"{minority} was never fenced; logs in {lab.dir}")
        time.sleep(0.1)
    r.seconds["minority fenced"] = time.monotonic() - cut
    # Powered off, the node's end of the link is gone; powering it on links it
    # anew. (Re-linking the old end could let the dying namespace answer ARP.)
    lab.power_on(minority)
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["cut to Promoted again"] = time.monotonic() - cut
    acked = stop_all(writers)
    _check(lab, r, acked)
    r.lost += sorted(set(acked) - lab.ids(minority))
    return r


def orderly_restart(lab: GaleraLab, timeout: float = 240) -> Result:
    """6. crm resource stop, then start: the last node stopped (safe_to_bootstrap)
    starts the cluster again."""
    r = Result("orderly stop and start")
    writers = lab.writers()
    time.sleep(1)
    acked = stop_all(writers)
    node = lab.live_nodes()[0]
    lab.crm(node, "resource", "stop", "ms_galera")
    end = time.monotonic() + timeout
    while lab.where("p_galera", roles=("Promoted", "Unpromoted", "Master", "Slave", "Started")):
        if time.monotonic() > end:
            raise LabError(f"ms_galera did not stop; logs in {lab.dir}")
        time.sleep(0.2)
    since = time.time()
    at = time.monotonic()
    lab.crm(node, "resource", "start", "ms_galera")
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["start to all Promoted"] = time.monotonic() - at
    r.notes["bootstrap"] = bootstrap_node(lab, since) or "?"
    _check(lab, r, acked)
    return r


def absent_node(
    lab: GaleraLab, absent: str = "node3", wait: float = 90, timeout: float = 300
) -> Result:
    """7. A node dies and stays away; the others commit more, then die too and
    come back without it. galera-py bootstraps from the best of the two (the
    absent node left the primary component before them); the reference waits
    for the absent node. Then it comes back and rejoins."""
    r = Result(f"{absent} absent during a full restart")
    writers = lab.writers()
    lab.power_off(absent)
    others = [n for n in lab.node_names() if n != absent]
    _wait_size(lab, others, 2)
    lab.wait_promoted(nodes=others, timeout=timeout)
    while not any(name == absent for name, _ in lab.fenced):
        time.sleep(0.1)
    time.sleep(12)  # commits go on without it (and a monitor or two notes its departure)
    since = time.time()
    power_off_all(lab, others)
    acked = stop_all(writers)
    on = time.monotonic()
    power_on_all(lab, others)
    try:
        lab.wait_promoted(nodes=others, timeout=wait)
        r.seconds["power on to Promoted without it"] = time.monotonic() - on
        r.notes["without it"] = "served"
        r.notes["bootstrap"] = bootstrap_node(lab, since) or "?"
        _check(lab, r, acked)
    except LabError:
        r.notes["without it"] = f"nothing Promoted after {wait:.0f} s"
    at = time.monotonic()
    lab.power_on(absent)
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["it returns to all Promoted"] = time.monotonic() - at
    if "bootstrap" not in r.notes:
        r.notes["bootstrap"] = bootstrap_node(lab, since) or "?"
        _check(lab, r, acked)
    return r


def refresh_during_bootstrap(lab: GaleraLab, timeout: float = 300) -> Result:
    """8. A full outage, then `crm resource refresh` while the cluster is being
    bootstrapped (every instance probed again, every node's election run again):
    one bootstrap, one cluster history, three members, every commit there."""
    r = Result("refresh during a bootstrap")
    since, acked, on = _all_killed_while_committing(lab)
    power_on_all(lab, lab.node_names())
    end = time.monotonic() + timeout
    while bootstrap_node(lab, since) is None:
        if time.monotonic() > end:
            raise LabError(f"no node began to bootstrap; logs in {lab.dir}")
        time.sleep(0.1)
    lab.crm(lab.live_nodes()[0], "resource", "refresh", "ms_galera")
    r.seconds["bootstrap began"] = time.monotonic() - on
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["power on to all Promoted"] = time.monotonic() - on
    time.sleep(2)
    r.notes["bootstraps"] = ",".join(bootstraps(lab, since))
    seen = histories(lab)
    r.notes["histories"] = str(len({uuid for uuid, _ in seen.values()}))
    r.notes["sizes"] = ",".join(sorted({size for _, size in seen.values()}))
    _check(lab, r, acked)
    return r


def promote_timeout_mid_sst(
    lab: GaleraLab, victim: str = "node3", rate: str = "2m", timeout: float = 300
) -> Result:
    """9. A joiner's state transfer outlasts promote (the donor rate-limited):
    promote fails in time with its reason and Pacemaker stops the node; stop ends
    what the SST left running (a joiner's socat or rsync daemon holding port 4444
    would make the next transfer fail); with the limit lifted and the failure
    cleaned up the node joins by a new SST, with the same data as the others."""
    r = Result(f"promote timeout in the middle of {victim}'s SST")
    others, writers = _away_too_long(lab, victim, rate, timeout)
    # One failure bans the node until the cleanup: Pacemaker's own retries would meet a
    # donor still busy with the interrupted transfer ("Will never receive state").
    lab.crm(others[0], "resource", "meta", "p_galera", "set", "migration-threshold", "1")
    on = time.monotonic()
    lab.power_on(victim)
    end = time.monotonic() + timeout
    failed: list[str] = []
    while not failed:
        failed = [why for node, why in lab.failures("p_galera") if node == victim]
        if time.monotonic() > end:
            raise LabError(f"{victim}'s promote never failed; logs in {lab.dir}")
        time.sleep(0.2)
    r.seconds["power on to promote failed"] = time.monotonic() - on
    r.notes["reason"] = failed[0]
    # The administrator's part: lift the limit (as a longer timeout would), wait until the
    # node is stopped and the donor done with the transfer it was sending, clean up.
    lab.limit_sst(None)
    while victim in lab.where("p_galera", roles=STARTED) or any(
        lab.wsrep(name, "wsrep_local_state_comment") != "Synced" for name in others
    ):
        if time.monotonic() > end:
            raise LabError(f"{victim} never stopped, or no donor got back; logs in {lab.dir}")
        time.sleep(0.5)
    time.sleep(5)
    lab.crm(others[0], "resource", "meta", "p_galera", "delete", "migration-threshold")
    lab.crm(others[0], "resource", "cleanup", "p_galera")
    lab.wait_promoted(3, timeout=timeout)
    r.seconds["power on to Promoted"] = time.monotonic() - on
    r.notes["rejoined by"] = _transfer(lab, victim)
    acked = stop_all(writers)
    _check(lab, r, acked)
    sums = {
        name: lab.sql(name, "CHECKSUM TABLE shop.orders, bulk.filler EXTENDED")
        for name in lab.node_names()
    }
    r.notes["checksums equal"] = str(len(set(sums.values())) == 1)
    return r


OPERATED = r"Result of (start|stop|promote|demote) operation for p_galera on {node}"


def restart_in_maintenance(lab: GaleraLab, node: str = "node2", timeout: float = 240) -> Result:
    """10. maintenance-mode=true; an administrator shuts one node's server down and
    starts it again by hand while the others commit (it rejoins by IST); then
    maintenance-mode=false. Pacemaker finds it Promoted and runs no start, stop,
    promote or demote on it; no record of its departure stands; one history of
    three members."""
    r = Result(f"{node} restarted by hand in maintenance mode")
    others = [n for n in lab.node_names() if n != node]
    writers = lab.writers()
    since = time.time()
    lab.set_property("maintenance-mode=true")
    time.sleep(3)  # every node's controller has the new configuration
    at = time.monotonic()
    lab.sql(node, "SHUTDOWN")
    while lab.run(node, ["pgrep", "-x", "mariadbd"], check=False).returncode == 0:
        if time.monotonic() - at > timeout:
            raise LabError(f"{node}'s server did not shut down; logs in {lab.dir}")
        time.sleep(0.2)
    _wait_size(lab, others, 2)
    time.sleep(2)  # the others commit without it
    lab.start_by_hand(node)
    while _state(lab, node) != "Synced":
        if time.monotonic() - at > timeout:
            raise LabError(f"{node} did not rejoin after its restart by hand; logs in {lab.dir}")
        time.sleep(0.5)
    r.seconds["shutdown to Synced again"] = time.monotonic() - at
    r.notes["rejoined by"] = _transfer(lab, node)
    lab.set_property("maintenance-mode=false")
    time.sleep(15)  # a monitor of each Promoted instance (every 10 s) has run
    operated = first_logged(lab, OPERATED, since, node)
    r.notes["operations on it"] = "none" if operated is None else f"one after {operated:.0f} s"
    r.notes["left-at"] = lab.left_at(node) or "none"
    seen = histories(lab)
    r.notes["histories"] = str(len({uuid for uuid, _ in seen.values()}))
    r.notes["sizes"] = ",".join(sorted({size for _, size in seen.values()}))
    _check(lab, r, stop_all(writers))
    return r


def _state(lab: GaleraLab, name: str) -> str:
    """wsrep_local_state_comment, or "" while the server does not answer."""
    try:
        return lab.wsrep(name, "wsrep_local_state_comment")
    except LabError:
        return ""


def heal_without_fencing(lab: GaleraLab, node: str = "node3", timeout: float = 300) -> Result:
    """11. No fencing (stonith-enabled=false, no-quorum-policy=freeze, as some sites
    run Galera). A partition cuts one node off until the majority has recorded its
    departure (<rsc>-left-at); the link comes back and the node is a member again.
    Its record must go: later the other two are stopped in order while it commits
    alone, then it dies. The two come back without it and must wait for it (it
    holds the newest commits; a stale record would let them bootstrap from an older
    position and lose those); when it is back it bootstraps, every commit there."""
    r = Result(f"{node} partitioned without fencing, later the last to commit")
    others = [n for n in lab.node_names() if n != node]
    lab.set_property("stonith-enabled=false", "no-quorum-policy=freeze")
    try:
        writers = lab.writers()
        since = time.time()
        cut = time.monotonic()
        lab.cut_link(node)
        while lab.left_at(node) is None:
            if time.monotonic() - cut > 120:
                raise LabError(f"{node}'s departure was never recorded; logs in {lab.dir}")
            time.sleep(0.5)
        r.seconds["cut to departure recorded"] = time.monotonic() - cut
        lab.restore_link(node)
        _wait_size(lab, lab.node_names(), 3, timeout=120)
        lab.wait_promoted(3, timeout=timeout)
        while lab.left_at(node) is not None:
            if time.monotonic() - cut > timeout:
                raise LabError(f"{node}'s record outlived its return; logs in {lab.dir}")
            time.sleep(0.5)
        r.seconds["cut to record cleared"] = time.monotonic() - cut
        restarted = first_logged(lab, OPERATED, since, node)
        r.notes["came back"] = "by itself" if restarted is None else "restarted by Pacemaker"
        # The others leave in order; it commits alone (a primary component of one).
        # crm_standby, not crmsh: crmsh 4.4's `node standby/online` dumps the CIB twice
        # and patches the difference, so a transient attribute an agent writes between
        # the two dumps (a start's last-committed) is deleted from the CIB behind
        # attrd's back (seen in this scenario: the next monitor found none).
        for name in others:
            lab.sh(name, ["crm_standby", "--node", name, "--update", "on"])
        end = time.monotonic() + timeout
        while lab.promoted() != [node] or lab.wsrep(node, "wsrep_cluster_size") != "1":
            if time.monotonic() > end:
                raise LabError(f"{node} was never left alone; logs in {lab.dir}")
            time.sleep(0.2)
        writers[node].first_after(time.monotonic(), gap=0.0)
        time.sleep(2)
        alone = time.time()
        lab.power_off(node)
        acked = stop_all(writers)
        for name in others:
            lab.sh(name, ["crm_standby", "--node", name, "--update", "off"])
        try:
            lab.wait_promoted(1, timeout=30)
            r.notes["without it"] = f"{lab.promoted()} Promoted"
        except LabError:
            r.notes["without it"] = "waited"
        at = time.monotonic()
        lab.power_on(node)
        lab.wait_promoted(3, timeout=timeout)
        r.seconds["its return to all Promoted"] = time.monotonic() - at
        r.notes["bootstrap"] = bootstrap_node(lab, alone) or "?"
        _check(lab, r, acked)
    finally:
        lab.set_property("stonith-enabled=true", "no-quorum-policy=stop")
    return r


def donor_killed_mid_sst(
    lab: GaleraLab, victim: str = "node3", rate: str = "2m", timeout: float = 300
) -> Result:
    """12. A node away too long joins by a full SST (the donor rate-limited so the
    transfer lasts), and its donor is killed in the middle of it. The joiner's
    server gives up; Pacemaker recovers the instance (stop ends the transfer's
    helpers) and it joins by a new SST from the last node standing; the donor is
    fenced, comes back and rejoins. Every commit there, the same data everywhere."""
    r = Result(f"donor killed during {victim}'s SST")
    others, writers = _away_too_long(lab, victim, rate, timeout)
    on = time.monotonic()
    lab.power_on(victim)
    donor = ""
    while not donor:
        donor = next((n for n in others if _state(lab, n).startswith("Donor")), "")
        if time.monotonic() - on > timeout:
            raise LabError(f"no donor began {victim}'s SST; logs in {lab.dir}")
        time.sleep(0.2)
    time.sleep(3)  # the transfer is under way
    r.seconds["power on to SST under way"] = time.monotonic() - on
    lab.limit_sst(None)
    survivor = next(n for n in others if n != donor)
    fenced_before = len(lab.fenced)
    cut = lab.power_off(donor)
    _wait_fenced(lab, donor, fenced_before, cut, timeout)
    lab.wait_promoted(nodes=[survivor, victim], timeout=timeout)
    r.seconds["donor killed to joiner Promoted"] = time.monotonic() - cut
    r.notes["joiner's failures"] = str(len([1 for n, _ in lab.failures("p_galera") if n == victim]))
    r.notes["rejoined by"] = _transfer(lab, victim)
    lab.power_on(donor)
    lab.wait_promoted(3, timeout=timeout)
    lab.crm(survivor, "resource", "cleanup", "p_galera")  # the interrupted join's record
    acked = stop_all(writers)
    _check(lab, r, acked)
    r.lost += sorted(set(acked) - lab.ids(victim))
    sums = {
        name: lab.sql(name, "CHECKSUM TABLE shop.orders, bulk.filler EXTENDED")
        for name in lab.node_names()
    }
    r.notes["checksums equal"] = str(len(set(sums.values())) == 1)
    return r


def _wait_fenced(lab: GaleraLab, name: str, before: int, since: float, timeout: float) -> None:
    """Until the lab's fence devices have powered name off (after the first `before`)."""
    while not any(n == name for n, _ in lab.fenced[before:]):
        if time.monotonic() - since > timeout:
            raise LabError(f"{name} was never fenced; logs in {lab.dir}")
        time.sleep(0.1)


def _away_too_long(
    lab: GaleraLab, victim: str, rate: str, timeout: float
) -> tuple[list[str], dict[str, Writer]]:
    """Clients commit on the others while victim is killed, fenced and kept away
    until the small gcache cannot hold what it missed (its join needs an SST); the
    donors' transfers are then limited to rate. The others, and their writers."""
    others = [n for n in lab.node_names() if n != victim]
    writers = lab.writers(others)
    fenced_before = len(lab.fenced)
    killed = lab.power_off(victim)
    _wait_fenced(lab, victim, fenced_before, killed, timeout)
    time.sleep(3)  # more commits than the small gcache holds: the joiner needs an SST
    lab.limit_sst(rate)
    return others, writers


def migrate_both_ways(lab: GaleraLab, node: str = "node1") -> Result:
    """12. pyha check on the running cluster (nothing to find, its time); then pyha
    migrate switches the promotable clone (and the VIP) to the reference agents and
    back while clients commit on every node: no start, stop, promote or demote on
    any node, the VIP never leaves its node, all three Promoted, one history."""
    import os

    from lab import migrating

    r = Result("pyha migrate to the reference agents and back")
    command = os.path.join(lab.dir, "sbin", "pyha")
    rc, out, seconds = migrating.pyha(lab, node, command, ["check", "--json"])
    r.seconds["pyha check"] = seconds
    r.notes["check"] = out.strip() if rc != 0 or out.strip() != "[]" else "nothing found"
    vip = lab.where("p_vip")
    writers = lab.writers()
    since = time.time()
    for to in ("reference", "pyha"):
        r.seconds[f"to {to}"] = migrating.switch(lab, node, command, to, ["p_galera", "p_vip"])
        time.sleep(2)  # commits go on with the new agents' monitors
    r.notes["operations"] = "; ".join(migrating.operated_since(lab, ["p_galera", "p_vip"], since))
    r.notes["operations"] = r.notes["operations"] or "none"
    r.notes["vip"] = (
        "stayed" if lab.where("p_vip") == vip else f"moved {vip} -> {lab.where('p_vip')}"
    )
    r.notes["promoted"] = ",".join(lab.promoted())
    seen = histories(lab)
    r.notes["histories"] = str(len({uuid for uuid, _ in seen.values()}))
    r.notes["sizes"] = ",".join(sorted({size for _, size in seen.values()}))
    _check(lab, r, stop_all(writers))
    return r
