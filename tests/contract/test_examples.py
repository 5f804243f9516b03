"""Every configuration example an administrator is shown works: each man page's crm and
pcs example (as the page renders it) and every crm and pcs block of the README, NEWS,
CONTRIBUTING, SECURITY and docs/ is loaded into a scratch CIB by the real crmsh or pcs,
and the result passes crm_verify; the agent's validate-all accepts the man page
example's parameters and clone; and the promotable examples carry what their agent
needs around it (DRBD's notifications, Galera's promoted-max of every node). A block
that configures something must be tagged crm, pcs or cli (run here), procedure (a
procedure on a live cluster, run by the lab: tests/lab/test_lab_migrate.py) or text (a
listing), so none escapes.
A wrong example fails here, not on a user's cluster."""

from __future__ import annotations

import importlib.util
import os
import shlex
import subprocess
from typing import Any

import pytest

from lab.cib import seed_cib
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


DOCUMENTS = sorted(
    ["README.md", "NEWS.md", "CONTRIBUTING.md", "SECURITY.md"]
    + [os.path.join("docs", n) for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md")]
)
# Lines that configure a cluster: such a block must be run by this module.
CONFIGURING = (
    "primitive ",
    "clone ",
    "ms ",
    "group ",
    "colocation ",
    "order ",
    "crm configure ",
    "pcs resource create",
    "pcs constraint",
)


def fenced_blocks() -> list[tuple[str, str, str]]:
    """(document, info string, text) of every fenced block of the documents."""
    from lab.examples import fenced_blocks as blocks_of

    return [
        (name, tag, "\n".join(lines) + "\n")
        for name in DOCUMENTS
        for tag, lines in blocks_of(os.path.join(ROOT, name))
    ]


def tagged(tag: str) -> list[Any]:
    """The blocks with this info string, as pytest parameters named document:index."""
    blocks = [(doc, text) for doc, t, text in fenced_blocks() if t == tag]
    return [pytest.param(text, id=f"{doc}:{i}") for i, (doc, text) in enumerate(blocks)]


def commands(text: str, *programs: str) -> list[list[str]]:
    """The command lines of a block (continuation lines joined) that run one of
    programs, in order, as words."""
    joined = for_this_pacemaker(text).replace("\\\n", " ")
    lines = [shlex.split(line, comments=True) for line in joined.splitlines()]
    return [words for words in lines if words and words[0] in programs]


def for_this_pacemaker(text: str) -> str:
    """Pacemaker 2.0 (Debian 11) takes only the old role and clone names, as the
    README and the pages say."""
    if legacy_role_names():
        return (
            text.replace("role=Promoted", "role=Master")
            .replace("role=Unpromoted", "role=Slave")
            .replace(":Promoted", ":Master")
            .replace("with Promoted ", "with Master ")
            .replace("promoted-max=", "master-max=")
            .replace("promoted-node-max=", "master-node-max=")
        )
    return text


def load(provider: str, tmp: str, script_body: str) -> str:  # noqa: F811
    """Run script_body on a fresh CIB file ($CIB_file, fencing off) with the installed
    agents; the output of its @@ lines."""
    need("crm", "pcs", "cibadmin", "crm_verify", "crm_attribute", root=True)
    cib = os.path.join(tmp, "cib.xml")
    seed_cib(cib)
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


def test_every_configuring_block_is_run_here() -> None:
    untagged = [
        f"{doc}: {text.splitlines()[0]}"
        for doc, tag, text in fenced_blocks()
        if tag not in ("crm", "pcs", "cli", "procedure", "text")
        and any(line.lstrip().startswith(CONFIGURING) for line in text.splitlines())
    ]
    assert untagged == []
    assert len(tagged("crm")) >= 3 and len(tagged("pcs")) >= 3


@pytest.mark.parametrize("text", tagged("crm"))
def test_the_documents_crm_examples_load_and_verify(
    provider: str,  # noqa: F811
    tmp_path: object,
    text: str,
) -> None:
    """crm configure input, each block on a CIB of its own."""
    out = load_crm(provider, str(tmp_path), text)
    assert "@@load=0" in out and "@@verify=0" in out, text + "\n" + out
    assert "advised" not in out, out


@pytest.mark.parametrize("text", tagged("pcs"))
def test_the_documents_pcs_examples_load_and_verify(
    provider: str,  # noqa: F811
    tmp_path: object,
    text: str,
) -> None:
    """pcs command lines, each block on a CIB of its own (pcs -f)."""
    lines = commands(text, "pcs")
    assert lines, text
    script = "".join(
        f'pcs -f "$CIB_file" {" ".join(shlex.quote(w) for w in words[1:])}; echo "@@load=$?"\n'
        for words in lines
    )
    out = load(provider, str(tmp_path), script)
    assert out.count("@@load=0") == len(lines) and "@@verify=0" in out, text + "\n" + out


@pytest.mark.parametrize("text", tagged("cli"))
def test_the_documents_crm_and_pcs_commands_run(
    provider: str,  # noqa: F811
    tmp_path: object,
    text: str,
) -> None:
    """Commands on existing resources (crm resource trace, pcs resource update): run one
    after the other on a CIB holding the README's first stack (p_ip, g_mysql, ms_drbd)."""
    seed = next(t for doc, tag, t in fenced_blocks() if doc == "README.md" and tag == "crm")
    path = os.path.join(str(tmp_path), "seed.crm")
    with open(path, "w") as f:
        f.write(for_this_pacemaker(seed))
    lines = commands(text, "crm", "pcs")
    assert lines, text
    script = f'crm configure load update {path}; echo "@@seed=$?"\n'
    for words in lines:
        program = 'pcs -f "$CIB_file"' if words[0] == "pcs" else "crm"
        script += f'{program} {" ".join(shlex.quote(w) for w in words[1:])}; echo "@@run=$?"\n'
    out = load(provider, str(tmp_path), script)
    assert "@@seed=0" in out and out.count("@@run=0") == len(lines), text + "\n" + out
    assert "@@verify=0" in out, out


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
    if (
        agent == "IPaddr2-py"
        and not subprocess.run(
            ["ip", "route", "get", "192.0.2.100"], capture_output=True, check=False
        ).stdout
    ):
        # No route reaches the example's address here (a release's root in a network
        # namespace of its own): validate-all says so at every depth, as IPaddr2 does.
        assert result.returncode == 1 and "no route reaches it" in result.stderr, result.stderr
        return
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
