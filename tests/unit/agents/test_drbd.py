"""drbd-py with fakes of drbdadm/drbdsetup/crm_attribute fed with outputs recorded
from a real DRBD 8.4.11 module (in the UML lab) and the documented DRBD 9 format:
every connection and disk state, every row of the score ladder and of the reference
agent's validation and action tables."""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from ocflib import drbdstate as model
from ocflib.agents import drbd
from ocflib.pacemaker import parse_locate
from tests.conftest import Outcome, dispatch
from tests.fakes import FakeClock, FakeDrbd, FakeRunner, ocf_env

AGENT = drbd.AGENT
ATTR = ["crm_attribute", "--promotion", "-N", "n1"]
ADM = ["drbdadm", "-c", "/etc/hostname"]
EVENTS = ["drbdsetup", "events2", "--now", "r0"]

# --- outputs recorded on DRBD 8.4.11 (drbd-utils 9.22) ------------------------------------

DOWN = "exists -\n"
CONNECTED_INCONSISTENT = """\
exists resource name:r0 role:Secondary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Secondary
exists device name:r0 volume:0 minor:0 disk:Inconsistent
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:Inconsistent resync-suspended:no
exists -
"""
SYNC_SOURCE_PRIMARY = """\
exists resource name:r0 role:Primary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Secondary
exists device name:r0 volume:0 minor:0 disk:UpToDate
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:SyncSource peer-disk:Inconsistent resync-suspended:no
exists -
"""
SYNC_TARGET = """\
exists resource name:r0 role:Secondary suspended:no write-ordering:flush
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Primary congested:no
exists device name:r0 volume:0 minor:0 disk:Inconsistent size:65496 read:0 written:74436 al-writes:0 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:SyncTarget peer-disk:UpToDate resync-suspended:no received:8940 sent:0 out-of-sync:56556 pending:0 unacked:0
exists -
"""
PRIMARY_SYNCED = """\
exists resource name:r0 role:Primary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Secondary
exists device name:r0 volume:0 minor:0 disk:UpToDate
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:UpToDate resync-suspended:no
exists -
"""
SECONDARY_SYNCED = """\
exists resource name:r0 role:Secondary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Primary
exists device name:r0 volume:0 minor:0 disk:UpToDate
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:UpToDate resync-suspended:no
exists -
"""
BOTH_SECONDARY = SECONDARY_SYNCED.replace(
    "connection:Connected role:Primary", "connection:Connected role:Secondary"
)
PRIMARY_PEER_DOWN = """\
exists resource name:r0 role:Primary suspended:no write-ordering:flush
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connecting role:Unknown congested:no
exists device name:r0 volume:0 minor:0 disk:UpToDate size:65496 read:0 written:0 al-writes:8 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Off peer-disk:DUnknown resync-suspended:no received:0 sent:0 out-of-sync:0 pending:0 unacked:0
exists -
"""
SECONDARY_PEER_DOWN = PRIMARY_PEER_DOWN.replace("role:Primary", "role:Secondary")
STANDALONE_PRIMARY = """\
exists resource name:r0 role:Primary suspended:no write-ordering:flush
exists connection name:r0 peer-node-id:0 connection:StandAlone role:Unknown congested:no
exists device name:r0 volume:0 minor:0 disk:UpToDate size:65496 read:20480 written:20480 al-writes:13 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no
exists peer-device name:r0 peer-node-id:0 volume:0 replication:Off peer-disk:DUnknown resync-suspended:no received:0 sent:20480 out-of-sync:0 pending:0 unacked:0
exists -
"""
OUTDATED = """\
exists resource name:r0 role:Secondary suspended:no
exists connection name:r0 peer-node-id:0 connection:StandAlone role:Unknown
exists device name:r0 volume:0 minor:0 disk:Outdated
exists peer-device name:r0 peer-node-id:0 volume:0 replication:Off peer-disk:DUnknown resync-suspended:no
exists -
"""
DISKLESS = """\
exists resource name:r0 role:Secondary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connected role:Primary
exists device name:r0 volume:0 minor:0 disk:Diskless
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Established peer-disk:UpToDate resync-suspended:no
exists -
"""
PRIMARY_DISKLESS_ALONE = """\
exists resource name:r0 role:Primary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:peer connection:Connecting role:Unknown
exists device name:r0 volume:0 minor:0 disk:Diskless
exists peer-device name:r0 peer-node-id:0 conn-name:peer volume:0 replication:Off peer-disk:DUnknown resync-suspended:no
exists -
"""
CONSISTENT_ALONE = SECONDARY_PEER_DOWN.replace("disk:UpToDate", "disk:Consistent")
ATTACHING = CONNECTED_INCONSISTENT.replace("disk:Inconsistent\n", "disk:Attaching\n")

