"""pyha migrate's plan and its steps on the lab's CIBs (tests/unit/data), with a fake
set of Pacemaker tools: the switch holds, switches, probes, simulates and lets go in that
order; a probe that disagrees puts the saved configuration back."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import pytest

from ocflib.admin import migrate as M

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
        agents = sorted(M._agent(p) for p in ET.fromstring(resources_xml).iter("primitive"))
        self.calls.append("replace " + ",".join(a.split(":")[1] for a in agents))

    def refresh(self, resource: str) -> None:
        self.calls.append(f"refresh {resource}")

    def simulate(self, cib_xml: str) -> str:
        self.calls.append("simulate")
        return self.simulation


def run(tools: FakeTools, only: Sequence[str]) -> list[str]:
    said: list[str] = []
    the_plan = M.plan(reference_cib(), "pyha", only)
    clock = iter(range(0, 100000, 5))
    M.migrate(
        tools,
        the_plan,
        timeout=30,
        say=said.append,
        clock=lambda: next(clock),
        pause=lambda s: None,
    )
    return said


def test_a_switch_holds_switches_probes_simulates_and_lets_go_in_order() -> None:
    tools = FakeTools([status(), status(pending=' pending="Monitoring"'), status()])
    said = run(tools, ["g_mysql"])
    assert tools.calls == [
        "cib",
        "status",
        "hold g_mysql",
        "cib",
        "replace linbit,pyha,pyha,pyha,fence_dummy,fence_dummy",
        "refresh g_mysql",
        "status",
        "status",
        "cib",
        "simulate",
        "manage g_mysql",
    ], tools.calls
    assert said[-1].startswith("done: 3 resource(s)")


def test_a_probe_that_disagrees_restores_the_saved_configuration() -> None:
    # The new agent reports node1's DRBD Unpromoted where the old one said Promoted.
    tools = FakeTools([status(), status(role1="Unpromoted")])
    with pytest.raises(M.MigrationError, match="the new agents report"):
        run(tools, ["ms_drbd"])
    replaced = [c for c in tools.calls if c.startswith("replace ")]
    assert len(replaced) == 2 and "linbit" in replaced[1], tools.calls  # the old agent back
    assert tools.calls[-1] == "manage ms_drbd"
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
    with pytest.raises(M.MigrationError, match="refuses p_ip: ip must be an address"):
        M.migrate(tools, the_plan, say=lambda s: None)
    assert tools.calls == []


def test_an_unreadable_status_in_the_middle_restores_and_says_why() -> None:
    # crm_mon answers garbage once the agents are switched: no traceback, the old agents back.
    tools = FakeTools([status(), "<not-xml"])
    with pytest.raises(M.MigrationError, match="ParseError"):
        run(tools, ["p_ip"])
    replaced = [c for c in tools.calls if c.startswith("replace ")]
    assert len(replaced) == 2 and replaced[-1].count("pyha") == 0, tools.calls
    assert tools.calls[-1] == "manage g_mysql"
