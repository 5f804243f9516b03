"""ocflib.pacemaker: the one place that knows Pacemaker 2.0, 2.1 and 3.0 apart.

The feature sets and variable sets are the ones the real versions report (Debian 11's
2.0.5, Debian 12's 2.1.5, Debian 13's 3.0.0; docs/design.md, "Pacemaker versions")."""

from __future__ import annotations

import pytest

from ocflib import cluster, pacemaker
from ocflib.env import NotifyInfo, OcfEnv
from tests.fakes import FakeRunner

FEATURE_SETS = {"2.0.5": "3.6.1", "2.1.5": "3.16.1", "3.0.0": "3.20.0"}


def test_version_tuple() -> None:
    assert pacemaker.version_tuple("3.10.0") == (3, 10, 0)
    assert pacemaker.version_tuple("3.9") < (3, 10, 0)
    assert pacemaker.version_tuple("x.1") == (0, 1)
    assert pacemaker.version_tuple("3.20.0") > pacemaker.version_tuple("3.16.1")


@pytest.mark.parametrize(
    ("version", "tool"),
    [("2.0.5", "crm_master"), ("2.1.5", "crm_attribute"), ("3.0.0", "crm_attribute")],
)
def test_promotion_tool_of_each_version(version: str, tool: str) -> None:
    asked = []

    def present() -> bool:
        asked.append(True)
        return True

    command = pacemaker.promotion_command(FEATURE_SETS[version], present)
    assert command[0] == tool
    assert bool(asked) == (version == "2.0.5")  # crm_master is looked for only on 2.0
    fake = FakeRunner(installed={"crm_master", "crm_attribute"})
    env = OcfEnv("monitor", {"OCF_RESKEY_crm_feature_set": FEATURE_SETS[version]})
    assert cluster.promotion_uses_crm_attribute(env, fake) == (tool == "crm_attribute")


def test_without_crm_master_an_old_feature_set_still_gets_crm_attribute() -> None:
    assert pacemaker.promotion_command("3.6.1", lambda: False)[:2] == [
        "crm_attribute",
        "--promotion",
    ]


def test_meta_names_current_first() -> None:
    assert pacemaker.meta_names("promoted_max") == ("promoted_max", "master_max")
    assert pacemaker.meta_names("promoted_node_max") == ("promoted_node_max", "master_node_max")
    assert pacemaker.meta_names("notify_unpromoted_uname") == (
        "notify_unpromoted_uname",
        "notify_slave_uname",
    )
    assert pacemaker.meta_names("notify_promoted_resource") == (
        "notify_promoted_resource",
        "notify_master_resource",
    )
    assert pacemaker.meta_names("notify_promote_uname") == ("notify_promote_uname",)
    assert pacemaker.meta_names("clone_max") == ("clone_max",)


def _notify(version: str) -> dict[str, str]:
    """A post-promote notification as each version passes it (measured with
    ocf:pacemaker:Stateful's envfile): 2.1 and 3.0 pass both notify names, 2.0 only the
    old ones; all three pass both master_max and promoted_max."""
    old = {
        "notify_type": "post",
        "notify_operation": "promote",
        "notify_master_uname": "node1 ",
        "notify_slave_uname": "node2",
        "master_max": "1",
        "promoted_max": "1",
    }
    if version == "2.0.5":
        return old
    return {**old, "notify_promoted_uname": "node1 ", "notify_unpromoted_uname": "node2"}


@pytest.mark.parametrize("version", sorted(FEATURE_SETS))
def test_notify_and_clone_meta_read_alike_on_every_version(version: str) -> None:
    meta = _notify(version)
    info = NotifyInfo(meta)
    assert info.unames("promoted") == ("node1",)
    assert info.unames("unpromoted") == ("node2",)
    env = OcfEnv("notify", {f"OCF_RESKEY_CRM_meta_{k}": v for k, v in meta.items()})
    assert env.promoted_max == 1
    assert env.is_promotable


def test_the_current_name_wins_when_both_are_set() -> None:
    info = NotifyInfo({"notify_promoted_uname": "a", "notify_master_uname": "b"})
    assert info.unames("promoted") == ("a",)
    env = OcfEnv(
        "monitor", {"OCF_RESKEY_CRM_meta_promoted_max": "2", "OCF_RESKEY_CRM_meta_master_max": "1"}
    )
    assert env.promoted_max == 2
    assert OcfEnv("monitor", {"OCF_RESKEY_CRM_meta_master_max": "1"}).promoted_max == 1


@pytest.mark.parametrize("word", ["Promoted", "Master"])
def test_promoted_as_each_version_prints_it(word: str) -> None:
    assert pacemaker.is_promoted(word)
    assert pacemaker.parse_locate(f"resource ms is running on: node1 {word}\n") == ["node1"]


@pytest.mark.parametrize("word", ["Unpromoted", "Slave", "Started", "", None])
def test_not_promoted(word: str | None) -> None:
    assert not pacemaker.is_promoted(word)
