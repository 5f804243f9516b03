"""The manual pages ocf_pyha_<agent>(7) as `man` shows them: every section an
administrator looks for, filled from the agent's meta-data and docs/agents.md, and roff
that groff renders without a warning."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.conftest import ROOT, need
from tests.contract.test_examples import manpage

AGENTS = sorted(manpage.REPLACES)
SECTIONS = [
    "NAME",
    "SYNOPSIS",
    "DESCRIPTION",
    "SUPPORTED PARAMETERS",
    "SUPPORTED ACTIONS",
    "EXIT STATUS",
    "CHECKS BY DEPTH",
    "FILES",
    "ENVIRONMENT",
    "DIFFERENCES FROM",
    "EXAMPLE CRM SHELL",
    "EXAMPLE PCS",
    "SEE ALSO",
]


def shown(agent: str) -> str:
    """The page as man prints it (plain text, 100 columns)."""
    need("groff")
    with open(os.path.join(ROOT, "metadata", f"{agent}.xml")) as f:
        roff: str = manpage.render(f.read(), "0", "2026-01-01")
    result = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-rLL=100n", "-P-cbou"],
        input=roff,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    assert result.stderr == "", result.stderr  # -ww: every warning
    text: str = result.stdout
    return text


@pytest.mark.parametrize("agent", AGENTS)
def test_every_section_is_there_in_order(agent: str) -> None:
    text = shown(agent)
    headings = [line for line in text.splitlines() if re.fullmatch(r"[A-Z][A-Z .:0-9-]+", line)]
    found = [next((s for s in SECTIONS if h.startswith(s)), h) for h in headings]
    assert found == SECTIONS, headings


@pytest.mark.parametrize("agent", AGENTS)
def test_the_sections_say_what_the_agent_does(agent: str) -> None:
    text = shown(agent)
    part = {
        name: text.split(f"\n{name}", 1)[1].split("\n\n\n", 1)[0]
        for name in ("EXIT STATUS", "CHECKS BY DEPTH", "FILES", "DIFFERENCES FROM")
    }
    codes = re.findall(r"^ {7}(\d+) ", part["EXIT STATUS"], re.M)
    assert {"0", "6", "7"} <= set(codes), codes  # success, a bad configuration, stopped
    if agent in ("drbd-py", "galera-py", "mysql-py"):
        assert "8" in codes  # Promoted
    assert "monitor:" in part["CHECKS BY DEPTH"] and "validate-all:" in part["CHECKS BY DEPTH"]
    assert "trace_ra" in part["FILES"]
    reference = manpage.REPLACES[agent][0]
    assert part["DIFFERENCES FROM"].startswith(f" {reference.upper()}"), part["DIFFERENCES FROM"][
        :80
    ]
    # the agent's own rows, then the differential test's rows for every agent
    assert "surrounding white space is never part of a value" in part["DIFFERENCES FROM"]
    assert len(re.findall(r"^ {7}\S", part["DIFFERENCES FROM"], re.M)) >= 8
