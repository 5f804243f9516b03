"""The lab reads failover times from the survivor's logs (on the host, so that
measuring costs the node nothing): offsets from the kill, earlier failovers'
lines ignored, and a clear error when the line never comes."""

from __future__ import annotations

import os
import time
import xml.etree.ElementTree as ET

import pytest

from lab.ops import CLUSTER_TIMELINE, ClusterOps, LabError


class FakeLogs(ClusterOps):
    def __init__(self, directory: str) -> None:
        self.dir = directory

    def _log_path(self, name: str, which: str) -> str:
        return os.path.join(self.dir, f"{name}.{which}.log")

    def write(self, name: str, which: str, lines: list[tuple[float, str]]) -> None:
        with open(self._log_path(name, which), "a") as f:
            for when, text in lines:
                stamp = time.strftime("%b %d %H:%M:%S", time.localtime(when))
                f.write(f"{stamp}.{int(when % 1 * 1000):03d} {name} {text}\n")


MYSQL_OK = "pacemaker-controld  [9] (log_executor_event) \tnotice: Result of start operation for "
FENCED = (
    "pacemaker-fenced    [8] (finalize_op) \tnotice: Operation 'reboot' targeting n1 by n2 "
    "for pacemaker-controld.9@n2: OK (complete)"
)


def test_offsets_count_from_the_kill_and_skip_earlier_failovers(tmp_path: object) -> None:
    lab = FakeLogs(str(tmp_path))
    kill = time.time() - 30
    lab.write(
        "n2",
        "pacemaker",
        [
            (kill - 100, FENCED),  # an earlier failover's lines
            (kill - 90, MYSQL_OK + "p_mysql on n2: ok | rc=0"),
            (kill + 8.25, FENCED),
            (kill + 12.5, MYSQL_OK + "p_fs on n2: ok | rc=0"),
            (kill + 19.75, MYSQL_OK + "p_mysql on n2: ok | rc=0"),
        ],
    )
    started = lab.wait_logged(
        "n2", r"Result of start operation for p_mysql on {alive}: ok", kill, timeout=1
    )
    assert started == pytest.approx(19.75, abs=0.01)
    ((label, fenced),) = lab.timeline("n2", CLUSTER_TIMELINE[-1:], kill, dead="n1")
    assert label == "fenced (powered off)"
    assert fenced == pytest.approx(8.25, abs=0.01)
    # Another node's fencing is not this one's.
    assert lab.timeline("n2", CLUSTER_TIMELINE[-1:], kill, dead="n3")[0][1] is None


def test_waiting_for_a_line_that_never_comes_names_the_logs(tmp_path: object) -> None:
    lab = FakeLogs(str(tmp_path))
    lab.write("n2", "pacemaker", [(time.time() - 100, MYSQL_OK + "p_mysql on n2: ok")])
    with pytest.raises(LabError, match=f"logs in {tmp_path}"):
        lab.wait_logged(
            "n2",
            r"Result of start operation for p_mysql on {alive}: ok",
            time.time() - 10,
            timeout=0.3,
            poll=0.05,
        )


class FakeStatus(ClusterOps):
    def __init__(self, xml: str) -> None:
        self.dir = "/nonexistent"
        self.xml = xml

    def status(self, name: str | None = None) -> ET.Element | None:
        return ET.fromstring(self.xml)


def test_unhealthy_names_failed_actions_and_resources_not_running() -> None:
    """The soak's check after each rejoin: every resource running, no failed action."""
    healthy = (
        '<crm_mon><resources><resource id="p_ip" role="Started" active="true" '
        'failed="false"/></resources></crm_mon>'
    )
    assert FakeStatus(healthy).unhealthy() == []
    sick = (
        "<crm_mon><resources>"
        '<resource id="p_ip" role="Started" active="true" failed="false"/>'
        '<resource id="p_fs" role="Stopped" active="false" failed="false"/>'
        '<resource id="p_db" role="Starting" active="true" pending="Starting"/>'
        '</resources><failures><failure op_key="p_db_start_0" node="n1" '
        'exitreason="boom"/></failures></crm_mon>'
    )
    assert FakeStatus(sick).unhealthy() == [
        "failed p_db_start_0 on n1: boom",
        "p_fs Stopped (not running)",
        "p_db: Starting pending",
    ]
