"""Every configuration example an administrator is shown works: each man page's crm and
pcs example (as the page renders it) and each crm example of the README is loaded into
a scratch CIB by the real crmsh or pcs, and the result passes crm_verify; the agent's
validate-all accepts the example's parameters and clone; and the promotable examples
carry what their agent needs around it (DRBD's notifications, Galera's promoted-max of
every node). A wrong example fails here, not on a user's cluster."""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
from typing import Any

import pytest

from ocflib.pacemaker import legacy_role_names
from tests.conftest import AGENTS_DIR, ROOT, need
from tests.contract.test_pcs import provider  # noqa: F401 - the installed agents, a fixture
from tests.ocfroot import run_with_provider


def _manpage() -> Any:
    """packaging/manpage.py (a build script, not a package: loaded from its path)."""
    spec = importlib.util.spec_from_file_location(
        "pyha_manpage", os.path.join(ROOT, "packaging", "manpage.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


manpage = _manpage()

AGENTS = sorted(manpage.EXAMPLES)


def page_examples(agent: str) -> tuple[str, str]:
    """The crm and the pcs example as the agent's manual page shows them (plain text)."""
    with open(os.path.join(ROOT, "metadata", f"{agent}.xml")) as f:
        page = manpage.render(f.read(), "0", "2026-01-01")
    found = []
    for title in ("EXAMPLE CRM SHELL", "EXAMPLE PCS"):
        block = page.split(f'.SH "{title}"', 1)[1].split(".nf\n", 1)[1].split("\n.fi", 1)[0]
        found.append(block.replace("\\e", "\\").replace("\\-", "-").replace("\\&", ""))
    return found[0], found[1]


def readme_examples() -> list[str]:
    """The README's crm examples: fenced blocks of crm configure input or commands."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    blocks: list[str] = []
    block: list[str] = []
    inside = False
    for line in text.splitlines():
        if line.startswith("```"):
            if inside:
                blocks.append("\n".join(block) + "\n")
            block, inside = [], not inside
        elif inside:
            block.append(line)
    out = []
    for text_block in blocks:
        first = text_block.lstrip().split("\n", 1)[0]
        if first.startswith(("primitive ", "crm configure primitive ")):
            out.append(text_block.replace("crm configure ", ""))
    return out


def for_this_pacemaker(text: str) -> str:
    """Pacemaker 2.0 (Debian 11) takes only the old role names, as the pages say."""
    if legacy_role_names():
        return (
            text.replace("role=Promoted", "role=Master")
            .replace("role=Unpromoted", "role=Slave")
            .replace(":Promoted", ":Master")
        )
    return text


def load(provider: str, tmp: str, script_body: str) -> str:  # noqa: F811
    """Run script_body on a fresh CIB file ($CIB_file, fencing off) with the installed
    agents; the output of its @@ lines."""
    need("crm", "pcs", "cibadmin", "crm_verify", "crm_attribute", root=True)
    cib = os.path.join(tmp, "cib.xml")
    with open(cib, "w") as f:
        subprocess.run(["cibadmin", "--empty"], stdout=f, check=True)
    script = (
        f"export CIB_file={cib}\n"
        "crm_attribute --type crm_config --name stonith-enabled --update false\n"
        f"{script_body}\n"
        'crm_verify --xml-file "$CIB_file" -V; echo "@@verify=$?"\n'
    )
    result = run_with_provider(provider, script, os.path.join(tmp, "mnt"))
    return result.stdout + result.stderr


def load_crm(provider: str, tmp: str, text: str) -> str:  # noqa: F811
    """`crm configure load update` of text (crm configure input) on a fresh CIB file."""
    path = os.path.join(tmp, "example.crm")
    with open(path, "w") as f:
        f.write(for_this_pacemaker(text) + "\n")
    return load(provider, tmp, f'crm configure load update {path}; echo "@@load=$?"')


@pytest.mark.parametrize("tool", ["crm", "pcs"])
@pytest.mark.parametrize("agent", AGENTS)
def test_the_man_page_examples_load_and_verify(
    provider: str,  # noqa: F811
    tmp_path: object,
    agent: str,
    tool: str,
) -> None:
    crm, pcs = page_examples(agent)
    if tool == "crm":
        example = crm
        out = load_crm(provider, str(tmp_path), crm)
        assert "advised" not in out, out  # crmsh: an operation below the agent's own minimum
    else:
        example = pcs
        words = shlex.split(for_this_pacemaker(pcs).replace("\\\n", " "))
        assert words[0] == "pcs", pcs
        command = " ".join(shlex.quote(w) for w in words[1:])
        out = load(provider, str(tmp_path), f'pcs -f "$CIB_file" {command}; echo "@@load=$?"')
    assert "@@load=0" in out and "@@verify=0" in out, example + "\n" + out


def test_the_readme_crm_examples_load_and_verify(provider: str, tmp_path: object) -> None:  # noqa: F811
    """Each of them (the VIP, the Active/Passive stack, Galera) on a CIB of its own."""
    examples = readme_examples()
    assert len(examples) >= 3, examples
    for index, example in enumerate(examples):
        tmp = os.path.join(str(tmp_path), str(index))
        os.makedirs(tmp)
        out = load_crm(provider, tmp, example)
        assert "@@load=0" in out and "@@verify=0" in out, example + "\n" + out


@pytest.mark.parametrize("agent", AGENTS)
def test_validate_all_accepts_each_example(agent: str) -> None:
    """The example's parameters, in the example's clone, at depth 0 (the configuration)."""
    params, _, clone = manpage.EXAMPLES[agent]
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "p",
        **{f"OCF_RESKEY_{k}": v for k, v in (w.split("=", 1) for w in params.split())},
    }
    for word in (clone or "").split():
        key, value = word.split("=", 1)
        env[f"OCF_RESKEY_CRM_meta_{key.replace('-', '_')}"] = value
    result = subprocess.run(
        [os.path.join(AGENTS_DIR, agent), "validate-all"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if agent == "drbd-py" and not os.path.exists("/proc/drbd"):
        # The configuration passed (its problems come first, as 6); this node has no
        # DRBD module, which validate-all reports at every depth as ocf:linbit:drbd
        # does. The example runs on real DRBD in the UML lab.
        assert (result.returncode, result.stderr) == (
            5,
            "ocf-exit-reason:DRBD kernel module not available\n",
        )
        return
    assert result.returncode == 0, result.stderr


def test_promotable_examples_carry_what_their_agents_need() -> None:
    """As the pages show them: drbd-py refuses a clone without notifications (start:
    6); galera-py promotes every node only with promoted-max equal to the number of
    nodes of its address."""
    from ocflib.agents import drbd

    def words(agent: str, first: str) -> dict[str, str]:
        crm, _ = page_examples(agent)
        line = next(ln.strip() for ln in crm.splitlines() if ln.strip().startswith(first))
        return dict(w.split("=", 1) for w in line.rstrip(" \\").split() if "=" in w)

    assert "start" in drbd.NEEDS_NOTIFY and words("drbd-py", "clone")["notify"] == "true"
    address = words("galera-py", "params")["wsrep_cluster_address"]
    count = str(len(address.split("//", 1)[1].split(",")))
    meta = words("galera-py", "clone")
    assert meta["promoted-max"] == meta["clone-max"] == count, meta
