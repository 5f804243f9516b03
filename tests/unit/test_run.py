"""ProcessRunner against real programs (no fakes: this is the runner itself)."""

from __future__ import annotations

import os
import time

import pytest

from ocflib.errors import CommandFailed, CommandNotFound, CommandTimeout
from ocflib.run import (
    Deadline,
    ProcessRunner,
    base_env,
    describe_failure,
    quote_argv,
    read_pidfile,
    stop_pidfile_process,
    write_pidfile,
)


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
    environ = {"OCF_RESKEY_password": "s3cret", "OCF_RESOURCE_INSTANCE": "r1",
               "PATH": "/evil", "LD_PRELOAD": "/evil.so", "HA_LOGFILE": "/x"}  # fmt: skip
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


def test_pidfile_only_names_the_process_that_wrote_it(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "x.pid")
    pid = os.posix_spawn("/bin/sleep", ["sleep", "30"], dict(os.environ))
    try:
        write_pidfile(path, pid)
        assert read_pidfile(path) == pid
        # A pid file whose start time does not match (pid reuse) names nobody.
        with open(path, "w") as f:
            f.write(f"{pid} 1\n")
        assert read_pidfile(path) is None
        assert not stop_pidfile_process(path)
        assert os.waitpid(pid, os.WNOHANG) == (0, 0), "an unrelated process was signalled"
        write_pidfile(path, pid)
        assert stop_pidfile_process(path)
        assert not os.path.exists(path)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 15
    finally:
        try:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_write_pidfile_replaces_a_planted_symlink_without_following_it(tmp_path: object) -> None:
    victim = os.path.join(str(tmp_path), "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    link = os.path.join(str(tmp_path), "x.pid")
    os.symlink(victim, link)
    write_pidfile(link, os.getpid())
    with open(victim) as f:
        assert f.read() == "precious\n"
    assert not os.path.islink(link)


def test_proc_stat_handles_names_with_spaces_and_parentheses(tmp_path: object) -> None:
    from ocflib.run import is_zombie, proc_stat

    odd = os.path.join(str(tmp_path), "a (b) c")
    os.symlink("/bin/sleep", odd)
    pid = os.posix_spawn(odd, [odd, "30"], dict(os.environ))
    try:
        for _ in range(100):
            stat = proc_stat(pid)
            if stat and stat[0] == "a (b) c":
                break
            time.sleep(0.01)
        assert stat is not None and stat[0] == "a (b) c" and stat[1] in "RS"
        assert stat[2].isdigit() and not is_zombie(pid)
        os.kill(pid, 9)
        time.sleep(0.1)
        assert is_zombie(pid)  # not reaped yet: a zombie
    finally:
        os.waitpid(pid, 0)
    assert proc_stat(pid) is None and is_zombie(pid)
