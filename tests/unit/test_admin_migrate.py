"""pyha migrate's plan and its steps on the lab's CIBs (tests/unit/data), with a fake
set of Pacemaker tools: the switch holds, switches, probes, simulates and lets go in that
order; a probe that disagrees puts the saved configuration back."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import pytest

from ocflib.admin import migrate as M
from ocflib.admin.differences import Difference as D

DATA = os.path.join(os.path.dirname(__file__), "data")


def reference_cib() -> str:
    """The Active/Passive stack on the reference agents."""
    with open(os.path.join(DATA, "cib-active-passive.xml")) as f:
        text = f.read()
    for ref, ours in M.PAIRS.items():
        cls, provider, kind = ours.split(":")
        rcls, rprovider, rkind = ref.split(":")
        text = text.replace(
            f'class="{cls}" provider="{provider}" type="{kind}"',
            f'class="{rcls}" provider="{rprovider}" type="{rkind}"',
        )
    return text


def test_the_plan_lists_each_reference_primitive_with_its_pyha_agent() -> None:
    steps = M.plan(reference_cib(), "pyha").steps
    assert sorted((s.primitive, s.top, s.source, s.target) for s in steps) == [
        ("p_drbd", "ms_drbd", "ocf:linbit:drbd", "ocf:pyha:drbd-py"),
        ("p_fs", "g_mysql", "ocf:heartbeat:Filesystem", "ocf:pyha:Filesystem-py"),
        ("p_ip", "g_mysql", "ocf:heartbeat:IPaddr2", "ocf:pyha:IPaddr2-py"),
        ("p_mysql", "g_mysql", "ocf:heartbeat:mysql", "ocf:pyha:mysql-py"),
    ]
    ip = next(s for s in steps if s.primitive == "p_ip")
    assert ip.params == {"ip": "192.0.2.100", "cidr_netmask": "24"}
    assert ip.env == {}
    # a clone's instance is validated with the clone's meta, as Pacemaker passes it
    drbd = next(s for s in steps if s.primitive == "p_drbd")
    assert drbd.env["OCF_RESKEY_CRM_meta_clone_max"] == "2"
    assert drbd.env["OCF_RESKEY_CRM_meta_notify"] == "true"
    assert [s.primitive for s in M.plan(reference_cib(), "pyha", ["g_mysql"]).steps] == [
        "p_ip",
        "p_fs",
        "p_mysql",
    ]
    assert M.plan(reference_cib(), "reference").steps == []  # nothing is on pyha's


def test_switched_changes_only_the_agents() -> None:
    cib = reference_cib()
    steps = M.plan(cib, "pyha", ["p_ip"]).steps
    resources = ET.fromstring(M.switched(cib, steps))
    agents = {p.get("id"): M._agent(p) for p in resources.iter("primitive")}
    assert agents["p_ip"] == "ocf:pyha:IPaddr2-py"
    assert agents["p_fs"] == "ocf:heartbeat:Filesystem"
    assert M._params(next(p for p in resources.iter("primitive") if p.get("id") == "p_ip")) == {
        "ip": "192.0.2.100",
        "cidr_netmask": "24",
    }


STATUS = """<pacemaker-result><resources>
<clone id="ms_drbd"><resource id="p_drbd" role="{role1}" active="true"><node name="node1"/></resource>
<resource id="p_drbd" role="Unpromoted" active="true"><node name="node2"/></resource></clone>
<group id="g_mysql"><resource id="p_ip" role="Started" active="true"><node name="node1"/></resource>
<resource id="p_fs" role="Started" active="true"><node name="node1"/></resource>
<resource id="p_mysql" role="Started" active="true"{pending}><node name="node1"/></resource></group>
</resources></pacemaker-result>"""


def status(role1: str = "Promoted", pending: str = "") -> str:
    return STATUS.format(role1=role1, pending=pending)


def test_roles_and_pending_probes_are_read_from_crm_mon() -> None:
    ids = ["p_drbd", "p_mysql"]
    assert M.roles(status(), ids) == {
        ("p_drbd", "node1"): "Promoted",
        ("p_drbd", "node2"): "Unpromoted",
        ("p_mysql", "node1"): "Started",
    }
    assert not M.unsettled(status(), ids)
    assert M.unsettled(status(pending=' pending="Monitoring"'), ids)


def test_only_actions_on_the_switched_resources_count() -> None:
    summary = (
        "Transition Summary:\n"
        "  * Restart    p_ip      ( node1 )  due to resource definition change\n"
        "  * Start      p_other   ( node2 )\n"
    )
    assert M.planned_actions(summary, ["p_ip", "p_fs"]) == [
        "* Restart    p_ip      ( node1 )  due to resource definition change"
    ]
    assert M.planned_actions("Transition Summary:\n", ["p_ip"]) == []


class FakeTools(M.Tools):
    """Scripted answers; every call recorded."""

    def __init__(self, statuses: Sequence[str], simulation: str = "Transition Summary:\n"):
        super().__init__(lambda argv, stdin, timeout: (0, "", ""))
        self.statuses = list(statuses)
        self.simulation = simulation
        self.calls: list[str] = []
        self.current = reference_cib()

    def cib(self) -> str:
        self.calls.append("cib")
        return self.current

    def status(self) -> str:
        self.calls.append("status")
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    def set_managed(self, resource: str, managed: bool) -> None:
        self.calls.append(f"{'manage' if managed else 'hold'} {resource}")

    def replace_resources(self, resources_xml: str) -> None:
        root = ET.fromstring(resources_xml)
        agents = sorted(M._agent(p) for p in root.iter("primitive"))
        held = any(
            p.get("name") == "is-managed" and p.get("value") == "false" for p in root.iter("nvpair")
        )
        self.calls.append(
            "replace " + ",".join(a.split(":")[1] for a in agents) + (" held" if held else "")
        )

    def refresh(self, resource: str) -> None:
        self.calls.append(f"refresh {resource}")

    def settle(self, timeout: float) -> None:
        self.calls.append("settle")

    def simulate(self, cib_xml: str) -> str:
        self.calls.append("simulate")
        return self.simulation


def run(tools: FakeTools, only: Sequence[str]) -> list[str]:
    return run_plan(tools, M.plan(reference_cib(), "pyha", only))


def run_plan(tools: FakeTools, the_plan: M.Plan, force: bool = False) -> list[str]:
    said: list[str] = []
    clock = iter(range(0, 100000, 5))
    M.migrate(
        tools,
        the_plan,
        timeout=30,
        force=force,
        say=said.append,
        clock=lambda: next(clock),
        pause=lambda s: None,
    )
    return said


def test_a_switch_holds_switches_probes_simulates_and_lets_go_in_order() -> None:
    tools = FakeTools([status(), status(pending=' pending="Monitoring"'), status()])
    said = run(tools, ["g_mysql"])
    assert tools.calls == [
        "settle",
        "cib",
        "status",
        "hold g_mysql",
        "hold ms_drbd",  # the group is colocated with the DRBD clone's Promoted role
        "cib",
        "replace linbit,pyha,pyha,pyha,fence_dummy,fence_dummy",
        "refresh g_mysql",
        "cib",
        "status",
        "cib",
        "status",
        "cib",
        "simulate",
        "replace linbit,pyha,pyha,pyha,fence_dummy,fence_dummy",  # managed: the hold is gone
    ], tools.calls
    assert said[-1].startswith("done: 3 resource(s)")
    table = said[-2].splitlines()
    assert table[0].split() == ["RESOURCE", "FROM", "TO", "PROBES", "PLANNED"]
    assert table[1].split()[0] == "p_ip" and table[1].endswith("Started on node1  nothing")


def test_a_probe_that_disagrees_restores_the_saved_configuration() -> None:
    # The new agent reports node1's DRBD Unpromoted where the old one said Promoted.
    tools = FakeTools([status(), status(role1="Unpromoted")])
    with pytest.raises(M.MigrationError, match="the new agents report"):
        run(tools, ["ms_drbd"])
    replaced = [c for c in tools.calls if c.startswith("replace ")]
    assert replaced[1:] == [  # the old agent back, held while it probes; then as saved
        "replace heartbeat,heartbeat,heartbeat,linbit,fence_dummy,fence_dummy held",
        "replace heartbeat,heartbeat,heartbeat,linbit,fence_dummy,fence_dummy",
    ], tools.calls
    assert "simulate" not in tools.calls


def test_a_planned_restart_restores_the_saved_configuration() -> None:
    tools = FakeTools([status()], simulation="  * Restart    p_ip   ( node1 )\n")
    with pytest.raises(M.MigrationError, match="would act on them: \\* Restart"):
        run(tools, ["p_ip"])
    assert [c for c in tools.calls if c.startswith("replace ")][-1].count("pyha") == 0


def test_a_refusal_changes_nothing_unless_forced() -> None:
    tools = FakeTools([status()])
    the_plan = M.plan(reference_cib(), "pyha", ["p_ip"])
    the_plan.steps[0].refused = "ip must be an address"
    with pytest.raises(M.MigrationError, match="p_ip: refused: ip must be an address"):
        M.migrate(tools, the_plan, say=lambda s: None)
    assert tools.calls == []
    # a parameter the target would act on differently blocks the same way
    the_plan.steps[0].refused = ""
    the_plan.steps[0].differences = [D("check_duplicate", "IPaddr2 ignores it", True)]
    with pytest.raises(M.MigrationError, match="p_ip: differs: IPaddr2 ignores it"):
        M.migrate(tools, the_plan, say=lambda s: None)
    assert tools.calls == []
    # one that keeps its meaning does not
    the_plan.steps[0].differences = [D("ip", "surrounding white space", False)]
    run_plan(tools, the_plan)
    assert tools.calls[-1] == "replace heartbeat,heartbeat,linbit,pyha,fence_dummy,fence_dummy"


def test_forced_the_switch_goes_on() -> None:
    tools = FakeTools([status()])
    the_plan = M.plan(reference_cib(), "pyha", ["p_ip"])
    the_plan.steps[0].differences = [D("check_duplicate", "IPaddr2 ignores it", True)]
    run_plan(tools, the_plan, force=True)
    assert "simulate" in tools.calls
    assert tools.calls[-1] == "replace heartbeat,heartbeat,linbit,pyha,fence_dummy,fence_dummy"


def test_the_table_shows_each_difference_under_its_resource() -> None:
    the_plan = M.plan(reference_cib(), "pyha", ["g_mysql"])
    the_plan.steps[0].differences = [
        D("check_duplicate", "IPaddr2 ignores it", True),
        D("ip", "surrounding white space", False),
    ]
    the_plan.steps[1].refused = "directory must not be /"
    lines = the_plan.table().splitlines()
    assert lines[0].split() == ["RESOURCE", "FROM", "TO", "CHECK"]
    assert lines[1].split()[0] == "p_ip" and lines[1].endswith("differs (--force to switch)")
    assert lines[2].endswith("refused: directory must not be /")
    assert lines[3].endswith("ok")
    assert lines[4:] == [
        "  p_ip: check_duplicate: IPaddr2 ignores it [differs]",
        "  p_ip: ip: surrounding white space [same meaning]",
    ]
    assert the_plan.steps[0].as_dict()["needs_force"] is True
    assert the_plan.steps[2].as_dict()["needs_force"] is False


def with_scores(cib: str, values: dict[str, str]) -> str:
    """The CIB with a status section holding master-p_drbd = value on each node."""
    states = "".join(
        f'<node_state id="{n}" uname="{n}"><transient_attributes id="{n}">'
        f'<instance_attributes id="s-{n}"><nvpair id="m-{n}" name="master-p_drbd" '
        f'value="{v}"/></instance_attributes></transient_attributes></node_state>'
        for n, v in values.items()
    )
    return cib.replace("<status/>", f"<status>{states}</status>")


class ScoredTools(FakeTools):
    """The promotion scores the CIB shows: first the old agent's, then what each
    read gives (the last one stays)."""

    def __init__(self, after: list[dict[str, str]]) -> None:
        super().__init__([status()])
        self.before = with_scores(reference_cib(), {"node1": "10000", "node2": "1000"})
        self.after = [with_scores(reference_cib(), a) for a in after]
        self.reads = 0

    def cib(self) -> str:
        self.calls.append("cib")
        self.reads += 1
        if self.reads <= 2:  # the saved configuration, and the one that is switched
            return self.before
        return self.after.pop(0) if len(self.after) > 1 else self.after[0]


def test_the_switch_waits_for_the_old_promotion_scores() -> None:
    # The new agent's first monitor has not set node2's score yet; then it has.
    tools = ScoredTools([{"node1": "10000"}, {"node1": "10000", "node2": "1000"}])
    run(tools, ["ms_drbd"])
    assert tools.calls[-1] == "replace heartbeat,heartbeat,heartbeat,pyha,fence_dummy,fence_dummy"
    assert tools.calls.count("status") == 3  # noted, then twice until the scores agree


def test_scores_in_another_order_restore_the_old_agent() -> None:
    # node2 now outranks node1, which is Promoted: Pacemaker would move the promotion
    tools = ScoredTools([{"node1": "1000", "node2": "10000"}])
    with pytest.raises(M.MigrationError, match="master-p_drbd on node2: 10000 .*outranks"):
        run(tools, ["ms_drbd"])
    replaced = [c for c in tools.calls if c.startswith("replace ")]
    assert len(replaced) == 3 and "linbit" in replaced[1] and "held" in replaced[1]
    assert tools.calls[-1] == "replace heartbeat,heartbeat,heartbeat,linbit,fence_dummy,fence_dummy"


def with_history(
    cib: str, agent: str, probed_on: tuple[str, ...] = ("node1", "node2"), pending: bool = False
) -> str:
    """The CIB with node1 and node2 online, and p_ip's history where probed_on: a
    probe by agent (done, or still pending)."""
    cls, provider, kind = agent.split(":")
    done = 'op-status="-1" rc-code="193"' if pending else 'op-status="0" rc-code="0"'
    history = (
        f'<lrm_resource id="p_ip" class="{cls}" provider="{provider}" '
        f'type="{kind}"><lrm_rsc_op id="p_ip_last_0" operation_key="p_ip_monitor_0" '
        f'operation="monitor" interval="0" {done}/></lrm_resource>'
    )
    states = "".join(
        f'<node_state id="{n}" uname="{n}" crmd="online" in_ccm="true"><lrm id="{n}">'
        f"<lrm_resources>{history if n in probed_on else ''}</lrm_resources></lrm></node_state>"
        for n in ("node1", "node2")
    )
    return cib.replace("<status/>", f"<status>{states}</status>")


def test_probed_needs_a_probe_by_the_agent_on_every_online_node() -> None:
    new = {"p_ip": "ocf:pyha:IPaddr2-py"}
    assert M.probed(with_history(reference_cib(), "ocf:pyha:IPaddr2-py"), new)
    # the old agent's history, not yet cleared by the refresh
    assert not M.probed(with_history(reference_cib(), "ocf:heartbeat:IPaddr2"), new)
    # node2 has not probed yet
    assert not M.probed(with_history(reference_cib(), "ocf:pyha:IPaddr2-py", ("node1",)), new)
    # the probes are running (recorded as pending), not done
    assert not M.probed(with_history(reference_cib(), "ocf:pyha:IPaddr2-py", pending=True), new)


class HistoryTools(FakeTools):
    """crm_mon already shows the roles, but the CIB still holds the old agent's history
    for two reads after the switch (the refresh not yet done), then the new one's."""

    def __init__(self) -> None:
        super().__init__([status()])
        old = with_history(reference_cib(), "ocf:heartbeat:IPaddr2")
        self.reads = [old, old, old, old, with_history(reference_cib(), "ocf:pyha:IPaddr2-py")]

    def cib(self) -> str:
        self.calls.append("cib")
        return self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]


