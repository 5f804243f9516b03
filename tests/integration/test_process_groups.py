"""ocflib.proc.end_group with real processes: what a launcher left in its process
group is ended after the launcher itself has exited (an SST's rsync daemon or
socat outliving a stopped server); a process of another group is not touched."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

from ocflib import pidfiles, proc
from ocflib.run import spawn_detached


def alive(pid: int) -> bool:
    p = proc.process(pid)
    return p is not None and not p.zombie


def test_a_launcher_s_leftovers_end_and_nothing_else(tmp_path: Any) -> None:
    record = str(tmp_path / "launcher")
    # The launcher starts two helpers in the background, then leaves.
    launcher = spawn_detached(["sh", "-c", "sleep 300 & sleep 300 & sleep 0.5"], {})
    proc.write_pidfile(record, launcher)
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        os.waitpid(launcher, 0)
        end = time.monotonic() + 5
        left: list[int] = []
        while time.monotonic() < end and len(left) < 2:
            left = [
                pid
                for pid in (int(n) for n in os.listdir("/proc") if n.isdigit())
                if (p := proc.process(pid)) is not None and p.pgid == launcher and not p.zombie
            ]
            time.sleep(0.05)
        assert len(left) == 2, left  # the helpers outlived their launcher
        assert sorted(proc.end_group(record)) == sorted(left)
        assert proc.wait_gone([p for pid in left if (p := proc.process(pid))], 5.0)
        assert alive(other.pid)
        assert proc.end_group(record) == []  # nothing left: nothing signalled
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()


def test_a_reused_pid_is_not_the_group(tmp_path: Any) -> None:
    """The record names a pid that another process (another start time) has now:
    nothing is signalled, even though that process leads a group of that id."""
    other = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        ticks = proc.start_ticks(other.pid)
        assert ticks is not None
        pidfiles.write_private_file(str(tmp_path / "launcher"), f"{other.pid} {ticks + 1}\n")
        assert proc.end_group(str(tmp_path / "launcher")) == []
        assert alive(other.pid)
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()
