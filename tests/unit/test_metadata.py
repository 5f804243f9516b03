from __future__ import annotations

import xml.etree.ElementTree as ET

from ocflib.agent import Action, Agent
from ocflib.exitcodes import OCF
from ocflib.params import Boolean, Integer, Param, Select, String


def _agent(longdesc: str = "long") -> Agent:
    return Agent(
        "demo-py",
        version="2.0",
        shortdesc="Demo <agent> & friends",
        longdesc=longdesc,
        params=[
            Param("name", String(), shortdesc="a < b & c", required=True, unique=True, default=""),
            Param("count", Integer(min=1, max=9), shortdesc="count", default="3"),
            Param("flag", Boolean(), shortdesc="flag", default="false"),
            Param("mode", Select("fast", "safe"), shortdesc="mode", default="safe"),
            Param("hidden", String(), shortdesc="hidden", hidden=True),
        ],
        actions=[
            Action("start", lambda cfg, ctx: OCF.SUCCESS, timeout=20),
            Action("monitor", lambda cfg, ctx: OCF.SUCCESS, timeout=20, interval=10, depth=0),
            Action("promote", None, timeout=90, role="Promoted", start_delay=0.5),
        ],
    )


def test_metadata_structure_and_escaping() -> None:
    text = _agent('uses <, > and & and "quotes"\r\nCRLF').metadata()
    assert text.startswith('<?xml version="1.0"?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">')
    root = ET.fromstring(text.split("\n", 2)[2])
    assert root.get("name") == "demo-py" and root.get("version") == "2.0"
    assert root.findtext("version") == "1.0"
    assert root.findtext("longdesc") == 'uses <, > and & and "quotes"\r\nCRLF'
    params = {p.get("name"): p for p in root.iter("parameter")}
    # hidden is not advertised; every agent accepts the tracing parameters
    assert list(params) == ["name", "count", "flag", "mode", "trace_ra", "trace_file", "trace_dir"]
    name = params["name"]
    assert (name.get("required"), name.get("unique")) == ("1", "1")
    assert name.findtext("shortdesc") == "a < b & c"
    assert [c.tag for c in name] == ["longdesc", "shortdesc", "content"]
    content = params["count"].find("content")
    assert content is not None
    assert content.attrib == {"type": "integer", "default": "3"}
    assert "(An integer from 1 to 9.)" in (params["count"].findtext("longdesc") or "")
    assert params["mode"].find("content").attrib == {"type": "string", "default": "safe"}  # type: ignore[union-attr]
    assert "One of: fast, safe." in (params["mode"].findtext("longdesc") or "")


def test_every_action_has_a_timeout_and_builtins_are_added() -> None:
    root = ET.fromstring(_agent().metadata().split("\n", 2)[2])
    actions = [a.attrib for a in root.iter("action")]
    assert actions == [
        {"name": "start", "timeout": "20s"},
        {"name": "monitor", "timeout": "20s", "interval": "10s", "depth": "0"},
        {"name": "promote", "timeout": "90s", "role": "Promoted", "start-delay": "500ms"},
        {"name": "meta-data", "timeout": "5s"},
        {"name": "validate-all", "timeout": "20s"},
    ]


def test_characters_xml_cannot_carry_are_replaced() -> None:
    text = _agent("bell \x07 and nul \x00 and \ufffe").metadata()
    root = ET.fromstring(text.split("\n", 2)[2])
    assert root.findtext("longdesc") == "bell \ufffd and nul \ufffd and \ufffd"


def test_role_names_follow_the_installed_pacemaker(tmp_path: object) -> None:
    """Pacemaker 2.0 (CIB schemas up to 3.5) refuses Promoted/Unpromoted: Master/Slave
    there; 2.1 and later, or no Pacemaker at all, keep the current names."""
    import os

    from ocflib.pacemaker import for_this_pacemaker, legacy_role_names

    xml = b'<action name="monitor" role="Promoted"/><action name="monitor" role="Unpromoted"/>'
    old, new, empty = (os.path.join(str(tmp_path), d) for d in ("old", "new", "empty"))
    for directory, versions in ((old, ("3.4", "3.5")), (new, ("3.5", "3.7", "4.0")), (empty, ())):
        os.makedirs(directory)
        for version in versions:
            open(os.path.join(directory, f"resources-{version}.rng"), "w").close()
    assert legacy_role_names(old) and not legacy_role_names(new) and not legacy_role_names(empty)
    assert not legacy_role_names(os.path.join(str(tmp_path), "missing"))
    assert for_this_pacemaker(xml, old) == (
        b'<action name="monitor" role="Master"/><action name="monitor" role="Slave"/>'
    )
    assert for_this_pacemaker(xml, new) == xml
