"""trace_ra, run by the real agents: where the trace goes, what it says, what it never
writes (a secret, another file), and that it never changes an action's result."""

from __future__ import annotations

import glob
import os
import stat
import subprocess

import pytest

from tests.conftest import AGENTS_DIR


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


@pytest.mark.integration
def test_trace_file_is_appended_only_when_it_is_a_pyha_trace(tmp_path: object) -> None:
    trace_file = os.path.join(str(tmp_path), "trace.txt")
    for _ in range(2):
        result = run(
            "IPaddr2-py", "monitor", {"ip": "192.0.2.9", "trace_ra": "1", "trace_file": trace_file}
        )
        assert result.returncode == 7
    assert read(trace_file).count("# pyha trace: IPaddr2-py") == 2
    other = os.path.join(str(tmp_path), "precious.conf")
    with open(other, "w") as f:
        f.write("keep me\n")
    result = run("IPaddr2-py", "monitor", {"ip": "192.0.2.9", "trace_ra": "1", "trace_file": other})
    assert result.returncode == 7  # the action's result is unchanged
    assert read(other) == "keep me\n"
    assert "is not a pyha trace" in result.stderr


@pytest.mark.integration
def test_a_link_or_an_open_directory_is_never_written_through(tmp_path: object) -> None:
    target = os.path.join(str(tmp_path), "target")
    with open(target, "w") as f:
        f.write("")
    link = os.path.join(str(tmp_path), "link")
    os.symlink(target, link)
    result = run("IPaddr2-py", "monitor", {"ip": "192.0.2.9", "trace_ra": "1", "trace_file": link})
    assert result.returncode == 7
    assert read(target) == ""
    assert "cannot write the trace" in result.stderr
    # A trace directory others can write to is not used.
    shared = os.path.join(str(tmp_path), "shared")
    os.makedirs(os.path.join(shared, "IPaddr2-py"))
    os.chmod(os.path.join(shared, "IPaddr2-py"), 0o770)  # noqa: S103 - the fault planted
    result = run("IPaddr2-py", "monitor", {"ip": "192.0.2.9", "trace_ra": "1", "trace_dir": shared})
    assert result.returncode == 7
    assert os.listdir(os.path.join(shared, "IPaddr2-py")) == []
    assert "writable by others" in result.stderr
