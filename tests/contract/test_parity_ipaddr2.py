"""IPaddr2-py advertises every parameter of ocf:heartbeat:IPaddr2 with the same default."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET

from tests.conftest import AGENTS_DIR, need

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"
# resource-agents' shell library reads these for every heartbeat agent (pcs adds them
# to the reference's parameters itself); every pyha agent advertises them, so the
# parity tests compare the rest.
TRACE_PARAMS = {"trace_ra", "trace_file", "trace_dir"}
# Parameters later resource-agents releases added (absent from 4.12).
UPSTREAM_LATER = {"proto"}
# Defaults a later resource-agents release changed, and the new value: pyha keeps the
# 4.12 default (README, IPaddr2-py).
DEFAULT_CHANGED = {"lvs_ipv6_addrlabel": "true"}


def params(argv: list[str]) -> dict[str, dict[str, str]]:
    out = subprocess.run(
        [*argv, "meta-data"],
        env={"OCF_ROOT": "/usr/lib/ocf"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    root = ET.fromstring(out.split("\n", 2)[2] if out.startswith("<?xml") else out)
    found = {}
    for p in root.iter("parameter"):
        if p.get("name") in TRACE_PARAMS:
            continue
        content = p.find("content")
        assert content is not None
        found[p.get("name", "")] = {
            "default": content.get("default") or "",
            "required": p.get("required", "0"),
            "unique": p.get("unique", "0"),
        }
    return found


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "IPaddr2-py")])
    reference = params([REFERENCE])
    assert set(reference) <= set(ours), f"missing: {set(reference) - set(ours)}"
    for name, ref in reference.items():
        wanted = ref
        if name in DEFAULT_CHANGED and ref["default"] == DEFAULT_CHANGED[name]:
            wanted = {**ref, "default": ours[name]["default"]}  # the README's row
        assert ours[name] == wanted, name
    # pyha's own, and those later resource-agents added (4.13+: proto) when this
    # machine's reference predates them.
    expected = {"check_duplicate", "check_duplicate_timeout"} | (UPSTREAM_LATER - set(reference))
    assert set(ours) - set(reference) == expected
