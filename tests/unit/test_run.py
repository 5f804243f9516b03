"""ProcessRunner against real programs (no fakes: this is the runner itself)."""

from __future__ import annotations

import os
import time

import pytest

from ocflib.commandline import describe_failure, quote_argv
from ocflib.errors import CommandFailed, CommandNotFound, CommandTimeout
from ocflib.run import Deadline, ProcessRunner, base_env
from tests.conftest import process_state


def test_runs_argv_and_captures_output() -> None:
    result = ProcessRunner().run(["sh", "-c", "echo out; echo err >&2; exit 3"], ok=(3,))
    assert (result.returncode, result.stdout, result.stderr) == (3, "out\n", "err\n")


def test_rejects_a_string_command() -> None:
    with pytest.raises(TypeError):
        ProcessRunner().run("echo hi")


def test_failure_raises_with_a_specific_reason() -> None:
    with pytest.raises(CommandFailed) as info:
        ProcessRunner().run(["sh", "-c", "echo broken thing >&2; exit 4"])
    assert info.value.reason == "sh returned 4: broken thing"
    assert info.value.returncode == 4


def test_missing_program_is_not_installed() -> None:
    with pytest.raises(CommandNotFound) as info:
        ProcessRunner().run(["no-such-program-pyha"])
    assert info.value.rc == 5
    assert info.value.reason == "Setup problem: couldn't find command: no-such-program-pyha"


def test_stdin_is_closed_unless_input_given() -> None:
    assert ProcessRunner().run(["cat"]).stdout == ""
    assert ProcessRunner().run(["cat"], input="hello").stdout == "hello"


def test_environment_is_reset_and_keeps_no_instance_parameters() -> None:
    environ = {
        "OCF_RESKEY_password": "s3cret",
        "OCF_RESOURCE_INSTANCE": "r1",
        "PATH": "/evil",
        "LD_PRELOAD": "/evil.so",
        "HA_LOGFILE": "/x",
    }
    out = ProcessRunner(environ=environ).run(["env"]).stdout
    lines = set(out.splitlines())
    assert "PATH=/usr/sbin:/usr/bin:/sbin:/bin" in lines
    assert "LC_ALL=C" in lines and "OCF_RESOURCE_INSTANCE=r1" in lines
    assert "HA_LOGFILE=/x" in lines
    assert not any(line.startswith(("OCF_RESKEY_password", "LD_PRELOAD")) for line in lines)
    assert base_env({"X": "1"}, {})["X"] == "1"


def test_timeout_kills_the_whole_process_group(tmp_path: object) -> None:
    marker = os.path.join(str(tmp_path), "grandchild.pid")
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as info:
        ProcessRunner().run(["sh", "-c", f"sleep 30 & echo $! > {marker}; wait"], timeout=0.5)
    assert time.monotonic() - started < 5
    assert "timed out after" in info.value.reason and "sh -c" in info.value.reason
    with open(marker) as f:
        grandchild = int(f.read())
    for _ in range(100):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.02)
    else:
        pytest.fail("the grandchild survived the timeout")


def test_deadline_caps_each_command() -> None:
    deadline = Deadline(2.0)  # margin 1 s: budget 1 s
    assert 0.9 < deadline.remaining() <= 1.0
    runner = ProcessRunner(deadline)
    with pytest.raises(CommandTimeout):
        runner.run(["sleep", "5"])
    assert deadline.remaining() == 0.0 and deadline.expired()


def test_deadline_margin_rules() -> None:
    assert Deadline(20.0).budget_s == 18.0
    assert Deadline(120.0).budget_s == 115.0
    assert Deadline(1.0).budget_s == 0.5
    assert Deadline.from_timeout_ms(None, 30).total_s == 30
    assert Deadline.from_timeout_ms(5000, 30).total_s == 5


def test_secrets_are_redacted_from_failure_reasons() -> None:
    runner = ProcessRunner(secrets=["hunter2"])
    with pytest.raises(CommandFailed) as info:
        runner.run(["sh", "-c", "echo bad password hunter2 >&2; exit 1"])
    assert "hunter2" not in info.value.reason and "<redacted>" in info.value.reason


def test_describe_failure_and_quoting() -> None:
    assert describe_failure(["/usr/bin/x"], -9, "") == "x killed by SIGKILL"
    assert describe_failure(["x"], 127, "") == "x not found (rc 127)"
    assert quote_argv(["ip", "addr", "a b", "it's", ""]) == "ip addr 'a b' 'it'\"'\"'s' ''"


def _marker_pid(path: str) -> int | None:
    for _ in range(100):
        try:
            with open(path) as f:
                text = f.read().strip()
            if text:
                return int(text)
        except OSError:
            pass
        time.sleep(0.02)
    return None


