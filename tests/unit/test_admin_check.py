"""pyha check on CIBs: the two correct stacks (written by the real crmsh from the
configurations the lab runs: tests/unit/data) give nothing; each planted
misconfiguration gives exactly its finding, with a fix."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Callable

import pytest

from ocflib.admin.check import (
    ERROR,
    WARNING,
    CheckInput,
    Finding,
    agents_with_operations,
    check_cib,
)

DATA = os.path.join(os.path.dirname(__file__), "data")


def cib(name: str) -> ET.Element:
    return ET.parse(os.path.join(DATA, f"cib-{name}.xml")).getroot()


def text(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def find(root: ET.Element, path: str) -> ET.Element:
    element = root.find(path)
    assert element is not None, path
    return element


def clone_element(root: ET.Element, rid: str) -> ET.Element:
    """A clone by its id: a <clone>, or the <master> crmsh's `ms` writes on Pacemaker
    2.x (the live CIBs of the labs)."""
    found = [e for e in root.iter() if e.tag in ("clone", "master") and e.get("id") == rid]
    assert len(found) == 1, rid
    return found[0]


def set_meta(root: ET.Element, clone: str, name: str, value: str | None) -> None:
    attrs = find(clone_element(root, clone), "meta_attributes")
    for pair in attrs.findall("nvpair"):
        if pair.get("name") == name:
            attrs.remove(pair)
    if value is not None:
        ET.SubElement(attrs, "nvpair", id=f"{clone}-{name}", name=name, value=value)


def set_property(root: ET.Element, name: str, value: str) -> None:
    props = find(root, ".//crm_config/cluster_property_set")
    for pair in props.findall("nvpair"):
        if pair.get("name") == name:
            pair.set("value", value)
            return
    ET.SubElement(props, "nvpair", id=f"opt-{name}", name=name, value=value)


def remove(root: ET.Element, parent: str, child: str) -> None:
    p = find(root, parent)
    p.remove(find(p, child))


@pytest.mark.parametrize("name", ["active-passive", "galera"])
def test_the_labs_correct_stacks_give_nothing(name: str) -> None:
    assert check_cib(text(cib(name)), CheckInput(two_node=True)) == []


def no_fencing(r: ET.Element) -> None:
    set_property(r, "stonith-enabled", "false")


def no_fence_device(r: ET.Element) -> None:
    resources = find(r, ".//resources")
    for p in resources.findall("primitive"):
        if p.get("class") == "stonith":
            resources.remove(p)


def drbd_without_notify(r: ET.Element) -> None:
    set_meta(r, "ms_drbd", "notify", None)


def drbd_outside_a_clone(r: ET.Element) -> None:
    resources = find(r, ".//resources")
    clone = clone_element(resources, "ms_drbd")
    resources.append(find(clone, "primitive"))
    resources.remove(clone)
    constraints = find(r, ".//constraints")
    for c in list(constraints):
        constraints.remove(c)
    ET.SubElement(constraints, "rsc_colocation", id="c", rsc="g_mysql", score="INFINITY")


def fs_not_colocated(r: ET.Element) -> None:
    remove(r, ".//constraints", "rsc_colocation")


def fs_colocated_with_any_role(r: ET.Element) -> None:
    del find(r, ".//rsc_colocation").attrib["with-rsc-role"]


def fs_not_ordered(r: ET.Element) -> None:
    remove(r, ".//constraints", "rsc_order")


def fs_ordered_after_start_not_promote(r: ET.Element) -> None:
    find(r, ".//rsc_order").set("first-action", "start")


def mysql_before_its_file_system(r: ET.Element) -> None:
    group = find(r, ".//group[@id='g_mysql']")
    fs = find(group, "primitive[@id='p_fs']")
    group.remove(fs)
    group.append(fs)


def monitors_with_one_interval(r: ET.Element) -> None:
    for op in find(r, ".//primitive[@id='p_drbd']/operations").findall("op"):
        op.set("interval", "30s")


def galera_promotes_one(r: ET.Element) -> None:
    set_meta(r, "ms_galera", "promoted-max", "1")


def galera_not_promotable(r: ET.Element) -> None:
    set_meta(r, "ms_galera", "promotable", None)


def quorum_ignored_by_three(r: ET.Element) -> None:
    set_property(r, "no-quorum-policy", "ignore")


PLANTED: list[tuple[str, Callable[[ET.Element], None], str, str, str]] = [
    # (stack, mutation, severity, where, words of the finding)
    ("active-passive", no_fencing, ERROR, "cluster", "fencing is disabled"),
    ("galera", no_fence_device, ERROR, "cluster", "no fence device"),
    ("active-passive", drbd_without_notify, ERROR, "ms_drbd", "no notifications"),
    ("active-passive", drbd_outside_a_clone, ERROR, "p_drbd", "outside a promotable clone"),
    ("active-passive", fs_not_colocated, ERROR, "p_fs", "not tied to the node where DRBD"),
    ("active-passive", fs_colocated_with_any_role, ERROR, "p_fs", "not tied to the node"),
    ("active-passive", fs_not_ordered, ERROR, "p_fs", "not ordered after DRBD's promotion"),
    ("active-passive", fs_ordered_after_start_not_promote, ERROR, "p_fs", "not ordered after"),
    (
        "active-passive",
        mysql_before_its_file_system,
        ERROR,
        "g_mysql",
        "p_mysql starts before p_fs",
    ),
    ("active-passive", monitors_with_one_interval, ERROR, "p_drbd", "two monitors"),
    ("galera", galera_promotes_one, ERROR, "ms_galera", "promoted-max is 1 but"),
    ("galera", galera_not_promotable, ERROR, "p_galera", "outside a promotable clone"),
    ("galera", quorum_ignored_by_three, ERROR, "cluster", "no-quorum-policy=ignore"),
]


@pytest.mark.parametrize(
    ("stack", "plant", "severity", "where", "words"),
    PLANTED,
    ids=[p[1].__name__ for p in PLANTED],
)
def test_each_planted_misconfiguration_is_found_with_its_fix(
    stack: str, plant: Callable[[ET.Element], None], severity: str, where: str, words: str
) -> None:
    root = cib(stack)
    plant(root)
    found = check_cib(text(root), CheckInput(two_node=True))
    assert [(f.severity, f.where) for f in found] == [(severity, where)], found
    assert words in found[0].what and found[0].fix, found[0]


def test_two_nodes_without_two_node_is_a_warning_and_unknown_says_nothing() -> None:
    xml = text(cib("active-passive"))
    (found,) = check_cib(xml, CheckInput(two_node=False))
    assert (found.severity, found.where) == (WARNING, "cluster")
    assert "two_node: 1" in found.fix
    assert check_cib(xml, CheckInput(two_node=None)) == []


def test_an_operation_timeout_below_the_agents_minimum_is_a_warning() -> None:
    def timeouts(agent: str, action: str, role: str | None) -> float | None:
        return 60.0 if (agent, action) == ("ocf:pyha:galera-py", "monitor") else None

    found = check_cib(text(cib("galera")), CheckInput(two_node=True, timeouts=timeouts))
    assert {(f.severity, f.where) for f in found} == {(WARNING, "p_galera")}
    assert all("below the 60 s" in f.what for f in found), found


def test_the_agents_asked_for_timeouts_are_those_with_operations() -> None:
    """What pyha check asks for meta-data before checking (side by side): every agent
    check_cib will ask, each once, and nothing for a CIB it cannot read."""
    asked: list[str] = []

    def timeouts(agent: str, action: str, role: str | None) -> float | None:
        asked.append(agent)
        return None

    for name in ("active-passive", "galera"):
        xml = text(cib(name))
        asked.clear()
        check_cib(xml, CheckInput(two_node=True, timeouts=timeouts))
        assert asked and agents_with_operations(xml) == list(dict.fromkeys(asked))
    assert agents_with_operations("not xml") == agents_with_operations("<nope/>") == []


def test_a_legacy_master_element_counts_as_a_promotable_clone() -> None:
    root = cib("galera")
    clone = find(root, ".//clone[@id='ms_galera']")
    clone.tag = "master"
    set_meta_legacy = find(clone, "meta_attributes")
    for pair in list(set_meta_legacy):
        set_meta_legacy.remove(pair)
    ET.SubElement(set_meta_legacy, "nvpair", id="mm", name="master-max", value="3")
    assert check_cib(text(root), CheckInput(two_node=True)) == []


def test_what_is_not_a_cib_is_one_finding() -> None:
    assert [f.severity for f in check_cib("<nope/>")] == [ERROR]
    assert isinstance(check_cib("not xml")[0], Finding)


def test_a_cluster_with_no_nodes_gets_one_plain_sentence() -> None:
    from ocflib.admin.cli import membership

    empty = '<cib have-quorum="0"><configuration><nodes/></configuration><status/></cib>'
    (found,) = membership(empty)
    assert found.severity == ERROR and "the cluster has no nodes" in found.what


def test_offline_nodes_and_no_quorum_are_reported() -> None:
    from ocflib.admin.cli import membership

    live = (
        '<cib have-quorum="0"><configuration><nodes><node id="1" uname="a"/>'
        '<node id="2" uname="b"/></nodes></configuration><status>'
        '<node_state uname="a" in_ccm="1796" crmd="online"/>'
        '<node_state uname="b" in_ccm="false" crmd="offline"/></status></cib>'
    )
    found = membership(live)
    assert [(f.severity, f.where) for f in found] == [(WARNING, "b"), (ERROR, "cluster")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quorum {\n provider: corosync_votequorum\n two_node: 1\n}\n", True),
        ("quorum {\n provider: corosync_votequorum\n}\n", False),
    ],
)
def test_two_node_is_read_from_corosync_conf(tmp_path: object, text: str, expected: bool) -> None:
    from ocflib.admin.cli import two_node

    path = os.path.join(str(tmp_path), "corosync.conf")
    with open(path, "w") as f:
        f.write(text)
    assert two_node(path) is expected
    assert two_node(path + ".missing") is None


def test_the_command_line_checks_a_cib_file(
    capsys: pytest.CaptureFixture[str], tmp_path: object
) -> None:
    from ocflib.admin.cli import main

    assert main(["check", "--cib", os.path.join(DATA, "cib-galera.xml")]) == 0
    assert "nothing found" in capsys.readouterr().out
    root = cib("galera")
    galera_promotes_one(root)
    bad = os.path.join(str(tmp_path), "cib.xml")
    with open(bad, "w") as f:
        f.write(text(root))
    assert main(["check", "--cib", bad, "--json"]) == 1
    assert '"where": "ms_galera"' in capsys.readouterr().out
    assert main(["check", "--cib", "/nonexistent/cib.xml"]) == 2
    assert main(["bogus"]) == 2


COROSYNC_31 = """Local node ID 1, transport knet
LINK ID 0 udp
\taddr\t= 192.0.2.11
\tstatus:
\t\tnodeid:          1:\tlocalhost
\t\tnodeid:          2:\tconnected
\t\tnodeid:          3:\t{third}
"""
COROSYNC_30 = """Printing link status.
Local node ID 1
LINK ID 0
\taddr\t= 192.0.2.11
\tstatus:
\t\tnodeid  1:\tlink enabled:1\tlink connected:1
\t\tnodeid  2:\tlink enabled:1\tlink connected:{second}
"""


def test_corosync_links_that_are_down_are_reported_in_both_formats() -> None:
    from ocflib.admin.cli import rings

    assert rings(COROSYNC_31.format(third="connected")) == []
    (down,) = rings(COROSYNC_31.format(third="disconnected"))
    assert (down.severity, down.where) == (WARNING, "corosync")
    assert down.what == "link 0 to node id 3 is down (disconnected)" and down.fix
    assert rings(COROSYNC_30.format(second="1")) == []
    (down,) = rings(COROSYNC_30.format(second="0"))
    assert "node id 2 is down" in down.what
    assert rings(None) == [] and rings("") == []