# --- the documented DRBD 9 format: node ids, several peers, clients, quorum --------------

V9_THREE = """\
exists resource name:r0 role:Secondary suspended:no
exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connected role:Primary
exists connection name:r0 peer-node-id:2 conn-name:gamma connection:Connected role:Secondary
exists device name:r0 volume:0 minor:0 disk:UpToDate client:no quorum:yes
exists device name:r0 volume:1 minor:1 disk:UpToDate client:no quorum:yes
exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:Established peer-disk:UpToDate peer-client:no
exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:1 replication:Established peer-disk:UpToDate peer-client:no
exists peer-device name:r0 peer-node-id:2 conn-name:gamma volume:0 replication:Established peer-disk:Diskless peer-client:yes
exists peer-device name:r0 peer-node-id:2 conn-name:gamma volume:1 replication:Established peer-disk:Diskless peer-client:yes
exists -
"""
V9_NO_QUORUM = V9_THREE.replace(
    "minor:1 disk:UpToDate client:no quorum:yes", "minor:1 disk:UpToDate client:no quorum:no"
)
V9_CLIENT = """\
exists resource name:r0 role:Secondary suspended:no
exists connection name:r0 peer-node-id:0 conn-name:alpha connection:Connected role:Secondary
exists connection name:r0 peer-node-id:1 conn-name:beta connection:Connecting role:Unknown
exists device name:r0 volume:0 minor:0 disk:Diskless client:yes quorum:yes
exists peer-device name:r0 peer-node-id:0 conn-name:alpha volume:0 replication:Established peer-disk:UpToDate peer-client:no
exists peer-device name:r0 peer-node-id:1 conn-name:beta volume:0 replication:Off peer-disk:DUnknown peer-client:no
exists -
"""
V9_CLIENT_ALL = V9_CLIENT.replace(
    "connection:Connecting role:Unknown", "connection:Connected role:Secondary"
).replace("replication:Off peer-disk:DUnknown", "replication:Established peer-disk:UpToDate")
V9_CLIENT_NONE = V9_CLIENT.replace("peer-disk:UpToDate", "peer-disk:Outdated")
V9_PARTIAL_PEER = V9_THREE.replace(
    "peer-node-id:1 conn-name:beta volume:1 replication:Established peer-disk:UpToDate",
    "peer-node-id:1 conn-name:beta volume:1 replication:Established peer-disk:Inconsistent",
)
V9_UNCONFIGURED_OTHER = "exists resource name:other role:Primary suspended:no\nexists -\n"


# --- 1. the state model and the score ladder ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "score"),
    [
        (DOWN, None),
        (CONNECTED_INCONSISTENT, None),  # nothing trustworthy anywhere: delete
        (SYNC_SOURCE_PRIMARY, 10000),  # Primary with UpToDate data
        (SYNC_TARGET, 10),  # only the peer is UpToDate
        (PRIMARY_SYNCED, 10000),
        (SECONDARY_SYNCED, 10000),  # UpToDate with the peer known
        (PRIMARY_PEER_DOWN, 10000),
        (SECONDARY_PEER_DOWN, 1000),  # UpToDate, peer unknown
        (STANDALONE_PRIMARY, 10000),
        (OUTDATED, None),  # never promote Outdated data
        (DISKLESS, 10),  # a detached disk, peer UpToDate
        (CONSISTENT_ALONE, 0),  # consistent only: v1 (0 deletes)
        (ATTACHING, model.KEEP),  # transitional: leave the score alone
        (V9_THREE, 10000),
        (V9_NO_QUORUM, None),  # no quorum: delete
        (V9_CLIENT, 999),  # diskless client, some peer UpToDate: v3-1
        (V9_CLIENT_ALL, 9999),  # diskless client, all peers UpToDate: v4-1
        (V9_CLIENT_NONE, None),
        (V9_UNCONFIGURED_OTHER, None),  # another resource's lines are ignored
    ],
)
def test_score_ladder(text: str, score: object) -> None:
    state = model.parse_events2(text, "r0")
    assert model.promotion_score(state, model.Ladder()) == score


def test_state_flags_of_recorded_outputs() -> None:
    down = model.parse_events2(DOWN, "r0")
    assert not down.configured and not down.primary
    standalone = model.parse_events2(STANDALONE_PRIMARY, "r0")
    assert standalone.primary and standalone.standalone and standalone.peer_disk_any_unknown
    assert standalone.peers["0"].name == ""  # no conn-name when StandAlone (8.4)
    synced = model.parse_events2(SECONDARY_SYNCED, "r0")
    assert synced.some_peer_primary and synced.all_connected and synced.peer_disk_all_up_to_date
    assert synced.minors == [0]
    v9 = model.parse_events2(V9_THREE, "r0")
    assert v9.minors == [0, 1] and v9.peers["2"].client and not v9.peers["1"].client
    assert [p.name for p in v9.real_peers] == ["beta"]
    partial = model.parse_events2(V9_PARTIAL_PEER, "r0")
    assert partial.peers["1"].partly_up_to_date and not partial.peer_disk_all_up_to_date
    assert model.promotion_score(partial, model.Ladder()) == 10000