def test_timeout_also_kills_descendants_that_left_the_session(tmp_path: object) -> None:
    """setsid would take a descendant out of the killed process group; it still holds
    the command's output pipe, and that is how it is found."""
    marker = os.path.join(str(tmp_path), "escaped.pid")
    script = f'setsid sh -c "echo \\$\\$ > {marker}; exec sleep 300" & exec sleep 300'
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        ProcessRunner(Deadline(2.0)).run(["sh", "-c", script])
    assert time.monotonic() - started < 2.0
    escaped = _marker_pid(marker)
    assert escaped is not None
    try:
        for _ in range(100):
            if process_state(escaped) in ("Z", "gone"):
                break
            time.sleep(0.02)
        else:
            pytest.fail(f"the escaped descendant {escaped} still runs")
    finally:
        if os.path.exists(f"/proc/{escaped}") and "sleep" in _cmdline(escaped):
            os.kill(escaped, 9)


def test_a_daemon_holding_the_pipe_does_not_keep_the_command_waiting(tmp_path: object) -> None:
    marker = os.path.join(str(tmp_path), "daemon.pid")
    script = f'setsid sh -c "echo \\$\\$ > {marker}; exec sleep 5" & echo done'
    started = time.monotonic()
    result = ProcessRunner(Deadline(20.0)).run(["sh", "-c", script])
    assert time.monotonic() - started < 1.0
    assert (result.returncode, result.stdout) == (0, "done\n")
    daemon = _marker_pid(marker)
    assert daemon is not None and "sleep" in _cmdline(daemon), "a daemon is left alone"
    os.kill(daemon, 9)


def test_deadline_kill_grace_never_passes_pacemakers_timeout() -> None:
    assert Deadline(60.0).kill_grace() == 2.0
    d = Deadline(3.0, clock=lambda: 0.0)
    assert d.budget_s == 2.0 and d.kill_grace() == 2.0
    late = [0.0]
    d = Deadline(3.0, clock=lambda: late[0])
    late[0] = 2.0  # the budget is spent: 1 s until Pacemaker kills the action
    assert d.kill_grace() == 0.75
    late[0] = 2.9
    assert d.kill_grace() == 0.0


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""


def test_exit_status_of_a_command_that_closed_its_output_early() -> None:
    """The wait after the output closed must not mistake 'not exited yet' for rc 0."""
    result = ProcessRunner().run(["sh", "-c", "exec >&- 2>&-; sleep 0.3; exit 3"], ok=None)
    assert result.returncode == 3


def test_wait_until_polls_quickly_then_gives_up_in_time() -> None:
    calls = []

    def third_time() -> bool:
        calls.append(time.monotonic())
        return len(calls) == 3

    started = time.monotonic()
    assert Deadline(20.0).wait_until(third_time)
    assert len(calls) == 3 and time.monotonic() - started < 0.1  # 5, then 10 ms pauses
    started = time.monotonic()
    assert not Deadline(20.0).wait_until(lambda: False, within=0.3)
    assert 0.3 <= time.monotonic() - started < 0.45
    started = time.monotonic()
    assert not Deadline(3.0).wait_until(lambda: False, keep=1.8)  # budget 2 s, keep 1.8 s
    assert 0.2 <= time.monotonic() - started < 0.35

    def broken() -> bool:
        raise OSError("gone")

    with pytest.raises(OSError):
        Deadline(20.0).wait_until(broken)


_WITHOUT_PIDFD = r"""
import os, sys, time
sys.path.insert(0, sys.argv[2])
# A kernel before 5.3, or a container whose seccomp profile refuses pidfd_open: the
# runner must reap by polling, with the same results.
refused = sys.argv[1] == "refused"
if refused:
    def pidfd_open(pid, flags=0):
        raise OSError(38, "Function not implemented")
    os.pidfd_open = pidfd_open
else:
    del os.pidfd_open
from ocflib.errors import CommandTimeout
from ocflib.run import ProcessRunner
runner = ProcessRunner()
late = runner.run(["sh", "-c", "exec >&- 2>&-; sleep 0.3; exit 3"], ok=None)
print(late.returncode)
print(runner.run(["sh", "-c", "echo out; exit 4"], ok=None).stdout.strip())
began = time.monotonic()
for _ in range(20):
    runner.run(["true"])
print(f"{(time.monotonic() - began) / 20:.4f}")
began = time.monotonic()
try:
    runner.run(["sh", "-c", "exec >&- 2>&-; exec sleep 30"], timeout=0.5)
except CommandTimeout:
    print(f"timeout {time.monotonic() - began:.2f}")
"""


@pytest.mark.parametrize("kernel", ["absent", "refused"])
def test_without_pidfds_commands_are_still_reaped_promptly(kernel: str) -> None:
    """Where the runner cannot have a pidfd (no os.pidfd_open, or the call refused),
    it polls for the exit: the same exit codes and output, no more than a few
    milliseconds per command, and the deadline still holds."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, "-I", "-c", _WITHOUT_PIDFD, kernel, root],
        capture_output=True,
        text=True,
        cwd=root,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    code, out, per_command, timeout = result.stdout.splitlines()
    assert (code, out) == ("3", "out")
    assert float(per_command) < 0.05, per_command
    assert timeout.startswith("timeout") and 0.5 <= float(timeout.split()[1]) < 1.5, timeout
