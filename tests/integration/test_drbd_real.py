"""drbd-py on REAL DRBD: two User-Mode-Linux guests with drbd.ko 8.4.11 (lab.uml),
the agent installed in them, scores read back with crm_attribute from a CIB file in
each guest. Every test starts from fresh DRBD meta data on both disks, resource down."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from lab.uml import Result, UmlLab, drbd_resource
from tests.conftest import need, need_uml

AGENT = "/usr/lib/ocf/resource.d/pyha/drbd-py"
GUESTS = ("uml1", "uml2")
CIB = "/tmp/cib.xml"
T = TypeVar("T")


def seed_cib() -> str:
    """A CIB with both guests as nodes (made on the host: cibadmin is slow in a guest)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "cib.xml")
        env = {**os.environ, "CIB_file": path}
        with open(path, "w") as f:
            subprocess.run(["cibadmin", "--empty"], stdout=f, check=True)
        for i, name in enumerate(GUESTS, 1):
            subprocess.run(
                ["cibadmin", "--create", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'],
                env=env,
                check=True,
            )
            subprocess.run(
                [
                    "cibadmin",
                    "--create",
                    "-o",
                    "status",
                    "-X",
                    f'<node_state id="{i}" uname="{name}" in_ccm="true" crmd="online" '
                    'join="member" expected="member"/>',
                ],
                env=env,
                check=True,
            )
        with open(path) as f:
            return f.read()


class Pair:
    """Two guests sharing DRBD resource r0, and drbd-py run in them."""

    def __init__(self, lab: UmlLab) -> None:
        self.lab = lab

    def agent(
        self,
        guest: str,
        action: str,
        *,
        timeout_ms: int = 20000,
        interval_ms: int | None = None,
        meta: dict[str, str] | None = None,
        **params: str,
    ) -> Result:
        env = {
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "p_drbd:0",
            "OCF_RESKEY_drbd_resource": "r0",
            "OCF_RESKEY_crm_feature_set": "3.16.2",
            "CIB_file": CIB,
            "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
        }
        base = {
            "on_node": guest,
            "notify": "true",
            "clone_max": "2",
            "promoted_max": "1",
            "clone_node_max": "1",
            "promoted_node_max": "1",
        }
        if interval_ms is not None:
            base["interval"] = str(interval_ms)
        for key, value in {**base, **(meta or {})}.items():
            env[f"OCF_RESKEY_CRM_meta_{key}"] = value
        for key, value in params.items():
            env[f"OCF_RESKEY_{key}"] = value
        return self.lab.run(guest, [AGENT, action], env=env, timeout=timeout_ms / 1000 + 30)

    def rc(self, guest: str, action: str, **kw: object) -> int:
        return self.agent(guest, action, **kw).rc  # type: ignore[arg-type]

    def monitor(self, guest: str, *, probe: bool = False) -> int:
        return self.rc(guest, "monitor", interval_ms=0 if probe else 20000)

    def sh(self, guest: str, *argv: str, check: bool = True) -> Result:
        return self.lab.run(guest, list(argv), check=check)

    def score(self, guest: str) -> str | None:
        result = self.lab.run(
            guest,
            ["crm_attribute", "-N", guest, "-l", "reboot", "-n", "master-p_drbd:0", "-G", "-q"],
            env={"CIB_file": CIB},
        )
        return result.stdout.strip() if result.rc == 0 else None

    def events(self, guest: str) -> str:
        return self.sh(guest, "drbdsetup", "events2", "--now", "r0").stdout

    def both(self, fn: Callable[[str], T]) -> list[T]:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(fn, GUESTS))

    def reset(self) -> None:
        """Both down, fresh meta data (Inconsistent), fresh CIB, no cached scores."""

        def one(guest: str) -> None:
            self.sh(
                guest,
                "sh",
                "-c",
                "rm -f /run/resource-agents/drbd-py.* && "
                f"cp /etc/pyha-test/cib.xml {CIB} && drbdadm create-md --force r0",
            )

        # One after the other: DRBD 8.4 in UML once hung for good (and the guest
        # died) when both sides went down at the same moment, one of them Primary.
        for guest in reversed(GUESTS):
            # A failed test may leave the device mounted: that must not fail the next one.
            self.sh(guest, "sh", "-c", "umount -q /dev/drbd0; drbdadm down r0", check=False)
        self.both(one)

    def start_synced(self) -> None:
        """Both started by the agent, the initial sync skipped: UpToDate/UpToDate."""
        assert self.both(lambda g: self.rc(g, "start")) == [0, 0]
        # start waits for the peer only so long; new-current-uuid needs the link up
        # (else "Need to be StandAlone": seen once in CI).
        self.wait_for("uml1", "connection:Connected")
        self.sh("uml1", "drbdadm", "--", "--clear-bitmap", "new-current-uuid", "r0")
        self.wait_for("uml2", "peer-disk:UpToDate")
        self.wait_for("uml1", "peer-disk:UpToDate")

    def wait_for(self, guest: str, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            events = self.events(guest)
            if text in events:
                return events
            time.sleep(0.2)
        raise AssertionError(f"{guest}: no {text!r} after {timeout}s:\n{self.events(guest)}")


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
