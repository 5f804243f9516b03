"""ocflib/ocf.py: the ocf.py API, and the defects of the original it fixes."""

from __future__ import annotations

import os
import subprocess
import textwrap

import pytest

from tests.conftest import ROOT, need

ORIGINAL_DIR = "/usr/lib/ocf/lib/heartbeat"
SHIM_DIR = os.path.join(ROOT, "ocflib")

AGENT = textwrap.dedent("""
    import os, sys
    sys.path.append(os.environ["OCF_FUNCTIONS_DIR"])
    import ocf

    def start(state, count):
        if count == "boom":
            raise RuntimeError("it broke")
        print("start", state, count)
        return ocf.OCF_SUCCESS

    def monitor(state):
        return ocf.OCF_NOT_RUNNING if ocf.is_probe() else ocf.OCF_SUCCESS

    agent = ocf.Agent("shimtest", "uses < and & in text", "a < b && c > d", version="1.2")
    agent.add_parameter("state", shortdesc="state <file>", longdesc="where & how",
                        required=True, unique=True)
    agent.add_parameter("count", shortdesc="count", longdesc="count", default="3",
                        content_type="integer")
    agent.add_action("start", timeout=20, handler=start)
    agent.add_action("monitor", timeout=20, interval=10, depth=0, handler=monitor)
    agent.run()
""")


def run(
    shim_dir: str, tmp: str, *args: str, agent: str = AGENT, **env: str
) -> subprocess.CompletedProcess[str]:
    path = os.path.join(tmp, "shimtest")
    with open(path, "w") as f:
        f.write(agent)
    full_env = {"OCF_FUNCTIONS_DIR": shim_dir, "PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        ["/usr/bin/python3", path, *args], env=full_env, capture_output=True, text=True, check=False
    )


def well_formed(xml: str) -> bool:
    return (
        subprocess.run(
            ["xmllint", "--noout", "-"], input=xml, capture_output=True, text=True, check=False
        ).returncode
        == 0
    )


def test_meta_data_with_markup_characters_stays_well_formed(tmp_path: object) -> None:
    need("xmllint")
    ours = run(SHIM_DIR, str(tmp_path), "meta-data")
    assert ours.returncode == 0 and well_formed(ours.stdout), ours.stdout
    assert "a &lt; b &amp;&amp; c &gt; d" in ours.stdout
    dtd = subprocess.run(
        ["xmllint", "--noout", "--dtdvalid", "/usr/share/resource-agents/ra-api-1.dtd", "-"],
        input=ours.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert dtd.returncode == 0, dtd.stderr


def test_the_original_ocf_py_breaks_on_the_same_agent(tmp_path: object) -> None:
    need("xmllint", os.path.join(ORIGINAL_DIR, "ocf.py"))
    # Without the version argument, which resource-agents 4.7's ocf.py predates: the
    # markup defect is there in every version.
    plain = AGENT.replace(', version="1.2"', "")
    assert plain != AGENT
    original = run(ORIGINAL_DIR, str(tmp_path), "meta-data", agent=plain)
    assert original.returncode == 0 and not well_formed(original.stdout), original.stderr


def test_required_parameters_and_binding_by_name(tmp_path: object) -> None:
    out = run(SHIM_DIR, str(tmp_path), "start")
    assert out.returncode == 6 and out.stderr.startswith(
        "ocf-exit-reason:state: Required parameter not set"
    )
    out = run(SHIM_DIR, str(tmp_path), "start", OCF_RESKEY_state="/s")
    assert (out.returncode, out.stdout) == (0, "start /s 3\n")
    out = run(SHIM_DIR, str(tmp_path), "start", OCF_RESKEY_state="/s", OCF_RESKEY_count="boom")
    assert out.returncode == 1 and "ocf-exit-reason:it broke" in out.stderr
    assert run(SHIM_DIR, str(tmp_path), "monitor", OCF_RESKEY_state="/s").returncode == 7
    out = run(
        SHIM_DIR,
        str(tmp_path),
        "monitor",
        OCF_RESKEY_state="/s",
        OCF_RESKEY_CRM_meta_interval="10000",
    )
    assert out.returncode == 0
    assert run(SHIM_DIR, str(tmp_path), "stop", OCF_RESKEY_state="/s").returncode == 3
    assert run(SHIM_DIR, str(tmp_path)).returncode == 3
    out = run(SHIM_DIR, str(tmp_path), "--help")
    assert out.returncode == 0 and out.stdout.startswith("usage: ")


def test_helpers(tmp_path: object) -> None:
    code = textwrap.dedent("""
        import sys; sys.path.insert(0, sys.argv[1]); import ocf
        assert ocf.is_true("True") and ocf.is_true("Y") and ocf.is_true(True) and ocf.is_true(1)
        assert not ocf.is_true("no") and not ocf.is_true("0") and not ocf.is_true(None)
        assert ocf.have_binary("sh") and not ocf.have_binary("no-such-binary-pyha")
        assert ocf.get_parameter("x", "d") == "x-value" and ocf.get_parameter("y", "d") == "d"
        assert ocf.OCF_RUNNING_PROMOTED == ocf.OCF_RUNNING_MASTER == 8
        assert "/" in ocf.distro() or ocf.distro()
        ocf.logger.warning("a warning")
        print(ocf.log.name, ocf.OCF_ACTION)
    """)
    out = subprocess.run(
        ["/usr/bin/python3", "-c", code, SHIM_DIR],
        capture_output=True,
        text=True,
        env={"OCF_RESKEY_x": "x-value", "PATH": "/usr/bin:/bin", "__OCF_ACTION": "monitor"},
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "-c monitor\n"
    failing = subprocess.run(
        [
            "/usr/bin/python3",
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import ocf; print(ocf.have_binary('sh'))",
            SHIM_DIR,
        ],
        env={"OCF_TESTER_FAIL_HAVE_BINARY": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert failing.stdout == "False\n"


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_ha_debug_zero_means_off(tmp_path: object, value: str) -> None:
    """The original compares the string "0" with the int 0 and logs debug anyway."""
    logfile = os.path.join(str(tmp_path), "ha.log")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import ocf; "
        "ocf.logger.debug('debug-line'); ocf.logger.warning('warn-line')"
    )
    subprocess.run(
        ["/usr/bin/python3", "-c", code, SHIM_DIR],
        check=True,
        env={"HA_debug": value, "HA_LOGFILE": logfile},
    )
    with open(logfile) as f:
        text = f.read()
    assert "warn-line" in text and "debug-line" not in text
