"""Every effect an agent has on its node, as one Protocol each: the seams.

An agent reaches the world only through the ``ocflib.world.World`` its
dispatcher hands it (as ``ctx.runner``, ``ctx.procs``, ``ctx.clock``...). Each
seam below has one real implementation in the library and one strict fake in
``tests/fakes.py``; both implement the Protocol, neither subclasses the other,
so a method added here reaches a unit test only when its fake has it.

This module is read by type checkers only: it costs an agent nothing at run time.
The table of seams in docs/design.md is checked against it by a test.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
    from typing import Any, Protocol

    from ocflib.accounts import Account
    from ocflib.holders import FileSystem, Holder, Pinned
    from ocflib.ipaddr import IPAddr
    from ocflib.mounts import Mount
    from ocflib.mysqlwire import PingResult
    from ocflib.pidfiles import PidFile
    from ocflib.proc import Process
    from ocflib.run import Result

    class Runner(Protocol):
        """Commands (ocflib.run.ProcessRunner): argv lists, never a shell, bounded
        by the action's deadline."""

        def run(
            self,
            argv: Sequence[str],
            *,
            input: str | None = None,
            ok: Collection[int] | None = (0,),
            timeout: float | None = None,
            env: Mapping[str, str] | None = None,
        ) -> Result: ...

        def start(
            self,
            argv: Sequence[str],
            *,
            input: str | None = None,
            ok: Collection[int] | None = (0,),
            timeout: float | None = None,
            env: Mapping[str, str] | None = None,
        ) -> Running: ...

        def which(self, program: str) -> str | None: ...

    class Running(Protocol):
        """A command started by Runner.start: result() is what run() would return."""

        def result(self) -> Result: ...

    class Clock(Protocol):
        """Time (ocflib.run.SystemClock): the monotonic clock, pauses, wall time."""

        def monotonic(self) -> float: ...

        def sleep(self, seconds: float) -> None: ...

        def time(self) -> float: ...

    class Processes(Protocol):
        """The node's processes (ocflib.processes.Processes): identify before signalling,
        spawn and fork, pid files of our own, holders of a file system."""

        def read_pid_file(self, path: str, limit: int = 64) -> PidFile | None: ...

        def process(self, pid: int) -> Process | None: ...

        def gone(self, p: Process) -> bool: ...

        def identify(
            self, pid_file: PidFile, programs: Collection[str], uids: Collection[int]
        ) -> tuple[Process | None, str]: ...

        def send_signal(self, p: Process, sig: int) -> bool: ...

        def wait_gone(
            self, procs: Iterable[Process], limit_s: float, *, step: float = 0.01
        ) -> bool: ...

        def kill_session(self, leader: Process, sig: int = 9) -> None: ...

        def end_group(self, path: str, sig: int = 9) -> list[int]: ...

        def spawn(self, argv: Sequence[str], environ: Mapping[str, str]) -> int: ...

        def fork(self, work: Callable[[], int]) -> int: ...

        def reap(self, pid: int) -> int | None: ...

        def kill_child(self, pid: int) -> None: ...

        def write_pidfile(self, path: str, pid: int) -> None: ...

        def read_pidfile(self, path: str) -> Process | None: ...

        def remove_own_file(
            self, path: str, log_warning: Callable[..., object] | None = None
        ) -> bool: ...

        def stop_pidfile_process(
            self, path: str, wait_s: float = 1.0, log_warning: Callable[..., object] | None = None
        ) -> bool: ...

        def locate(self, ours: Mount) -> FileSystem: ...

        def find_holders(
            self, fs: FileSystem, *, own_mount: int | None = None, elsewhere_only: bool = False
        ) -> list[Holder]: ...

        def pin_namespace(self, namespace: str, pid: int) -> Pinned | None: ...

    class Mounts(Protocol):
        """The mount table and block devices (ocflib.mounts.SystemMounts)."""

        def table(self) -> list[Mount]: ...

        def device_number(self, path: str) -> int | None: ...

        def supports(self, fstype: str) -> bool: ...

    class Network(Protocol):
        """Interfaces and neighbour discovery (ocflib.arp.SystemNetwork)."""

        def nic_exists(self, nic: str) -> bool: ...

        def probe_ipv4_in_use(self, nic: str, ip: IPAddr, timeout_ms: int) -> str | None: ...

        def send_gratuitous_arp(
            self, nic: str, ip: IPAddr, count: int, interval_ms: int
        ) -> int: ...

        def send_unsolicited_na(
            self, nic: str, ip: IPAddr, count: int, interval_ms: int
        ) -> int: ...

    class Host(Protocol):
        """Who the agent runs as and where the node's own configuration files are
        (ocflib.world.SystemHost)."""

        @property
        def hosts_file(self) -> str: ...

        @property
        def clustercheck_files(self) -> Sequence[str]: ...

        def euid(self) -> int: ...

    class DrbdNode(Protocol):
        """The DRBD module's state files (ocflib.drbdnode.SystemDrbd)."""

        def module_version(self) -> tuple[int, int, int] | None: ...

        def device_holders(self, minors: Iterable[int]) -> list[str]: ...

    class Accounts(Protocol):
        """Users and groups (ocflib.accounts.SystemAccounts)."""

        def user(self, name: str) -> Account | None: ...

        def group(self, name: str) -> int | None: ...

        def groups(self, name: str) -> frozenset[int]: ...

    class Sql(Protocol):
        """SQL connections (ocflib.sqlclient.PyMySql)."""

        @property
        def error(self) -> type[Exception]: ...

        def ping(
            self, unix_socket: str, user: str, password: str, timeout: float
        ) -> PingResult: ...

        def query(
            self,
            unix_socket: str,
            user: str,
            password: str,
            sql: str,
            timeout: float,
            verify_peer: Callable[[int, int], str | None],
        ) -> PingResult: ...

        def connect(
            self,
            *,
            unix_socket: str,
            user: str,
            password: str,
            timeout: float,
            ssl: bool,
            verify_peer: Callable[[int, int], str | None],
        ) -> Any: ...


__all__ = [
    "Runner",
    "Running",
    "Clock",
    "Processes",
    "Mounts",
    "Network",
    "Host",
    "DrbdNode",
    "Accounts",
    "Sql",
]