def test_the_switch_waits_until_the_new_agent_has_probed() -> None:
    tools = HistoryTools()
    run(tools, ["p_ip"])
    # saved, switched, then three looks: twice the old history, then the new one
    assert tools.calls.count("status") == 4, tools.calls
    assert tools.calls[-1] == "replace heartbeat,heartbeat,linbit,pyha,fence_dummy,fence_dummy"


def test_other_values_that_keep_the_promotion_are_accepted() -> None:
    # the reference mysql: primary 2, replica 1; mysql-py: 3601 and 3600
    roles = {("p_db", "n1"): "Promoted", ("p_db", "n2"): "Unpromoted"}
    old = {("master-p_db", "n1"): "2", ("master-p_db", "n2"): "1"}
    new = {("master-p_db", "n1"): "3601", ("master-p_db", "n2"): "3600"}
    assert M.promotion_kept(new, old, roles)
    outranked = {("master-p_db", "n1"): "2", ("master-p_db", "n2"): "3600"}
    assert not M.promotion_kept(outranked, old, roles)
    tied = {("master-p_db", "n1"): "5", ("master-p_db", "n2"): "5"}
    assert M.promotion_kept(tied, old, roles)  # a tie keeps the Promoted one
    assert not M.promotion_kept({("master-p_db", "n1"): "2"}, old, roles)  # a score gone
    # every Galera node Promoted: any values
    every = {("p_g", n): "Promoted" for n in ("a", "b", "c")}
    scores = {("master-p_g", n): v for n, v in (("a", "100"), ("b", "INFINITY"), ("c", "1"))}
    assert M.promotion_kept(scores, scores, every)
    assert not M.promotion_kept(
        {("master-p_db", "n1"): "-INFINITY", ("master-p_db", "n2"): "1"}, old, roles
    )


