"""pyha's view of the installed agents, read by running `<agent> meta-data` (the
reference agents of this release): the minimum timeouts they advertise (pyha check), and
their parameters, against which pyha migrate lists what a switch would change."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ocflib.admin.cli import AgentMetadata
from ocflib.admin.differences import differences, parameter_types
from tests.conftest import need


def test_advertised_timeouts_come_from_the_installed_agents_meta_data() -> None:
    need("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", "/usr/lib/ocf/resource.d/heartbeat/galera")
    timeouts = AgentMetadata("/usr/lib/ocf")
    monitor = timeouts("ocf:heartbeat:IPaddr2", "monitor", None)
    assert monitor is not None and monitor > 0
    promote = timeouts("ocf:heartbeat:galera", "promote", None)
    assert promote is not None and promote >= 60
    # a role-specific monitor is found under either name of the role
    promoted = timeouts("ocf:heartbeat:galera", "monitor", "Promoted")
    assert promoted is not None
    assert promoted == timeouts("ocf:heartbeat:galera", "monitor", "Master")
    # an agent name that is not a plain name is never run
    assert timeouts("ocf:heartbeat:../../../../bin/true", "start", None) is None
    assert timeouts("ocf:nobody:nothing", "start", None) is None
    from ocflib.admin.cli import agent_path

    assert agent_path("ocf:..:bin", "/usr/lib/ocf") is None
    assert agent_path("ocf:heartbeat:.", "/usr/lib/ocf") is None
    assert agent_path("ocf:pyha:IPaddr2-py", "/x") == "/x/resource.d/pyha/IPaddr2-py"


def pyha_types(agent: str) -> dict[str, str]:
    path = os.path.join(os.path.dirname(__file__), "..", "..", "metadata", f"{agent}.xml")
    with open(path) as f:
        return parameter_types(f.read())


def test_a_parameter_only_one_of_the_two_agents_knows_needs_force() -> None:
    need("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", "/usr/lib/ocf/resource.d/heartbeat/mysql")
    agents = AgentMetadata("/usr/lib/ocf")
    reference = agents.parameters("ocf:heartbeat:IPaddr2")
    assert reference is not None and "ip" in reference and reference["ip"] == "string"
    ours = pyha_types("IPaddr2-py")
    params = {"ip": "192.0.2.10", "check_duplicate": "true", "trace_ra": "1"}
    found = differences("ocf:heartbeat:IPaddr2", "ocf:pyha:IPaddr2-py", params, reference, ours)
    back = differences("ocf:pyha:IPaddr2-py", "ocf:heartbeat:IPaddr2", params, ours, reference)
    if "check_duplicate" in reference:  # resource-agents 4.16 has it too
        assert found == back == []
    else:  # 4.7 and 4.12: the reference ignores it, pyha acts on it (and the way back)
        assert [(d.parameter, d.blocks) for d in found] == [("check_duplicate", True)]
        assert "ignores check_duplicate" in found[0].text
        assert [(d.parameter, d.blocks) for d in back] == [("check_duplicate", True)]
        assert "has no parameter check_duplicate" in back[0].text
    # the parameters both know have the same meaning: nothing to say
    mysql = differences(
        "ocf:heartbeat:mysql",
        "ocf:pyha:mysql-py",
        {"config": "/etc/mysql/my.cnf", "enable_creation": "false"},
        agents.parameters("ocf:heartbeat:mysql"),
        pyha_types("mysql-py"),
    )
    assert mysql == []


def test_validate_here_runs_the_installed_agent_with_the_resource_s_environment() -> None:
    from ocflib.admin.cli import validate_here

    need("/usr/lib/ocf/resource.d/heartbeat/IPaddr2")
    ok_env = {"OCF_RESKEY_ip": "192.0.2.10", "OCF_CHECK_LEVEL": "10"}
    ok_env["OCF_RESOURCE_INSTANCE"] = "p_ip"
    rc, reason = validate_here("ocf:heartbeat:IPaddr2", {"OCF_CHECK_LEVEL": "10"})
    assert (rc, reason) == (6, "IP address (the ip parameter) is mandatory")
    rc, reason = validate_here("ocf:heartbeat:IPaddr2", {**ok_env, "OCF_RESKEY_cidr_netmask": "99"})
    assert rc == 6 and reason == "[findif] failed", reason  # the reference's own words
    assert validate_here("ocf:nobody:nothing", ok_env)[0] == 5
    assert validate_here("ocf:heartbeat:../../../bin/true", ok_env)[0] == 5
    # a name whose parts are ".." would lead out of resource.d: never run
    assert validate_here("ocf:..:..", ok_env) == (5, "ocf:..:.. is not an OCF agent name")
    assert validate_here("lsb:heartbeat:IPaddr2", ok_env)[0] == 5


def test_prefetch_asks_the_agents_at_once_and_answers_as_one_at_a_time(tmp_path: Path) -> None:
    """pyha check asks every agent with operations for its meta-data side by side:
    the same texts as asking one after another (the reference agents of this release),
    in the time of the slowest; a failing agent is no answer, a missing one is not run."""
    agents = ["ocf:heartbeat:IPaddr2", "ocf:heartbeat:Filesystem", "ocf:heartbeat:mysql"]
    need(*(f"/usr/lib/ocf/resource.d/heartbeat/{a.split(':')[2]}" for a in agents))
    together = AgentMetadata("/usr/lib/ocf")
    together.prefetch(agents)
    alone = AgentMetadata("/usr/lib/ocf")
    assert [together.texts[a] for a in agents] == [alone.text(a) for a in agents]
    assert all("<resource-agent" in (together.texts[a] or "") for a in agents)
    # four agents of one second each: about one second, not four
    provider = tmp_path / "resource.d" / "slow"
    provider.mkdir(parents=True)
    for name, rc in (("a", 0), ("b", 0), ("c", 0), ("broken", 1)):
        script = provider / name
        script.write_text(
            f"#!/bin/sh\nsleep 1\necho '<resource-agent name=\"{name}\"/>'\nexit {rc}\n"
        )
        script.chmod(0o755)
    slow = AgentMetadata(str(tmp_path))
    began = time.monotonic()
    slow.prefetch(["ocf:slow:a", "ocf:slow:b", "ocf:slow:c", "ocf:slow:broken", "ocf:slow:none"])
    took = time.monotonic() - began
    assert 1.0 <= took < 2.5, took
    assert slow.texts == {
        "ocf:slow:a": '<resource-agent name="a"/>\n',
        "ocf:slow:b": '<resource-agent name="b"/>\n',
        "ocf:slow:c": '<resource-agent name="c"/>\n',
        "ocf:slow:broken": None,
        "ocf:slow:none": None,  # not installed: remembered, never run
    }
    # asked again: answered from what it has, nothing run
    began = time.monotonic()
    slow.prefetch(["ocf:slow:a"])
    assert slow.text("ocf:slow:b") is not None and time.monotonic() - began < 0.5
