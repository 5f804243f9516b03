"""trace_ra, run by the real agents: where the trace goes, what it says, what it never
writes (a secret, another file), and that it never changes an action's result."""

from __future__ import annotations

import glob
import os
import stat
import subprocess

import pytest

from tests.conftest import AGENTS_DIR, need
from tests.sandbox import SANDBOX_AGENTS, run_sandboxed


def run(
    agent: str, action: str, params: dict[str, str], **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "p_test",
        "OCF_RESOURCE_TYPE": agent,
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        **{f"OCF_RESKEY_{k}": v for k, v in params.items()},
        **env,
    }
    return subprocess.run(
        [os.path.join(AGENTS_DIR, agent), action],
        env=environ,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def traces(directory: str, agent: str) -> list[str]:
    return sorted(glob.glob(os.path.join(directory, agent, "*")))


def read(path: str) -> str:
    with open(path) as f:
        return f.read()


@pytest.mark.integration
def test_a_traced_action_writes_what_ran_and_its_result(tmp_path: object) -> None:
    trace_dir = str(tmp_path)
    result = run(
        "IPaddr2-py", "monitor", {"ip": "192.0.2.9", "trace_ra": "1", "trace_dir": trace_dir}
    )
    assert result.returncode == 7, result.stderr
    (path,) = traces(trace_dir, "IPaddr2-py")
    assert os.path.basename(path).startswith("p_test.monitor.20")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = read(path)
    assert text.startswith("# pyha trace: IPaddr2-py")
    assert "  ip=192.0.2.9" in text
    assert "  CRM_meta_timeout=20000" in text
    assert " run: ip -o -f inet addr show\n           rc 0 in " in text
    assert text.rstrip().endswith("exit 7 (NOT_RUNNING)")


@pytest.mark.integration
def test_the_trace_names_the_exit_reason(tmp_path: object) -> None:
    trace_dir = str(tmp_path)
    result = run(
        "IPaddr2-py",
        "validate-all",
        {"ip": "192.0.2.9", "cidr_netmask": "33", "trace_ra": "yes", "trace_dir": trace_dir},
    )
    assert result.returncode == 6
    (path,) = traces(trace_dir, "IPaddr2-py")
    text = read(path)
    assert "exit 6 (ERR_CONFIGURED)" in text
    assert "exit reason: " in text and "cidr_netmask" in text.split("exit reason: ")[1]


@pytest.mark.integration
def test_secret_parameters_never_reach_the_trace(tmp_path: object) -> None:
    trace_dir = str(tmp_path)
    secret = "Tr4ce-S3cret"
    run(
        "galera-py",
        "monitor",
        {
            "wsrep_cluster_address": "gcomm://node1,node2",
            "check_passwd": secret,
            "socket": f"/nonexistent/{secret}/sock",
            "trace_ra": "1",
            "trace_dir": trace_dir,
        },
    )
    (path,) = traces(trace_dir, "galera-py")
    text = read(path)
    assert "check_passwd=<redacted>" in text
    assert secret not in text


@pytest.mark.integration
def test_not_traced_unless_asked(tmp_path: object) -> None:
    trace_dir = str(tmp_path)
    for value in ("0", "no", "false", "maybe"):
        run("IPaddr2-py", "monitor", {"ip": "192.0.2.9", "trace_ra": value, "trace_dir": trace_dir})
    assert os.listdir(trace_dir) == []


# The planted faults run in the overlay sandbox (a bug never reaches this machine's files).
_PLANTED = r"""
T=/tmp/tr; mkdir -p $T
printf 'keep me\n' > $T/precious.conf
: > $T/target; ln -s $T/target $T/link
mkdir -p $T/open/IPaddr2-py; chmod 770 $T/open/IPaddr2-py
for i in 1 2; do OCF_RESKEY_trace_file=$T/trace.txt {agent} monitor; echo rc=$?; done
grep -c '^# pyha trace: IPaddr2-py' $T/trace.txt
OCF_RESKEY_trace_file=$T/precious.conf {agent} monitor; echo rc=$?; cat $T/precious.conf
OCF_RESKEY_trace_file=$T/link {agent} monitor; echo rc=$?; wc -c < $T/target
OCF_RESKEY_trace_dir=$T/open {agent} monitor; echo rc=$?; ls -A $T/open/IPaddr2-py | wc -l
"""


@pytest.mark.integration
def test_only_a_pyha_trace_is_appended_to_and_nothing_is_written_through() -> None:
    """trace_file is appended to only when it is a pyha trace (a precious file is left as
    it is); a link is never followed; a trace directory others can write is not used;
    the action's result never changes."""
    need("unshare", "chroot", root=True)
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "p_test",
        "OCF_RESOURCE_TYPE": "IPaddr2-py",
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        "OCF_RESKEY_ip": "192.0.2.9",
        "OCF_RESKEY_trace_ra": "1",
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    }
    script = _PLANTED.format(agent=f"{SANDBOX_AGENTS}/IPaddr2-py")
    result = run_sandboxed(["/bin/sh", "-c", script], env)
    out = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert out == ["rc=7", "rc=7", "2", "rc=7", "keep me", "rc=7", "0", "rc=7", "0"], (
        result.stdout + result.stderr
    )
    assert "is not a pyha trace" in result.stderr
    assert "cannot write the trace" in result.stderr
    assert "writable by others" in result.stderr
    assert result.changes == [], result.changes
