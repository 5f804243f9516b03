"""The processes seam (Context.procs): what the agents do to the node's processes.

Gathers ocflib.proc (identify, signal, wait), ocflib.pidfiles (pid files, our own
files) and ocflib.holders (the holders of a file system, other mount namespaces)
behind one object; tests/fakes.py has its strict fake.
"""

from __future__ import annotations

import os

from ocflib import holders, pidfiles, proc
from ocflib.proc import SIGKILL

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping, Sequence

    from ocflib.pidfiles import PidFile
    from ocflib.proc import Process

__all__ = ["Processes"]


class Processes:
    """The node's processes as the agents use them (Context.procs): identify,
    signal, wait, spawn and reap, pid files, holders of a file system. A strict
    fake in tests/fakes.py stands in for it in unit tests."""

    read_pid_file = staticmethod(pidfiles.read_pid_file)
    remove_own_file = staticmethod(pidfiles.remove_own_file)
    process = staticmethod(proc.process)
    gone = staticmethod(proc.gone)
    send_signal = staticmethod(proc.send_signal)
    wait_gone = staticmethod(proc.wait_gone)
    read_pidfile = staticmethod(proc.read_pidfile)
    write_pidfile = staticmethod(proc.write_pidfile)
    stop_pidfile_process = staticmethod(proc.stop_pidfile_process)
    end_group = staticmethod(proc.end_group)
    locate = staticmethod(holders.locate)
    find_holders = staticmethod(holders.find_holders)
    pin_namespace = staticmethod(holders.pin_namespace)

    def identify(
        self, pid_file: PidFile, programs: Collection[str], uids: Collection[int]
    ) -> tuple[Process | None, str]:
        """ocflib.proc.identify, looking processes up here."""
        return proc.identify(pid_file, programs, uids, lookup=self.process)

    def kill_session(self, leader: Process, sig: int = SIGKILL) -> None:
        """Signal the process group of a session leader (a launcher that called
        setsid), if the leader is still the process we identified."""
        if not proc.gone(leader):
            try:
                os.killpg(leader.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def spawn(self, argv: Sequence[str], environ: Mapping[str, str]) -> int:
        """Start argv detached (ocflib.run.spawn_detached); its pid."""
        from ocflib.run import spawn_detached

        return spawn_detached(argv, environ)

    def fork(self, work: Callable[[], int]) -> int:
        """Run work() in a forked child that leaves with its return value (70 if
        it raised) and never returns into the caller; the child's pid."""
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                code = work()
            except BaseException:  # noqa: BLE001, S110 - a child must never unwind
                pass
            finally:
                os._exit(code)
        return pid

    def kill_child(self, pid: int) -> None:
        """SIGKILL our own child (not yet reaped: its pid cannot have been reused)."""
        try:
            os.kill(pid, SIGKILL)
        except ProcessLookupError:
            pass

    def reap(self, pid: int) -> int | None:
        """The exit code of our child pid if it has exited (reaping it), else None."""
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status) if done else None
