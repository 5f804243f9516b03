"""Every agent's meta-data: generated files current, DTD (ocf-tester) and RNG valid."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from ocflib.pacemaker import for_this_pacemaker
from tests.conftest import AGENTS_DIR, ROOT, need

AGENTS = sorted(name for name in os.listdir(AGENTS_DIR) if name.endswith("-py"))
DTD = "/usr/share/resource-agents/ra-api-1.dtd"
RNG = "/usr/share/resource-agents/metadata.rng"


def meta_data(agent: str) -> str:
    """meta-data as ocf-tester gets it: empty environment, no managed programs needed."""
    result = subprocess.run(
        [os.path.join(AGENTS_DIR, agent), "meta-data"],
        env={},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stderr == ""
    return result.stdout


@pytest.mark.parametrize("agent", AGENTS)
def test_committed_metadata_is_current(agent: str) -> None:
    path = os.path.join(ROOT, "metadata", f"{agent}.xml")
    with open(path) as f:
        committed = f.read()
    # Where Pacemaker predates 2.1 the agent advertises Master/Slave (for_this_pacemaker).
    expected = for_this_pacemaker(committed.encode()).decode()
    assert expected == meta_data(agent), f"metadata/{agent}.xml is stale: run `make metadata`"


def xmllint(args: list[str], xml: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["xmllint", "--noout", *args, "-"], input=xml, capture_output=True, text=True, check=False
    )


def rng_allows_the_version_attribute() -> bool:
    """resource-agents' schema allows <resource-agent version=...> since 4.8 (4.7's, on
    Debian 11, does not; its own agents then carried only the <version> element)."""
    probe = (
        '<resource-agent name="x" version="1.0"><version>1.0</version>'
        '<longdesc lang="en">x</longdesc><shortdesc lang="en">x</shortdesc>'
        '<parameters><parameter name="p"><longdesc lang="en">p</longdesc>'
        '<shortdesc lang="en">p</shortdesc><content type="string"/></parameter></parameters>'
        '<actions><action name="start" timeout="20s"/></actions></resource-agent>'
    )
    return xmllint(["--relaxng", RNG], probe).returncode == 0


@pytest.mark.parametrize("agent", AGENTS)
@pytest.mark.parametrize("schema", ["dtd", "rng"])
def test_metadata_validates(agent: str, schema: str) -> None:
    need("xmllint", DTD, RNG)
    xml = meta_data(agent)
    if schema == "rng" and not rng_allows_the_version_attribute():
        # The agent's version attribute is the only thing an older schema refuses (a
        # docs/platforms.md row); everything else must validate against it.
        xml, stripped = re.subn(r'(<resource-agent name="[^"]+") version="[^"]+"', r"\1", xml)
        assert stripped == 1
    args = ["--dtdvalid", DTD] if schema == "dtd" else ["--relaxng", RNG]
    result = xmllint(args, xml)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("agent", AGENTS)
def test_metadata_as_nobody_is_fast(agent: str) -> None:
    """ocf-tester runs meta-data as nobody; it must work unprivileged and quickly."""
    need("setpriv", root=True)
    import time

    start = time.monotonic()
    result = subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            os.path.join(AGENTS_DIR, agent),
            "meta-data",
        ],
        env={},
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert result.returncode == 0, result.stderr
    assert "<resource-agent" in result.stdout
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("agent", AGENTS)
def test_the_drop_in_claim_names_the_exit_codes_that_differ(agent: str) -> None:
    """No blanket "same exit codes": each long description says which codes differ from
    the reference's, each with the reference's code beside it (or why it has none)."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(meta_data(agent).split("?>", 1)[-1].split("]>", 1)[-1])
    longdesc = " ".join((root.findtext("longdesc") or "").split())
    assert "defaults and exit codes)" not in longdesc
    claim = longdesc.split("the same exit codes but for these: ", 1)
    assert len(claim) == 2, longdesc
    reference = {
        "IPaddr2-py": "IPaddr2",
        "Filesystem-py": "Filesystem",
        "mysql-py": "mysql",
        "drbd-py": "drbd",
        "galera-py": "galera",
    }[agent]
    # "(IPaddr2: 6 ...)": the reference's code beside the differences.
    assert re.findall(rf"\({reference}: \d", claim[1]), claim[1]
