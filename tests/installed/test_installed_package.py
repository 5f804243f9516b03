"""The installed Debian package as an administrator meets it (collected only when
PYHA_AGENTS_DIR names the installed agents: CI installs the .deb it built first)."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import AGENT_NAMES, AGENTS_DIR

SITE = "/usr/lib/python3/dist-packages"


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def test_dpkg_owns_every_installed_file() -> None:
    listed = run("dpkg-query", "--listfiles", "pyha").stdout.split()
    for agent in AGENT_NAMES:
        assert os.path.join(AGENTS_DIR, agent) in listed
        assert f"/usr/share/man/man7/ocf_pyha_{agent}.7.gz" in listed
    assert f"{SITE}/ocflib/agent.py" in listed
    assert "/usr/lib/ocf/lib/pyha/ocf.py" in listed


def test_the_agents_run_on_the_installed_ocflib() -> None:
    for agent in AGENT_NAMES:
        with open(os.path.join(AGENTS_DIR, agent)) as f:
            text = f.read()
        assert text.startswith("#!/usr/bin/python3 -IS\n")
        assert f'_OCFLIB_DIR = "{SITE}"' in text


def test_man_finds_every_page() -> None:
    for agent in AGENT_NAMES:
        result = run("man", "-w", f"ocf_pyha_{agent}")
        assert result.stdout.strip() == f"/usr/share/man/man7/ocf_pyha_{agent}.7.gz", result.stderr
    page = subprocess.run(
        ["man", "ocf_pyha_IPaddr2-py"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MANWIDTH": "100", "MANPAGER": "cat", "PAGER": "cat"},
    ).stdout
    assert "ocf_pyha_IPaddr2-py - " in page and "cidr_netmask" in page
    for section in ("EXIT STATUS", "CHECKS BY DEPTH", "FILES", "ENVIRONMENT"):
        assert f"\n{section}\n" in page, section
    assert "\nDIFFERENCES FROM OCF:HEARTBEAT:IPADDR2\n" in page


def test_the_documentation_is_installed() -> None:
    # As the RPM ships it: the README, NEWS, the benchmarks, the security policy and
    # docs/, in /usr/share/doc/pyha (dh_compress gzips the larger ones).
    listed = run("dpkg-query", "--listfiles", "pyha").stdout.split()
    docs = {
        os.path.basename(f).removesuffix(".gz")
        for f in listed
        if os.path.dirname(f) == "/usr/share/doc/pyha"
    }
    for name in ("README.md", "NEWS.md", "SECURITY.md", "agents.md", "operations.md"):
        assert name in docs, sorted(docs)
    (news,) = [f for f in listed if f.startswith("/usr/share/doc/pyha/NEWS.md")]
    result = run("zcat", "-f", news)
    assert result.stdout.startswith("# NEWS"), result.stderr


def test_ocflib_was_byte_compiled_at_installation_and_running_adds_no_cache() -> None:
    def tree() -> set[str]:
        return {os.path.join(d, n) for d, _, names in os.walk(f"{SITE}/ocflib") for n in names}

    before = tree()
    assert [f for f in before if f.endswith(".pyc")], "py3compile did not run"
    for action in ("meta-data", "validate-all", "monitor"):
        subprocess.run(
            [os.path.join(AGENTS_DIR, "IPaddr2-py"), action],
            env={"OCF_ROOT": "/usr/lib/ocf", "OCF_RESKEY_ip": "192.0.2.7"},
            capture_output=True,
            check=False,
        )
    assert tree() == before
