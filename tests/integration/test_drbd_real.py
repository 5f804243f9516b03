"""drbd-py on REAL DRBD: two User-Mode-Linux guests with drbd.ko 8.4.11 (lab.uml),
the agent installed in them, scores read back with crm_attribute from a CIB file in
each guest. Every test starts from fresh DRBD meta data on both disks, resource down."""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator

import pytest

from lab.drbdpair import AGENT, CIB, GUESTS, Pair, seed_cib
from lab.uml import UmlLab, drbd_resource
from tests.conftest import need, need_uml


@pytest.fixture(scope="module")
def lab() -> Iterator[UmlLab]:
    need("linux.uml", "drbdadm", "cibadmin", "crm_attribute", root=True)
    need_uml()
    files = {
        "/etc/drbd.d/r0.res": drbd_resource("r0", GUESTS),
        "/etc/pyha-test/cib.xml": seed_cib(),
    }
    with UmlLab(2, files=files) as uml:
        for guest in GUESTS:
            uml.run(guest, ["modprobe", "drbd"], check=True)
        yield uml


@pytest.fixture
def pair(lab: UmlLab) -> Generator[Pair]:
    p = Pair(lab)
    p.reset()
    yield p


def test_lifecycle_scores_and_data_across_a_switch_of_primary(pair: Pair) -> None:
    assert pair.monitor("uml1", probe=True) == 7
    pair.start_synced()
    assert [pair.monitor(g) for g in GUESTS] == [0, 0]
    assert [pair.score(g) for g in GUESTS] == ["10000", "10000"]
    assert pair.rc("uml1", "promote") == 0
    assert pair.rc("uml1", "monitor", interval_ms=10000) == 8
    assert pair.monitor("uml2") == 0
    data = "pyha-" + "x" * 100
    pair.sh(
        "uml1",
        "sh",
        "-c",
        f"printf %s {data} | dd of=/dev/drbd0 oflag=direct,sync "
        "conv=sync bs=4096 count=1 2>/dev/null",
    )
    assert pair.rc("uml1", "demote") == 0
    assert pair.rc("uml1", "demote") == 0  # idempotent
    assert pair.rc("uml2", "promote") == 0
    assert pair.monitor("uml2") == 8
    read = pair.sh(
        "uml2", "dd", "if=/dev/drbd0", "bs=4096", "count=1", "iflag=direct", "status=none"
    ).stdout
    assert read.rstrip("\0") == data
    assert pair.rc("uml2", "demote") == 0
    assert pair.both(lambda g: pair.rc(g, "stop")) == [0, 0]
    assert [pair.monitor(g, probe=True) for g in GUESTS] == [7, 7]
    assert [pair.score(g) for g in GUESTS] == [None, None]
    assert pair.rc("uml1", "stop") == 0  # stop of a stopped resource


def test_fresh_disks_get_no_score_until_synced(pair: Pair) -> None:
    assert pair.both(lambda g: pair.rc(g, "start")) == [0, 0]
    assert "disk:Inconsistent" in pair.events("uml1")
    assert [pair.score(g) for g in GUESTS] == [None, None]  # nothing trustworthy
    out = pair.agent("uml1", "promote", timeout_ms=4000)
    assert out.rc == 1
    assert (
        "ocf-exit-reason:cannot promote r0: no access to UpToDate data (local disk "
        "Inconsistent)" in out.stderr
    )


def test_promote_refused_while_the_peer_is_primary(pair: Pair) -> None:
    pair.start_synced()
    assert pair.rc("uml1", "promote") == 0
    out = pair.agent("uml2", "promote", timeout_ms=5000)
    assert out.rc == 1
    assert (
        "ocf-exit-reason:cannot promote r0: the peer is Primary; drbdadm primary: "
        "Multiple primaries not allowed by config (rc 11)"
    ) in out.stderr
    assert "role:Primary" in pair.events("uml1").splitlines()[0]
    assert "role:Secondary" in pair.events("uml2").splitlines()[0]
    assert pair.monitor("uml2") == 0


def test_outdated_disk_is_never_promoted(pair: Pair) -> None:
    pair.start_synced()
    assert pair.rc("uml1", "promote") == 0
    pair.both(lambda g: pair.sh(g, "drbdadm", "disconnect", "r0"))
    pair.sh("uml2", "drbdadm", "outdate", "r0")
    assert "disk:Outdated" in pair.events("uml2")
    assert pair.monitor("uml2") == 0
    assert pair.score("uml2") is None
    started = time.monotonic()
    out = pair.agent("uml2", "promote", timeout_ms=4000)
    assert out.rc == 1
    assert "cannot promote r0: no access to UpToDate data (local disk Outdated)" in out.stderr
    assert time.monotonic() - started < 6  # bounded by the deadline, not 15 s
    # The Primary, alone, keeps its score; the peer's return resyncs the Outdated disk.
    assert pair.rc("uml1", "monitor", interval_ms=10000) == 8
    assert pair.score("uml1") == "10000"
    assert pair.rc("uml2", "notify", meta={"notify_type": "pre", "notify_operation": "start"}) == 0
    assert pair.rc("uml1", "notify", meta={"notify_type": "pre", "notify_operation": "start"}) == 0
    pair.wait_for("uml2", "disk:UpToDate")
    assert pair.monitor("uml2") == 0
    assert pair.score("uml2") == "10000"