def test_scores_are_read_from_the_status_section() -> None:
    cib = with_scores(reference_cib(), {"node1": "10000", "node2": "5"})
    assert M.scores(cib, ["p_drbd"]) == {
        ("master-p_drbd", "node1"): "10000",
        ("master-p_drbd", "node2"): "5",
    }
    assert M.scores(cib, ["p_ip"]) == {}


def test_an_unreadable_status_in_the_middle_restores_and_says_why() -> None:
    # crm_mon answers garbage once the agents are switched: no traceback, the old agents back.
    tools = FakeTools([status(), "<not-xml"])
    with pytest.raises(M.MigrationError, match="ParseError"):
        run(tools, ["p_ip"])
    replaced = [c for c in tools.calls if c.startswith("replace ")]
    assert len(replaced) == 3 and "pyha" not in replaced[1] + replaced[2], tools.calls
    assert replaced[1].endswith(" held") and tools.calls[-1] == replaced[2] == (
        "replace heartbeat,heartbeat,heartbeat,linbit,fence_dummy,fence_dummy"
    )


def test_a_cluster_that_does_not_settle_is_not_touched() -> None:
    calls: list[list[str]] = []

    def run(argv: Sequence[str], stdin: str | None, timeout: float) -> tuple[int, str, str]:
        calls.append(list(argv))
        if argv[:2] == ["crm_resource", "--wait"]:
            return 124, "", "Timed out waiting for resources to settle"
        return 0, reference_cib(), ""

    with pytest.raises(M.MigrationError, match="did not settle within 30 s"):
        M.migrate(M.Tools(run), M.plan(reference_cib(), "pyha", ["p_ip"]), timeout=30)
    assert calls == [["crm_resource", "--wait", "--timeout", "30s"]]