def test_data_access_of_a_primary() -> None:
    assert model.parse_events2(PRIMARY_PEER_DOWN, "r0").data_accessible
    assert model.parse_events2(
        SYNC_TARGET.replace("role:Secondary", "role:Primary", 1), "r0"
    ).data_accessible
    assert not model.parse_events2(PRIMARY_DISKLESS_ALONE, "r0").data_accessible
    assert not model.parse_events2(V9_NO_QUORUM, "r0").data_accessible


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("0 10 1000 10000", True),
        ("1 1 1 1", True),
        ("0 10 1000", False),
        ("0 10 x 10000", False),
        ("10 0 1000 10000", False),
    ],
)
def test_ladder_parsing(text: str, ok: bool) -> None:
    if ok:
        assert model.Ladder.parse(text).best == int(text.rsplit(maxsplit=1)[-1])
    else:
        with pytest.raises(ValueError):
            model.Ladder.parse(text)


def test_versions_and_locate() -> None:
    assert model.parse_version("8.4.11") == (8, 4, 11)
    assert model.parse_version("9.2") is None
    assert model.parse_version("9.x.1") is None
    text = (
        "resource p_drbd is running on: n1 Promoted\nresource p_drbd is running on: n2\n"
        "resource p_drbd is running on: n3 Master\n"
    )
    assert parse_locate(text) == ["n1", "n3"]
    assert parse_locate("resource p_drbd is NOT running\n") == []


# --- 2. the agent -------------------------------------------------------------------------


# The current test's DRBD module and clock (a fresh fake clock per action unless set).
DRBDS: list[FakeDrbd] = []
CLOCKS: list[FakeClock] = []


@pytest.fixture(autouse=True)
def module() -> Generator[FakeDrbd]:
    """The DRBD module of this test's node: not loaded unless a test loads it."""
    fake = FakeDrbd(None)
    DRBDS.append(fake)
    yield fake
    DRBDS.remove(fake)
    CLOCKS.clear()


@pytest.fixture
def proc_drbd(module: FakeDrbd) -> FakeDrbd:
    """The DRBD 8.4.11 module loaded."""
    module.version = (8, 4, 11)
    return module


@pytest.fixture
def no_wait() -> FakeClock:
    """Every pause spends the rest of the action's time (loops end at once)."""
    clock = FakeClock(step=lambda seconds: 10_000.0)
    use_clock(clock)
    return clock


def use_clock(clock: FakeClock) -> None:
    """This test's actions run on clock (until the test ends)."""
    CLOCKS.append(clock)


def env(tmp: Any, interval: int | None = None, meta: Any = None, **params: str) -> dict[str, str]:
    full_meta = {
        "clone_max": "2",
        "promoted_max": "1",
        "notify": "true",
        "on_node": "n1",
        **(meta or {}),
    }
    e = ocf_env(
        interval_ms=interval,
        meta=full_meta,
        instance="p_drbd:0",
        params={"drbd_resource": "r0", "drbdconf": "/etc/hostname", **params},
    )
    e["HA_RSCTMP"] = str(tmp)
    e["OCF_RESKEY_crm_feature_set"] = "3.16.2"
    return e


def run(action: str, fake: FakeRunner, e: dict[str, str]) -> Outcome:
    clock = CLOCKS[-1] if CLOCKS else FakeClock()
    return dispatch(AGENT, action, e, fake, clock=clock, drbd=DRBDS[-1])


def test_probe_without_the_module_is_not_running(fake: FakeRunner, tmp_path: Any) -> None:
    for _ in range(2):
        fake.expect(
            ["modinfo", "-F", "version", "drbd"],
            stderr="modinfo: ERROR: Module drbd not found.",
            returncode=1,
        )
    assert run("monitor", fake, env(tmp_path, interval=0)).rc == 7
    out = run("start", fake, env(tmp_path))
    assert (out.rc, out.reason) == (5, "DRBD kernel module not available")
    fake.expect([*ATTR, "-D"])
    assert run("stop", fake, env(tmp_path)).rc == 0  # nothing of DRBD runs here


def test_module_not_loaded_but_installed_monitor_says_stopped(
    fake: FakeRunner, tmp_path: Any
) -> None:
    fake.expect(["modinfo", "-F", "version", "drbd"], "8.4.11\n")
    fake.expect(EVENTS, DOWN)
    assert run("monitor", fake, env(tmp_path, interval=0)).rc == 7


