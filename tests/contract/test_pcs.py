"""The real pcs (its -f CIB-file mode needs no daemon) and crmsh read pyha's meta-data as they
read the reference agents': unique parameters refused twice, trace_ra accepted,
default operations taken from the advertised actions."""

from __future__ import annotations

import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from lab.cib import seed_cib
from ocflib.pacemaker import legacy_role_names
from tests.conftest import AGENTS_DIR, ROOT, need
from tests.ocfroot import run_with_provider

CASES = [
    # (agent, options, the unique option pcs must refuse twice)
    ("ocf:heartbeat:IPaddr2", "ip=192.0.2.10 cidr_netmask=24", "ip"),
    ("ocf:pyha:IPaddr2-py", "ip=192.0.2.20 cidr_netmask=24", "ip"),
    ("ocf:linbit:drbd", "drbd_resource=r0", "drbd_resource"),
    ("ocf:pyha:drbd-py", "drbd_resource=r1", "drbd_resource"),
    ("ocf:pyha:mysql-py", "reader_attribute=readable_a", "reader_attribute"),
]


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The pyha provider directory: the installed one (PYHA_AGENTS_DIR) or a fresh
    `make install` under a temporary prefix."""
    need("pcs", "cibadmin", "unshare", root=True)
    installed = os.environ.get("PYHA_AGENTS_DIR")
    if installed:
        return installed
    base = str(tmp_path_factory.mktemp("pcs-install"))
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            ROOT,
            "install",
            f"PREFIX={base}/usr",
            f"PYTHON_SITELIB={base}/site",
            "PYTHON=/usr/bin/python3",
        ],
        check=True,
        capture_output=True,
    )
    return f"{base}/usr/lib/ocf/resource.d/pyha"


def pcs(provider: str, tmp: str, *commands: str) -> list[tuple[int, str]]:
    """Run each `pcs -f CIB ...` command line on one fresh CIB file; (rc, output) each."""
    cib = seed_cib(os.path.join(tmp, "cib.xml"))
    script = "".join(
        f'out=$(pcs -f {cib} {c} 2>&1); echo "@@rc=$?"; echo "$out"; echo "@@end"\n'
        for c in commands
    )
    result = run_with_provider(provider, script, os.path.join(tmp, "mnt"))
    assert result.returncode == 0, result.stderr
    found = re.findall(r"@@rc=(\d+)\n(.*?)@@end", result.stdout, re.S)
    assert len(found) == len(commands), result.stdout + result.stderr
    return [(int(rc), out) for rc, out in found]


@pytest.mark.parametrize(("agent", "options", "unique"), CASES)
def test_pcs_refuses_a_second_resource_with_the_same_unique_value(
    provider: str, tmp_path: object, agent: str, options: str, unique: str
) -> None:
    kind = "promotable" if "drbd" in agent else ""
    (first, second) = pcs(
        provider,
        str(tmp_path),
        f"resource create first {agent} {options} {kind}",
        f"resource create second {agent} {options} {kind}",
    )
    assert first[0] == 0, first[1]
    assert second[0] != 0, second[1]
    assert f"of option '{unique}' is not unique" in second[1], second[1]


@pytest.mark.parametrize("agent", sorted(n for n in os.listdir(AGENTS_DIR) if n.endswith("-py")))
def test_pcs_accepts_trace_ra_for_every_agent(provider: str, tmp_path: object, agent: str) -> None:
    options = {
        "IPaddr2-py": "ip=192.0.2.30",
        "Filesystem-py": "device=/dev/vdz directory=/mnt/z fstype=ext4",
        "drbd-py": "drbd_resource=r9",
        "mysql-py": "",
        "galera-py": "wsrep_cluster_address=gcomm://a,b,c",
    }[agent]
    kind = "promotable" if agent in ("drbd-py", "galera-py") else ""
    ((rc, out),) = pcs(
        provider,
        str(tmp_path),
        f"resource create r ocf:pyha:{agent} {options} trace_ra=1 trace_file=/var/tmp/t {kind}",
    )
    assert rc == 0, out
    assert "invalid resource option" not in out


def test_pcs_takes_the_promoted_monitor_from_the_advertised_actions(
    provider: str, tmp_path: object
) -> None:
    cib = os.path.join(str(tmp_path), "cib.xml")
    ((rc, out),) = pcs(
        provider, str(tmp_path), "resource create d ocf:pyha:drbd-py drbd_resource=r0 promotable"
    )
    assert rc == 0, out
    # pcs wrote the CIB file inside the test's namespace; the file itself is ours.
    root = ET.parse(cib).getroot()
    monitors = {
        (op.get("role"), op.get("interval"))
        for op in root.iter("op")
        if op.get("name") == "monitor"
    }
    # Pacemaker 2.0 takes only the old names, and the meta-data advertises those there.
    promoted, unpromoted = (
        ("Master", "Slave") if legacy_role_names() else ("Promoted", "Unpromoted")
    )
    assert (promoted, "10s") in monitors, monitors
    assert (unpromoted, "20s") in monitors, monitors


def test_crmsh_treats_a_duplicate_unique_value_as_for_the_reference(
    provider: str, tmp_path: object
) -> None:
    """crmsh warns of the duplicate VIP for pyha exactly as for the reference (4.4 refuses
    it, 5.0 only warns), and accepts trace_ra as a parameter of a pyha primitive (it
    refuses it for the reference, where only `crm resource trace` sets it)."""
    need("crm", "crm_attribute")
    outcomes = {}
    for agent in ("ocf:heartbeat:IPaddr2", "ocf:pyha:IPaddr2-py"):
        base = os.path.join(str(tmp_path), agent.split(":")[1])
        os.makedirs(base)
        cib = seed_cib(os.path.join(base, "cib.xml"), properties={"stonith-enabled": "false"})
        script = (
            f"export CIB_file={cib}\n"
            f"crm configure primitive a {agent} params ip=192.0.2.40; echo @@rc=$?\n"
            f"crm configure primitive b {agent} params ip=192.0.2.40; echo @@rc=$?\n"
            f"crm configure primitive c {agent} params ip=192.0.2.41 trace_ra=1; echo @@rc=$?\n"
        )
        result = run_with_provider(provider, script, os.path.join(base, "mnt"))
        out = result.stdout + result.stderr
        assert 'violate uniqueness for parameter "ip"' in out, out
        outcomes[agent] = re.findall(r"@@rc=(\d+)", out)
    reference, pyha = outcomes["ocf:heartbeat:IPaddr2"], outcomes["ocf:pyha:IPaddr2-py"]
    assert pyha[:2] == reference[:2], outcomes
    assert pyha[2] == "0", outcomes