def test_what_is_tied_by_a_constraint_is_held_too() -> None:
    cib = reference_cib()
    # the group is colocated with and ordered after the DRBD clone; the fence devices
    # are tied to nothing
    assert M.linked(cib, ["ms_drbd"]) == ["g_mysql", "ms_drbd"]
    assert M.linked(cib, ["g_mysql"]) == ["g_mysql", "ms_drbd"]
    assert sorted(M.primitives_of(cib, ["g_mysql", "ms_drbd"])) == [
        "p_drbd",
        "p_fs",
        "p_ip",
        "p_mysql",
    ]
    galera = open(os.path.join(DATA, "cib-galera.xml")).read()
    assert M.linked(galera, ["ms_galera"]) == ["ms_galera", "p_vip"]


def test_a_planned_stop_of_a_held_dependent_restores() -> None:
    # only the DRBD clone is switched; the simulation would stop the group tied to it
    tools = FakeTools([status()], simulation="  * Stop       p_mysql    ( node1 )\n")
    with pytest.raises(M.MigrationError, match="would act on them: \\* Stop +p_mysql"):
        run(tools, ["ms_drbd"])
    assert tools.calls[-1].endswith("linbit,fence_dummy,fence_dummy")


def with_attributes(cib: str, names: dict[str, list[str]]) -> str:
    """The CIB with these transient attributes on each node."""
    states = "".join(
        f'<node_state id="{n}" uname="{n}"><transient_attributes id="{n}">'
        f'<instance_attributes id="s-{n}">'
        + "".join(f'<nvpair id="{n}-{a}" name="{a}" value="1"/>' for a in attrs)
        + "</instance_attributes></transient_attributes></node_state>"
        for n, attrs in names.items()
    )
    return cib.replace("<status/>", f"<status>{states}</status>")


def test_node_attributes_leave_out_failures_scores_and_departure_records() -> None:
    cib = with_attributes(
        reference_cib(),
        {
            "node1": ["readable", "fail-count-p_db#monitor_5000", "master-p_db", "#health"],
            "node2": ["p_galera-last-committed", "p_galera-left-at"],
        },
    )
    assert M.node_attributes(cib) == {("readable", "node1"), ("p_galera-last-committed", "node2")}


class AttributeTools(FakeTools):
    """The old agent kept `readable` on node1; after the switch it is gone."""

    def __init__(self) -> None:
        super().__init__([status()])
        self.before = with_attributes(reference_cib(), {"node1": ["readable"]})
        self.reads = 0

    def cib(self) -> str:
        self.calls.append("cib")
        self.reads += 1
        return self.before if self.reads <= 2 else with_attributes(reference_cib(), {"node1": []})


def test_a_node_attribute_the_new_agent_removed_restores_the_old_one() -> None:
    tools = AttributeTools()
    with pytest.raises(M.MigrationError, match="node attributes .* gone .*: readable on node1"):
        run(tools, ["p_ip"])
    assert "simulate" not in tools.calls
