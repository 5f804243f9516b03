"""ocflib.proc against real processes and files: pid files read without trust,
processes identified before any signal, our own pid files."""

from __future__ import annotations

import os
import time
from collections.abc import Generator

import pytest

from ocflib import proc
from ocflib.pidfiles import read_pid_file
from ocflib.proc import (
    identify,
    read_pidfile,
    stop_pidfile_process,
    write_pidfile,
)


@pytest.fixture
def sleeper() -> Generator[int]:
    pid = os.posix_spawn("/bin/sleep", ["sleep", "30"], dict(os.environ))
    yield pid
    try:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def test_a_fifo_at_the_pid_path_is_never_opened(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "x.pid")
    os.mkfifo(path)
    started = time.monotonic()
    got = read_pid_file(path)
    assert time.monotonic() - started < 1.0
    assert got is not None and got.pid is None and got.problem == "is a FIFO"


@pytest.mark.parametrize(
    ("content", "pid", "problem"),
    [
        (b"4242\n", 4242, None),
        (b"  4242  ", 4242, None),
        (b"precious data\n", None, "does not hold a process id"),
        (b"1\n", None, "does not hold a process id"),
        (b"-5\n", None, "does not hold a process id"),
        (b"\xff\xfe", None, "does not hold a process id"),
        (b"9" * 80, None, "is larger than 64 bytes"),
        (b"", None, "does not hold a process id"),
    ],
)
def test_pid_file_content(
    tmp_path: object, content: bytes, pid: int | None, problem: str | None
) -> None:
    path = os.path.join(str(tmp_path), "x.pid")
    with open(path, "wb") as f:
        f.write(content)
    got = read_pid_file(path)
    assert got is not None and (got.pid, got.problem) == (pid, problem)


def test_directories_links_and_absence(tmp_path: object) -> None:
    base = str(tmp_path)
    assert read_pid_file(os.path.join(base, "none.pid")) is None
    assert read_pid_file(os.path.join(base, "no/dir/x.pid")) is None
    os.mkdir(os.path.join(base, "d.pid"))
    got = read_pid_file(os.path.join(base, "d.pid"))
    assert got is not None and got.problem == "is a directory"
    with open(os.path.join(base, "real"), "w") as f:
        f.write(f"{os.getpid()}\n")
    os.symlink(os.path.join(base, "real"), os.path.join(base, "l.pid"))
    got = read_pid_file(os.path.join(base, "l.pid"))
    assert got is not None and got.problem == "is a symbolic link"


def test_identify_checks_program_owner_and_start_time(tmp_path: object, sleeper: int) -> None:
    path = os.path.join(str(tmp_path), "x.pid")
    with open(path, "w") as f:
        f.write(f"{sleeper}\n")
    pid_file = read_pid_file(path)
    assert pid_file is not None
    me = os.geteuid()
    p, why = identify(pid_file, ("sleep",), {me})
    assert p is not None and p.pid == sleeper and why == ""
    assert identify(pid_file, ("mysqld",), {me}) == (
        None,
        f"process {sleeper} is sleep, not mysqld",
    )
    p, why = identify(pid_file, ("sleep",), {me + 12345})
    assert p is None and "belongs to uid" in why
    # A pid file written long before the process started names an older process.
    os.utime(path, (time.time() - 3600, time.time() - 3600))
    old = read_pid_file(path)
    assert old is not None
    p, why = identify(old, ("sleep",), {me})
    assert p is None and "started after" in why


def test_send_signal_never_hits_a_process_that_replaced_it(sleeper: int) -> None:
    p = proc.process(sleeper)
    assert p is not None
    impostor = proc.Process(
        p.pid, p.name, p.state, p.ppid, p.pgid, p.sid, p.start_ticks + 1, p.uid, p.euid, p.exe
    )
    assert not proc.send_signal(impostor, 15)
    assert os.waitpid(sleeper, os.WNOHANG) == (0, 0), "the wrong process was signalled"
    assert proc.send_signal(p, 15)
    _, status = os.waitpid(sleeper, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 15
    assert proc.gone(p) and not proc.send_signal(p, 15)


def test_our_pidfile_only_names_the_process_that_wrote_it(tmp_path: object, sleeper: int) -> None:
    path = os.path.join(str(tmp_path), "x.pid")
    write_pidfile(path, sleeper)
    got = read_pidfile(path)
    assert got is not None and got.pid == sleeper
    # A pid file whose start time does not match (pid reuse) names nobody.
    with open(path, "w") as f:
        f.write(f"{sleeper} 1\n")
    assert read_pidfile(path) is None
    assert not stop_pidfile_process(path)
    assert os.waitpid(sleeper, os.WNOHANG) == (0, 0), "an unrelated process was signalled"
    write_pidfile(path, sleeper)
    assert stop_pidfile_process(path)
    assert not os.path.exists(path)
    _, status = os.waitpid(sleeper, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 15


def test_stop_pidfile_process_in_a_read_only_directory_still_stops(
    tmp_path: object, sleeper: int
) -> None:
    """A bookkeeping file that cannot be removed is logged, never an error."""
    path = os.path.join(str(tmp_path), "x.pid")
    write_pidfile(path, sleeper)
    warnings: list[str] = []
    real_unlink = os.unlink

    def read_only(p: str) -> None:
        raise OSError(30, "Read-only file system", p)

    os.unlink = read_only  # type: ignore[assignment]
    try:
        assert stop_pidfile_process(path, log_warning=lambda *a: warnings.append(a[0] % a[1:]))
    finally:
        os.unlink = real_unlink
    _, status = os.waitpid(sleeper, 0)
    assert os.WIFSIGNALED(status)
    assert warnings == [f"cannot remove {path}: Read-only file system"]


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


def test_process_handles_names_with_spaces_and_parentheses(tmp_path: object) -> None:
    odd = os.path.join(str(tmp_path), "a (b) c")
    os.symlink("/bin/sleep", odd)
    pid = os.posix_spawn(odd, [odd, "30"], dict(os.environ))
    try:
        p = None
        for _ in range(100):
            p = proc.process(pid)
            if p and p.name == "a (b) c":
                break
            time.sleep(0.01)
        assert p is not None and p.name == "a (b) c" and p.state in "RSD"  # D: paging in
        assert p.program == "sleep" and not proc.gone(p)
        assert abs(p.start_time - time.time()) < 5
        os.kill(pid, 9)
        time.sleep(0.1)
        assert proc.gone(p)  # not reaped yet: a zombie
    finally:
        os.waitpid(pid, 0)
    assert proc.process(pid) is None