@pytest.mark.parametrize(
    ("params", "meta", "rc", "reason"),
    [
        (
            {"drbd_resource": "r0;reboot"},
            {},
            6,
            "parameter drbd_resource='r0;reboot' contains forbidden characters ';'",
        ),
        (
            {"require_drbd_module_version_ge": "8.4"},
            {},
            6,
            "parameter require_drbd_module_version_ge='8.4' is not x.y.z",
        ),
        (
            {"require_drbd_module_version_ge": "9.0.0"},
            {},
            5,
            "DRBD module version 8.4.11 is not within [9.0.0, 10.0.0)",
        ),
        (
            {},
            {"notify": "false"},
            6,
            "the clone needs notify=true (or set ignore_missing_notifications=true)",
        ),
        ({}, {"clone_max": "3"}, 6, "clone-max must be at most 2 (is 3) with DRBD 8"),
        ({}, {"promoted_max": "3"}, 6, "promoted-max must be 1 or 2 (is 3)"),
        ({}, {"clone_node_max": "2"}, 6, "clone-node-max must be 1 (is 2)"),
        (
            {},
            {"promoted_node_max": "2", "promoted_max": None},
            6,
            "promoted-node-max must be 1 (is 2)",
        ),
        (
            {"drbdconf": "/nonexistent.conf"},
            {},
            5,
            "cannot read the DRBD configuration /nonexistent.conf",
        ),
        (
            {"drbd_resource": "-x"},
            {},
            6,
            "parameter drbd_resource='-x' must not begin with '-' (drbdadm would read it as an option)",
        ),
        (
            {"drbdconf": "-c"},
            {},
            6,
            "parameter drbdconf='-c' must not begin with '-' (drbdadm would read it as an option)",
        ),
    ],
)
def test_validation_rows(
    fake: FakeRunner,
    tmp_path: Any,
    proc_drbd: FakeDrbd,
    params: Any,
    meta: Any,
    rc: int,
    reason: str,
) -> None:
    e = env(tmp_path, meta={k: v for k, v in meta.items() if v is not None}, **params)
    if meta.get("promoted_max", "") is None:
        del e["OCF_RESKEY_CRM_meta_promoted_max"]
    out = run("start", fake, e)
    assert (out.rc, out.reason) == (rc, reason)
    if "notify" in meta:  # monitor does not need notifications: it looks
        fake.expect(EVENTS, DOWN)
    assert run("monitor", fake, {**e, "OCF_RESKEY_CRM_meta_interval": "0"}).rc == 7


