"""Comparing an agent's advertised parameters with its reference's, across the
reference releases the platforms ship (resource-agents 4.7 on Debian 11, 4.12 on
Debian 12, 4.16 on Debian 13; drbd-utils 9.15, 9.22)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Set

# resource-agents' shell library reads these for every heartbeat agent (pcs adds them
# to the reference's parameters itself); every pyha agent advertises them, so the
# parity tests compare the rest.
TRACE_PARAMS = {"trace_ra", "trace_file", "trace_dir"}


def meta_data(argv: list[str]) -> str:
    """argv's meta-data, as ocf-tester asks for it."""
    return subprocess.run(
        [*argv, "meta-data"],
        env={"OCF_ROOT": "/usr/lib/ocf"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def params(argv: list[str]) -> dict[str, dict[str, str]]:
    """name -> default, required, unique of every parameter argv's meta-data advertises."""
    out = meta_data(argv)
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


def assert_parity(
    ours: Mapping[str, Mapping[str, str]],
    reference: Mapping[str, Mapping[str, str]],
    *,
    pyha_only: Set[str] = frozenset(),
    not_in_every_release: Set[str] = frozenset(),
    other_defaults: Mapping[str, Set[str]] | None = None,
) -> None:
    """Every reference parameter, with its flags and default; nothing else but pyha's own.

    not_in_every_release: parameters pyha has that some reference release lacks (added
    after it); other_defaults: name -> defaults other reference releases advertise where
    pyha keeps resource-agents 4.12's (each a row of docs/agents.md or docs/platforms.md).
    """
    assert set(reference) <= set(ours), f"missing: {set(reference) - set(ours)}"
    for name, ref in reference.items():
        wanted = dict(ref)
        if ref["default"] in (other_defaults or {}).get(name, ()):
            wanted["default"] = ours[name]["default"]
        assert ours[name] == wanted, name
    assert set(ours) - set(reference) == set(pyha_only) | (
        set(not_in_every_release) - set(reference)
    )