def test_peer_down_standalone_and_return(pair: Pair) -> None:
    pair.start_synced()
    assert pair.rc("uml2", "stop") == 0
    assert pair.monitor("uml1") == 0
    assert pair.score("uml1") == "1000"  # UpToDate, peer unknown
    assert pair.rc("uml1", "promote") == 0
    assert pair.score("uml1") == "10000"
    pair.sh("uml1", "drbdadm", "disconnect", "r0")
    assert "connection:StandAlone" in pair.events("uml1")
    assert pair.rc("uml1", "monitor", interval_ms=10000) == 8
    # The peer starts again: the pre-start notification makes the StandAlone side listen.
    assert (
        pair.rc(
            "uml1",
            "notify",
            meta={"notify_type": "pre", "notify_operation": "start", "notify_start_uname": "uml2"},
        )
        == 0
    )
    assert pair.rc("uml2", "start") == 0
    pair.wait_for("uml1", "peer-disk:UpToDate")
    assert pair.monitor("uml2") == 0
    assert pair.score("uml2") == "10000"


def test_diskless_secondary_scores_remote_data_only(pair: Pair) -> None:
    pair.start_synced()
    assert pair.rc("uml1", "promote") == 0
    pair.sh("uml2", "drbdadm", "detach", "r0")
    assert "disk:Diskless" in pair.events("uml2")
    assert pair.monitor("uml2") == 0
    assert pair.score("uml2") == "10"
    # start repairs a failed attach
    assert pair.rc("uml2", "start") == 0
    pair.wait_for("uml2", "disk:UpToDate")
    assert pair.monitor("uml2") == 0
    assert pair.score("uml2") == "10000"


def test_syncing_target_scores_remote_data(pair: Pair) -> None:
    pair.start_synced()
    pair.sh("uml2", "drbdadm", "disk-options", "--c-plan-ahead=0", "--resync-rate=1M", "r0")
    pair.sh("uml2", "drbdadm", "invalidate", "r0")
    events = pair.wait_for("uml2", "replication:SyncTarget")
    assert "disk:Inconsistent" in events
    assert pair.monitor("uml2") == 0
    assert pair.score("uml2") == "10"
    assert pair.monitor("uml1") == 0
    assert pair.score("uml1") == "10000"


def test_demote_and_stop_name_what_holds_the_device(pair: Pair) -> None:
    pair.start_synced()
    assert pair.rc("uml1", "promote") == 0
    holder = pair.sh("uml1", "sh", "-c", "sleep 600 </dev/drbd0 >/dev/null 2>&1 & echo $!")
    pid = holder.stdout.strip()
    out = pair.agent("uml1", "demote", timeout_ms=3000)
    assert out.rc == 1
    assert (
        f"ocf-exit-reason:cannot demote r0: device in use: process {pid} (sleep) has "
        "/dev/drbd0 open; drbdadm secondary:"
    ) in out.stderr
    pair.sh("uml1", "kill", pid)
    pair.sh(
        "uml1", "sh", "-c", "mkfs.ext4 -q /dev/drbd0 && mkdir -p /mnt/d && mount /dev/drbd0 /mnt/d"
    )
    out = pair.agent("uml1", "stop", timeout_ms=3000)
    assert out.rc == 1
    assert (
        "ocf-exit-reason:cannot stop DRBD resource r0: device in use: mounted on /mnt/d;"
        in out.stderr
    )
    pair.sh("uml1", "umount", "/mnt/d")
    assert pair.rc("uml1", "demote") == 0
    assert pair.rc("uml1", "stop") == 0


def test_ocf_tester_passes_in_a_guest(pair: Pair) -> None:
    pair.start_synced()
    assert pair.rc("uml1", "stop") == 0  # ocf-tester starts from a stopped resource
    result = pair.lab.run(
        "uml1",
        [
            "ocf-tester",
            "-n",
            "p_drbd",
            "-o",
            "drbd_resource=r0",
            "-o",
            "CRM_meta_notify=true",
            AGENT,
        ],
        env={"CIB_file": CIB},
        timeout=300,
    )
    assert result.rc == 0, result.stdout + result.stderr
    assert f"{AGENT} passed all tests" in result.stdout


def test_connect_only_after_promote(pair: Pair) -> None:
    pair.both(lambda g: pair.sh(g, "drbdadm", "up", "r0"))
    pair.wait_for("uml1", "connection:Connected")
    pair.sh("uml1", "drbdadm", "--", "--clear-bitmap", "new-current-uuid", "r0")
    pair.wait_for("uml2", "peer-disk:UpToDate")
    pair.sh("uml1", "drbdadm", "down", "r0")
    out = pair.agent("uml1", "start", connect_only_after_promote="true")
    assert out.rc == 0, out.stderr
    events = pair.events("uml1")
    assert "connection:StandAlone" in events and "disk:UpToDate" not in events.split("device", 1)[0]
    assert pair.agent("uml1", "promote", connect_only_after_promote="true").rc == 0
    pair.wait_for("uml1", "peer-disk:UpToDate")
    assert pair.rc("uml1", "monitor", interval_ms=10000) == 8
