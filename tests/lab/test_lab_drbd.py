"""The classic stack on real DRBD in a UML cluster (lab.umlcluster): drbd-py as a
promotable clone under the group of IPaddr2-py, Filesystem-py and mysql-py.

One scenario, in order (the bring-up costs about a minute): pyha migrate takes
the DRBD clone to the reference agent (ocf:linbit:drbd) and back while the client
commits, nothing restarted, and pyha check finds each planted misconfiguration of
this stack; the DRBD peer (the
node without the stack) is lost and returns (resync, no interruption of the
service); then the node with the stack is powered off hard and the returned
peer takes everything over with every acknowledged commit; then, the dead node
back, the new holder's link is cut and its peer fences it and takes over."""

from __future__ import annotations

import time

import pytest

from lab import migrating, stack
from lab.scenario import MYSQL_STARTED, DrbdStack, Writer
from tests.conftest import need, need_uml
from tests.lab import planted_checks

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_drbd_peer_loss_and_return_then_a_hard_failover() -> None:
    need(
        "linux.uml",
        "drbdadm",
        "corosync",
        "pacemakerd",
        "crm",
        "fence_dummy",
        "mariadbd",
        "mariadb-install-db",
        root=True,
    )
    need_uml()
    with DrbdStack("pyha") as st:
        lab = st.uml
        st.prepare()
        holder = st.configure()
        peer = next(n for n in lab.node_names() if n != holder)
        assert lab.where("p_drbd", roles=("Promoted", "Master")) == [holder]
        assert lab.where("p_drbd", roles=("Unpromoted", "Slave")) == [peer]
        writer = st.writer()

        # 0. pyha migrate, to the reference agent and back: no start, stop, promote or
        # demote anywhere, DRBD Primary where it was (the commits are checked in 3).
        # Only the DRBD clone: the group's switch is the namespace lab's (each probe
        # costs seconds in UML).
        ids = ["p_drbd", "p_ip", "p_fs", "p_mysql"]
        since = time.time()
        switched = {
            to: migrating.switch(lab, holder, "/usr/sbin/pyha", to, ["p_drbd"], ["ms_drbd"])
            for to in ("reference", "pyha")
        }
        assert migrating.operated_since(lab, ids, since) == []
        assert lab.where("p_drbd", roles=("Promoted", "Master")) == [holder]
        assert lab.where("p_mysql") == [holder]
        # pyha check on this live, correct stack: nothing; each misconfiguration of the
        # seed's stack planted into a copy of its CIB: found, with its fix.
        rc, out, checked = migrating.pyha(lab, holder, "/usr/sbin/pyha", ["check", "--json"])
        assert rc == 0 and out.strip() == "[]", out
        cib = lab.sh(holder, ["cibadmin", "--query"])
        assert planted_checks(lab, holder, "/usr/sbin/pyha", cib, DRBD_PLANTS) == 8
        print(
            f"\nDRBD clone migrated to the reference agent {switched['reference']:.1f} s "
            f"and back {switched['pyha']:.1f} s; pyha check {checked:.2f} s"
        )

        # 1. The peer is lost: fenced, the stack stays where it is, DRBD goes on alone.
        lost_at = lab.power_off(peer)
        end = time.monotonic() + 120
        while not lab.fenced and time.monotonic() < end:
            time.sleep(0.2)
        assert [n for n, _ in lab.fenced] == [peer]
        st.wait_drbd(holder, "peer-disk:DUnknown", 30)
        assert lab.where("p_mysql") == [holder]
        committed = [t for _, t in writer.acked if t > lost_at + 1]
        assert committed, "no commit while the DRBD peer was gone"

        # 2. The peer returns: Unpromoted again, resynced, nothing moved.
        st.rejoin(peer)
        assert lab.where("p_mysql") == [holder]
        assert "disk:UpToDate" in st.drbd_state(peer)

        # 3. The holder dies: the peer fences it and takes the stack over.
        survivor, first_commit, running = st.hard_failover(holder, writer)
        assert survivor == peer
        # (on a mismatch: Pacemaker's own record of its fencing, to tell a second real
        # fencing from a miscount of the lab's watcher)
        assert [n for n, _ in lab.fenced] == [peer, holder], lab.sh(
            survivor, ["stonith_admin", "--history", "*"]
        )
        assert lab.sh(survivor, ["drbdadm", "role", stack.DRBD_RES]).startswith("Primary")
        acked = all_acknowledged_present(st, writer)
        print(
            f"\nDRBD stack failover: first commit {first_commit:.1f} s after the kill, "
            f"stack started after {running:.1f} s; {acked} commits all present"
        )

        # 4. Link cut: the dead node is back; the holder's link goes down and both
        # sides lose each other. The holder's fencing of its peer waits 5 s
        # (pcmk_delay_base), so the peer fences the isolated holder first, becomes
        # DRBD Primary and takes the stack over. (Commands go to the peer only: the
        # cut node cannot be reached.)
        st.rejoin(holder)
        holder, peer = survivor, holder
        lab.crm(holder, "resource", "param", f"f-{peer}", "set", "pcmk_delay_base", "5s")
        writer = st.writer()
        time.sleep(1.0)
        lab.cut_link(holder)
        cut, cut_wall = time.monotonic(), time.time()
        running = lab.wait_logged(peer, MYSQL_STARTED, cut_wall, timeout=240)
        first = writer.first_after(cut)
        assert [n for n, _ in lab.fenced] == [holder, peer, holder]  # steps 1, 3 and 4
        assert holder not in lab.live_nodes()  # fenced means powered off
        lab.wait_for("p_mysql", on=peer, timeout=60, poll=0.5)  # its first monitor done
        assert lab.sh(peer, ["drbdadm", "role", stack.DRBD_RES]).startswith("Primary")
        acked = all_acknowledged_present(st, writer)
        print(
            f"link cut: first commit {first - cut:.1f} s after the cut, stack started "
            f"after {running:.1f} s; {acked} commits all present"
        )


DRBD_PLANTS = (
    "drbd_without_notify",
    "drbd_outside_a_clone",
    "fs_not_colocated",
    "fs_colocated_with_any_role",
    "fs_not_ordered",
    "fs_ordered_after_start_not_promote",
    "mysql_before_its_file_system",
    "monitors_with_one_interval",
)


def all_acknowledged_present(st: DrbdStack, writer: Writer) -> int:
    """Stop the client; every commit it saw acknowledged must be there. How many."""
    time.sleep(1.0)
    acked = writer.stop()
    lost = st.check_commits(acked)
    assert not lost, f"{len(lost)} acknowledged commits lost: {lost[:10]}"
    return len(acked)