def test_notify_not_needed_with_ignore_missing_notifications(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    e = env(tmp_path, meta={"notify": "false"}, ignore_missing_notifications="true")
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("demote", fake, e).rc == 0


def test_unknown_resource_is_5_but_7_for_a_probe(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, DOWN)
    assert run("monitor", fake, env(tmp_path, interval=0)).rc == 7
    fake.expect(EVENTS, DOWN)
    fake.expect(
        [*ADM, "sh-dev", "r0"],
        stderr="'r0' not defined in your config (for this host).\n",
        returncode=1,
    )
    fake.expect([*ATTR, "-D"])
    out = run("monitor", fake, env(tmp_path, interval=20000))
    assert out.rc == 5
    assert out.reason == (
        "DRBD resource r0 is not defined in /etc/hostname for this host "
        "('r0' not defined in your config (for this host).)"
    )


def test_monitor_codes_and_score_written_only_on_change(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    fake.expect(EVENTS, BOTH_SECONDARY)  # same score: no crm_attribute
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)  # peer gone: 1000
    fake.expect([*ATTR, "-v", "1000"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)  # a probe always writes
    fake.expect([*ATTR, "-v", "1000"])
    assert run("monitor", fake, env(tmp_path, interval=0)).rc == 0
    fake.expect(EVENTS, PRIMARY_SYNCED)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("monitor", fake, env(tmp_path, interval=10000)).rc == 8
    fake.expect(EVENTS, OUTDATED)
    fake.expect([*ATTR, "-D"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    fake.expect(EVENTS, ATTACHING)  # transitional: nothing written
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0


def test_score_cache_expires_and_failures_do_not_fail_monitor(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    clock = FakeClock()
    use_clock(clock)
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"], stderr="Could not connect to the CIB", returncode=102)
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    fake.expect(EVENTS, BOTH_SECONDARY)  # the failed write is retried
    fake.expect([*ATTR, "-v", "10000"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    clock.advance(drbd.SCORE_CACHE_S + 1)
    fake.expect(EVENTS, BOTH_SECONDARY)  # an old cache entry is written again
    fake.expect([*ATTR, "-v", "10000"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0


def test_failed_primary_is_9_with_a_reason(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, PRIMARY_DISKLESS_ALONE)
    fake.expect([*ATTR, "-D"])
    out = run("monitor", fake, env(tmp_path, interval=10000))
    assert out.rc == 9
    assert out.reason == (
        "r0 is Primary without access to good data: local disk Diskless "
        "and no connected peer with UpToDate data"
    )


def test_start_brings_up_waits_for_the_peer_and_scores(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect(EVENTS, DOWN)
    fake.expect([*ADM, "check-resize", "r0"])
    fake.expect([*ADM, "adjust", "r0"])
    fake.expect(EVENTS, SECONDARY_PEER_DOWN.replace("role:Secondary", "role:Secondary", 1))
    fake.expect(EVENTS, BOTH_SECONDARY)  # connected within wfc_timeout
    fake.expect([*ATTR, "-v", "10000"])
    assert run("start", fake, env(tmp_path)).rc == 0


def test_start_loads_the_module_with_its_parameters(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    proc_drbd.version = None

    def loaded() -> None:
        proc_drbd.version = (8, 4, 11)

    fake.expect(["modinfo", "-F", "version", "drbd"], "8.4.11\n")
    fake.expect([*ADM, "sh-mod-parms"], "minor_count=32\n")
    fake.expect(["modprobe", "-s", "drbd", "minor_count=32"], effect=loaded)
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("start", fake, env(tmp_path)).rc == 0


def test_start_without_waiting_and_connect_only_after_promote(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect(EVENTS, DOWN)
    fake.expect([*ADM, "check-resize", "r0"])
    fake.expect([*ADM, "new-resource", "r0"])  # 8.4 has no adjust --skip-net
    fake.expect([*ADM, "new-minor", "r0"])
    fake.expect([*ADM, "attach", "r0"])
    fake.expect(EVENTS, OUTDATED.replace("disk:Outdated", "disk:UpToDate"))
    fake.expect([*ATTR, "-v", "1000"])
    e = env(tmp_path, connect_only_after_promote="true")
    assert run("start", fake, e).rc == 0


def test_start_fails_after_two_attempts_with_drbdadm_words(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd, no_wait: None
) -> None:
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect(EVENTS, DOWN)
    fake.expect([*ADM, "check-resize", "r0"])
    fake.expect(
        [*ADM, "adjust", "r0"],
        stderr="0: Failure: (114) Lower device is already "
        "claimed. This usually means it is mounted.\n",
        returncode=10,
    )
    fake.expect(EVENTS, DOWN)
    out = run("start", fake, env(tmp_path))
    assert out.rc == 1
    assert out.reason == (
        "cannot bring up DRBD resource r0: drbdadm returned 10: 0: Failure: "
        "(114) Lower device is already claimed. This usually means it is "
        "mounted."
    )


def test_start_of_a_primary_demotes_it_first(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect(EVENTS, PRIMARY_SYNCED)
    fake.expect([*ADM, "secondary", "r0"])
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("start", fake, env(tmp_path, wfc_timeout="")).rc == 0


def test_two_primaries_need_allow_two_primaries(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect([*ADM, "dump", "r0"], "resource r0 {\n  net { protocol C; }\n}\n")
    out = run("start", fake, env(tmp_path, meta={"promoted_max": "2"}))
    assert out.rc == 6
    assert "allow-two-primaries" in out.reason


def test_stop_demotes_then_downs_and_deletes_the_score(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, PRIMARY_SYNCED)
    fake.expect([*ADM, "secondary", "r0"])
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ADM, "down", "r0"])
    fake.expect(EVENTS, DOWN)
    fake.expect([*ATTR, "-D"])
    assert run("stop", fake, env(tmp_path)).rc == 0


def test_stop_falls_back_to_drbdsetup_down(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ADM, "down", "r0"], stderr="drbd.conf: No such file\n", returncode=10)
    fake.expect(["drbdsetup", "down", "r0"])
    fake.expect(EVENTS, DOWN)
    fake.expect([*ATTR, "-D"])
    assert run("stop", fake, env(tmp_path)).rc == 0


def test_stop_never_fails_on_configuration_problems(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    e = env(
        tmp_path,
        meta={"clone_max": "5", "notify": "false"},
        require_drbd_module_version_ge="99.0.0",
    )
    fake.expect(EVENTS, DOWN)
    fake.expect([*ATTR, "-D"])
    assert run("stop", fake, e).rc == 0
    assert run("stop", fake, env(tmp_path, drbd_resource="bad name")).rc == 0


def test_stop_and_demote_name_what_holds_the_device(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd, no_wait: None
) -> None:
    proc_drbd.holders = ["mounted on /var/lib/mysql", "process 42 (mysqld)"]
    busy = (
        "0: State change failed: (-12) Device is held open by someone\n"
        "Command 'drbdsetup-84 secondary 0' terminated with exit code 11\n"
    )
    fake.expect(EVENTS, PRIMARY_SYNCED)
    fake.expect([*ADM, "secondary", "r0"], stderr=busy, returncode=11)
    out = run("demote", fake, env(tmp_path))
    assert out.rc == 1
    assert out.reason == (
        "cannot demote r0: device in use: mounted on /var/lib/mysql, process "
        "42 (mysqld); drbdadm secondary: Device is held open by someone "
        "(rc 11)"
    )
    fake.expect(EVENTS, PRIMARY_SYNCED)
    fake.expect([*ADM, "secondary", "r0"], stderr=busy, returncode=11)
    out = run("stop", fake, env(tmp_path))
    assert out.rc == 1
    assert out.reason.startswith("cannot stop DRBD resource r0: device in use: mounted on")


def test_demote_is_idempotent_and_refuses_a_stopped_resource(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("demote", fake, env(tmp_path)).rc == 0
    fake.expect(EVENTS, DOWN)
    out = run("demote", fake, env(tmp_path))
    assert (out.rc, out.reason) == (1, "cannot demote r0: it is not running here")


def test_promote(fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd) -> None:
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)  # score 1000 as Secondary, peer unknown
    fake.expect([*ADM, "primary", "r0"])
    fake.expect([*ATTR, "-v", "10000"])  # Primary: no second look needed
    assert run("promote", fake, env(tmp_path)).rc == 0
    fake.expect(EVENTS, PRIMARY_PEER_DOWN)  # already Primary: success, same score
    assert run("promote", fake, env(tmp_path)).rc == 0


def test_promote_refused_on_outdated_data_stops_at_once(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd, no_wait: None
) -> None:
    fake.expect(EVENTS, OUTDATED)
    fake.expect(
        [*ADM, "primary", "r0"],
        stderr="0: State change failed: (-2) Need access to "
        "UpToDate data\nCommand 'drbdsetup-84 primary 0' terminated with exit code 17\n",
        returncode=17,
    )
    out = run("promote", fake, env(tmp_path))
    assert (out.rc, out.reason) == (
        1,
        "cannot promote r0: no access to UpToDate data (local disk Outdated)",
    )


def test_promote_while_the_peer_is_primary_retries_then_says_so(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd, no_wait: None
) -> None:
    fake.expect(EVENTS, SECONDARY_SYNCED)
    fake.expect(
        [*ADM, "primary", "r0"],
        stderr="0: State change failed: (-1) Multiple primaries not allowed by config\n",
        returncode=11,
    )
    fake.expect(EVENTS, SECONDARY_SYNCED)
    out = run("promote", fake, env(tmp_path))
    assert (out.rc, out.reason) == (
        1,
        "cannot promote r0: the peer is Primary; drbdadm primary: "
        "Multiple primaries not allowed by config (rc 11)",
    )


def test_promote_fails_early_on_a_primary_unknown_to_pacemaker(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    use_clock(FakeClock(step=lambda seconds: 0.0))  # pauses take no time
    refused = "0: State change failed: (-1) Multiple primaries not allowed by config\n"
    fake.expect(EVENTS, SECONDARY_SYNCED)
    fake.expect([*ADM, "primary", "r0"], stderr=refused, returncode=11)
    fake.expect(EVENTS, SECONDARY_SYNCED)
    fake.expect([*ADM, "primary", "r0"], stderr=refused, returncode=11)
    fake.expect(EVENTS, SECONDARY_SYNCED)
    fake.expect(
        ["crm_resource", "--resource", "p_drbd", "--locate"],
        "resource p_drbd is running on: n1\nresource p_drbd is running on: n2\n",
    )
    out = run("promote", fake, env(tmp_path, fail_promote_early_if_peer_primary="true"))
    assert out.rc == 1
    assert out.reason.endswith("(unknown to Pacemaker; giving up early)")


def test_promote_of_a_stopped_resource(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, DOWN)
    out = run("promote", fake, env(tmp_path))
    assert (out.rc, out.reason) == (1, "cannot promote r0: it is not started here")


@pytest.mark.parametrize(
    ("mode", "locate", "score"),
    [
        ("true", None, None),
        ("unexpected", "", None),
        ("unexpected", "resource p_drbd is running on: n2 Promoted\n", 10000),
        ("false", None, 10000),
        ("bogus", None, 10000),
    ],
)
def test_remove_master_score_if_peer_primary(
    fake: FakeRunner,
    tmp_path: Any,
    proc_drbd: FakeDrbd,
    mode: str,
    locate: str | None,
    score: int | None,
) -> None:
    fake.expect(EVENTS, SECONDARY_SYNCED)
    if locate is not None:
        fake.expect(["crm_resource", "--resource", "p_drbd", "--locate"], locate)
    fake.expect([*ATTR, *(["-D"] if score is None else ["-v", str(score)])])
    e = env(tmp_path, interval=0, remove_master_score_if_peer_primary=mode)
    assert run("monitor", fake, e).rc == 0


def test_notify_reconnects_a_standalone_resource_for_a_starting_peer(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    meta = {"notify_type": "pre", "notify_operation": "start", "notify_start_uname": "n2"}
    fake.expect(EVENTS, STANDALONE_PRIMARY)
    fake.expect([*ADM, "adjust", "r0"])
    fake.expect(EVENTS, PRIMARY_PEER_DOWN)
    assert run("notify", fake, env(tmp_path, meta=meta)).rc == 0
    fake.expect(EVENTS, PRIMARY_PEER_DOWN)  # listening already: nothing to do
    assert run("notify", fake, env(tmp_path, meta=meta)).rc == 0


def test_post_notify_updates_the_score_and_never_fails(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    meta = {"notify_type": "post", "notify_operation": "promote"}
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)
    fake.expect([*ATTR, "-v", "1000"])
    assert run("notify", fake, env(tmp_path, meta=meta)).rc == 0
    fake.expect(EVENTS, stderr="drbdsetup: timed out", returncode=20)
    assert run("notify", fake, env(tmp_path, meta=meta)).rc == 0


def test_stop_outdates_a_secondary_when_a_primary_runs_elsewhere(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    meta = {"notify_master_uname": "n2 ", "notify_stop_uname": "n1"}
    fake.expect(EVENTS, SECONDARY_SYNCED)
    fake.expect([*ADM, "down", "r0"])
    fake.expect(EVENTS, DOWN)
    fake.expect([*ADM, "outdate", "r0"])
    fake.expect([*ATTR, "-D"])
    fake.expect([*ATTR, "-D"])
    assert run("stop", fake, env(tmp_path, meta=meta, stop_outdates_secondary="true")).rc == 0


def test_unfence_when_everything_is_up_to_date(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, PRIMARY_SYNCED)
    fake.expect([*ATTR, "-v", "10000"])
    fake.expect(
        [*ADM, "unfence-peer", "r0"],
        env={
            "OCF_RESKEY_unfence_extra_args": "--quiet --flock-required --flock-timeout 0 "
            "--unfence-only-if-owner-match"
        },
        timeout=30,
    )  # the handler reads its extra arguments from the environment, as crm-fence-peer does
    assert (
        run("monitor", fake, env(tmp_path, interval=10000, unfence_if_all_uptodate="yes")).rc == 8
    )


def test_reload_and_status(fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd) -> None:
    fake.expect(EVENTS, DOWN)
    assert run("reload", fake, env(tmp_path)).rc == 7
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ADM, "adjust", "r0"])
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("reload", fake, env(tmp_path)).rc == 0
    fake.expect(EVENTS, PRIMARY_SYNCED)
    assert run("status", fake, env(tmp_path)).rc == 8


def test_invalid_adjust_master_score_uses_the_default(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)
    fake.expect([*ATTR, "-v", "1000"])
    out = run("monitor", fake, env(tmp_path, interval=0, adjust_master_score="5 4 3"))
    assert out.rc == 0
    assert any("adjust_master_score='5 4 3' needs four numbers" in m for _, m in out.records)
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)
    fake.expect([*ATTR, "-v", "7"])
    assert run("monitor", fake, env(tmp_path, interval=0, adjust_master_score="1 5 7 9")).rc == 0


def test_score_cache_is_never_a_followed_symlink(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    victim = os.path.join(str(tmp_path), "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    os.symlink(victim, os.path.join(str(tmp_path), "drbd-py.p_drbd:0.n1.score"))
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    with open(victim) as f:
        assert f.read() == "precious\n"


@pytest.fixture
def proc_drbd9(proc_drbd: FakeDrbd) -> FakeDrbd:
    proc_drbd.version = (9, 2, 5)
    return proc_drbd


def test_drbd9_allows_more_instances_and_starts_without_network(
    fake: FakeRunner, tmp_path: Any, proc_drbd9: FakeDrbd
) -> None:
    e = env(tmp_path, meta={"clone_max": "3"}, connect_only_after_promote="true")
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect(EVENTS, DOWN)
    fake.expect([*ADM, "check-resize", "r0"])
    fake.expect([*ADM, "adjust", "--skip-net", "r0"])
    fake.expect(EVENTS, V9_THREE.replace("role:Primary", "role:Secondary"))
    fake.expect([*ATTR, "-v", "10000"])
    assert run("start", fake, e).rc == 0
    out = run("start", fake, env(tmp_path, meta={"clone_max": "3", "promoted_max": "2"}))
    assert (out.rc, out.reason) == (6, "clone-max must be at most 2 (is 3) with promoted-max=2")


def test_drbd9_primary_without_quorum_is_a_failed_primary(
    fake: FakeRunner, tmp_path: Any, proc_drbd9: FakeDrbd
) -> None:
    fake.expect(EVENTS, V9_NO_QUORUM.replace("role:Secondary", "role:Primary", 1))
    fake.expect([*ATTR, "-D"])
    out = run("monitor", fake, env(tmp_path, interval=10000))
    assert (out.rc, out.reason) == (9, "r0 is Primary without access to good data: quorum lost")


def test_promoted_names_are_read_under_both_names(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    # Pacemaker >= 2.1 sends notify_promoted_* beside the deprecated notify_master_*.
    meta = {"notify_promoted_uname": "n2", "notify_stop_uname": "n1"}
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ADM, "down", "r0"])
    fake.expect(EVENTS, DOWN)
    fake.expect([*ADM, "outdate", "r0"])
    fake.expect([*ATTR, "-D"])
    fake.expect([*ATTR, "-D"])
    assert run("stop", fake, env(tmp_path, meta=meta, stop_outdates_secondary="true")).rc == 0


@pytest.mark.parametrize("key", ["pre-promote", "pre-demote", "pre-stop"])
def test_pre_notifications_other_than_start_run_nothing(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd, key: str
) -> None:
    kind, operation = key.split("-")
    meta = {"notify_type": kind, "notify_operation": operation}
    out = run("notify", fake, env(tmp_path, meta=meta))
    assert out.rc == 0 and not out.reasons  # notify reports 0 even on errors: look closer
    assert fake.done == []


def test_post_notifications_defer_lowering_but_never_deleting(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    post = {"notify_type": "post", "notify_operation": "demote"}
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect([*ATTR, "-v", "10000"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)  # the peer left: 1000 is due, but not now
    out = run("notify", fake, env(tmp_path, meta=post))
    assert out.rc == 0 and not out.reasons
    fake.expect(EVENTS, SECONDARY_PEER_DOWN)  # the next monitor lowers it
    fake.expect([*ATTR, "-v", "1000"])
    assert run("monitor", fake, env(tmp_path, interval=20000)).rc == 0
    fake.expect(EVENTS, PRIMARY_PEER_DOWN)  # raising is immediate
    fake.expect([*ATTR, "-v", "10000"])
    assert run("notify", fake, env(tmp_path, meta={**post, "notify_operation": "promote"})).rc == 0
    fake.expect(EVENTS, OUTDATED)  # untrustworthy data: deleted at once
    fake.expect([*ATTR, "-D"])
    out = run("notify", fake, env(tmp_path, meta=post))
    assert out.rc == 0 and not out.reasons


def test_start_gives_up_on_a_primary_that_stays_primary(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    # drbdadm secondary "succeeds" but the role never changes: start must end, not spin.
    # The clock jumps past the deadline at the first pause: start looks again only after one.
    clock = FakeClock(step=lambda seconds: 1e6)
    use_clock(clock)
    fake.expect([*ADM, "sh-dev", "r0"], "/dev/drbd0\n")
    fake.expect(EVENTS, PRIMARY_SYNCED)
    fake.expect([*ADM, "secondary", "r0"])
    out = run("start", fake, env(tmp_path, wfc_timeout=""))
    assert out.rc == 1
    assert out.reason == "r0 is still Primary after drbdadm secondary"
    assert clock.pauses == [0.2]


def test_stop_near_its_deadline_reports_the_holders_not_a_timeout(
    fake: FakeRunner, tmp_path: Any, proc_drbd: FakeDrbd
) -> None:
    # Found on real DRBD: a pause that left a sliver of time let the next look time out,
    # and the exit reason became "timed out after 0.0s" instead of what holds the device.
    clock = FakeClock()
    budget_end = clock.now + 18.0  # 20 s timeout, 2 s margin
    clock.step = lambda seconds: budget_end - 0.5 - clock.now  # the pause leaves 0.5 s
    use_clock(clock)
    proc_drbd.holders = ["mounted on /mnt/d"]
    fake.expect(EVENTS, BOTH_SECONDARY)
    fake.expect(
        [*ADM, "down", "r0"],
        stderr="0: State change failed: (-12) Device is held open by someone\n",
        returncode=11,
    )
    fake.expect(
        ["drbdsetup", "down", "r0"],
        stderr="0: State change failed: (-12) Device is held open by someone\n",
        returncode=11,
    )
    out = run("stop", fake, env(tmp_path))
    assert (out.rc, out.reason) == (
        1,
        "cannot stop DRBD resource r0: device in use: mounted "
        "on /mnt/d; drbdsetup down: Device is held open by "
        "someone (rc 11)",
    )
