"""`make install` and the RPM: layout, modes, isolation from the caller's environment,
and crm_resource --validate against the installed agents."""

from __future__ import annotations

import glob
import os
import stat
import subprocess
import textwrap

import pytest

from ocflib.pacemaker import for_this_pacemaker, version_tuple
from tests.conftest import AGENT_NAMES, ROOT, feature_set, need

PYTHON = "/usr/bin/python3"


def make(*args: str) -> None:
    subprocess.run(["make", "-s", "-C", ROOT, *args], check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real (not DESTDIR) install under a temporary prefix."""
    need("make", PYTHON)
    base = str(tmp_path_factory.mktemp("install"))
    make("install", f"PREFIX={base}/usr", f"PYTHON_SITELIB={base}/site", f"PYTHON={PYTHON}")
    return base


def test_layout_and_modes(installed: str) -> None:
    agent = os.path.join(installed, "usr/lib/ocf/resource.d/pyha/IPaddr2-py")
    assert stat.S_IMODE(os.stat(agent).st_mode) == 0o755
    with open(agent) as f:
        text = f.read()
    assert text.startswith(f"#!{PYTHON} -IS\n")
    assert f'_OCFLIB_DIR = "{installed}/site"' in text
    assert os.path.isfile(os.path.join(installed, "site/ocflib/agents/ipaddr2.py"))
    shim = os.path.join(installed, "usr/lib/ocf/lib/pyha/ocf.py")
    assert os.path.islink(shim) and os.path.samefile(shim, f"{installed}/site/ocflib/ocf.py")
    assert glob.glob(f"{installed}/site/ocflib/__pycache__/*.pyc"), "not byte-compiled"


@pytest.mark.parametrize("name", AGENT_NAMES)
def test_installed_meta_data_is_the_rendered_one_without_importing_the_agent(
    installed: str, name: str
) -> None:
    agent = os.path.join(installed, "usr/lib/ocf/resource.d/pyha", name)
    with open(os.path.join(ROOT, "metadata", f"{name}.xml")) as f:
        rendered = f.read()
    result = subprocess.run(
        [PYTHON, "-X", "importtime", "-IS", agent, "meta-data"],
        env={},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == for_this_pacemaker(rendered.encode()).decode()
    imported = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()]
    assert "ocflib.agents" in imported
    assert not [m for m in imported if m.startswith("ocflib.agents.") or m == "ocflib.agent"]
    # Without the file (a checkout, a broken install) the agent renders the same text.
    os.rename(f"{installed}/site/ocflib/agents/{name}.xml", f"{installed}/{name}.xml")
    try:
        again = subprocess.run(
            [agent, "meta-data"], env={}, capture_output=True, text=True, check=False
        )
    finally:
        os.rename(f"{installed}/{name}.xml", f"{installed}/site/ocflib/agents/{name}.xml")
    assert again.returncode == 0 and again.stdout == for_this_pacemaker(rendered.encode()).decode()


@pytest.mark.parametrize("where", ["installed", "checkout"])
def test_meta_data_with_stdout_closed_fails_with_a_reason_not_a_traceback(
    installed: str, where: str
) -> None:
    base = (
        os.path.join(installed, "usr/lib/ocf/resource.d/pyha")
        if where == "installed"
        else os.path.join(ROOT, "agents")
    )
    # The child's stdout is closed before exec (fd 1 absent: sys.stdout is None).
    result = subprocess.run(
        [os.path.join(base, "drbd-py"), "meta-data"],
        env={},
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        preexec_fn=lambda: os.close(1),
    )
    assert result.returncode == 1
    assert (
        result.stderr == "ocf-exit-reason:cannot write the meta-data output: the stream is closed\n"
    )


def test_installed_agent_cannot_be_made_to_import_other_code(
    installed: str, tmp_path: object
) -> None:
    evil = os.path.join(str(tmp_path), "evil")
    marker = os.path.join(str(tmp_path), "pwned")
    os.makedirs(os.path.join(evil, "ocflib"))
    for name in ("ocflib/__init__.py", "sitecustomize.py", "usercustomize.py"):
        with open(os.path.join(evil, name), "w") as f:
            f.write(f"open({marker!r}, 'w').write('x')\n")
    agent = os.path.join(installed, "usr/lib/ocf/resource.d/pyha/IPaddr2-py")
    env = {
        "PYTHONPATH": evil,
        "PYTHONSTARTUP": f"{evil}/ocflib/__init__.py",
        "PYTHONHOME": evil,
        "PYTHONUSERBASE": evil,
        "HOME": evil,
    }
    result = subprocess.run(
        [agent, "meta-data"], env=env, capture_output=True, text=True, cwd=evil, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "<resource-agent" in result.stdout
    assert not os.path.exists(marker)


def test_crm_resource_validate_against_installed_agents(installed: str) -> None:
    """crm_resource runs the agent the way Pacemaker does, from /usr/lib/ocf/resource.d.

    The install is bind-mounted there inside a private mount namespace, so the
    machine's own /usr/lib/ocf is never changed. The address names its interface (lo,
    which every node has): validate-all resolves it as IPaddr2's does, and a release's
    root runs in a network namespace without routes.
    """
    need("crm_resource", "unshare", root=True)
    script = textwrap.dedent(f"""
        set -e
        mount --bind {installed}/usr/lib/ocf/resource.d/pyha /usr/lib/ocf/resource.d/pyha 2>/dev/null || {{
            mount -t tmpfs pyha-test /usr/lib/ocf/resource.d
            mkdir /usr/lib/ocf/resource.d/pyha
            mount --bind {installed}/usr/lib/ocf/resource.d/pyha /usr/lib/ocf/resource.d/pyha
        }}
        crm_resource --validate --class ocf --provider pyha --agent IPaddr2-py --option ip=192.0.2.50 --option cidr_netmask=24 --option nic=lo; echo "rc=$?"
        crm_resource --validate --class ocf --provider pyha --agent IPaddr2-py --option ip=192.0.2.50 --option arp_count=0 || echo "rc=$?"
        crm_resource --validate --class ocf --provider pyha --agent IPaddr2-py --option ip=fe80::1 || echo "rc=$?"
    """)
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    lines = [line for line in result.stdout.splitlines() if line.startswith("rc=")]
    assert lines == ["rc=0", "rc=6", "rc=6"], out
    if version_tuple(feature_set()) >= (3, 10, 0):  # Pacemaker 2.0 prints no exit reason
        assert "parameter arp_count='0' must be at least 1" in out
