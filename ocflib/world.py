"""The world an agent acts on: one object holding every seam (ocflib.seams).

Agent.dispatch takes one World. Production passes none and gets the node's real
seams, each built the first time an action asks for it (a monitor that never
looks at the mount table never imports it). Unit tests pass a World of strict
fakes (tests/fakes.py: fake_world), so nothing reaches the machine.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

    from ocflib.log import Log
    from ocflib.seams import (
        Accounts,
        Clock,
        DrbdNode,
        Host,
        Mounts,
        Network,
        Processes,
        Runner,
        Sql,
    )

__all__ = ["World", "SystemHost"]


class SystemHost:
    """The host seam (Context.host): this process's effective uid and the node's
    configuration files an agent reads."""

    # Read (never resolved through DNS) to tell a node's address among Galera's members.
    hosts_file = "/etc/hosts"
    # clustercheck's credentials, the fallback for galera's check_user/check_passwd.
    clustercheck_files = ("/etc/sysconfig/clustercheck", "/etc/default/clustercheck")

    def euid(self) -> int:
        return os.geteuid()


def _system_clock() -> Clock:
    from ocflib.run import SystemClock

    return SystemClock()


def _system_procs() -> Processes:
    from ocflib.processes import Processes

    return Processes()


def _system_sql() -> Sql:
    from ocflib.sqlclient import PyMySql

    return PyMySql()


def _system_accounts() -> Accounts:
    from ocflib.accounts import SystemAccounts

    return SystemAccounts()


def _system_mounts() -> Mounts:
    from ocflib.mounts import SystemMounts

    return SystemMounts()


def _system_net() -> Network:
    from ocflib.arp import SystemNetwork

    return SystemNetwork()


def _system_drbd() -> DrbdNode:
    from ocflib.drbdnode import SystemDrbd

    return SystemDrbd()


class World:
    """Every seam of one agent run. A seam not given is the node's own, built when
    first used; runner and log, when not given, are built by the dispatcher (they
    depend on the action's deadline and the resource's log settings)."""

    __slots__ = (
        "runner",
        "log",
        "out",
        "err",
        "_clock",
        "_procs",
        "_sql",
        "_accounts",
        "_mounts",
        "_net",
        "_host",
        "_drbd",
    )

    def __init__(
        self,
        *,
        runner: Runner | None = None,
        log: Log | None = None,
        out: TextIO | None = None,
        err: TextIO | None = None,
        clock: Clock | None = None,
        procs: Processes | None = None,
        sql: Sql | None = None,
        accounts: Accounts | None = None,
        mounts: Mounts | None = None,
        net: Network | None = None,
        host: Host | None = None,
        drbd: DrbdNode | None = None,
    ) -> None:
        self.runner = runner
        self.log = log
        # where an action prints (status' running/stopped) and the exit reason goes
        self.out: TextIO = sys.stdout if out is None else out
        self.err: TextIO = sys.stderr if err is None else err
        self._clock = clock
        self._procs = procs
        self._sql = sql
        self._accounts = accounts
        self._mounts = mounts
        self._net = net
        self._host = host
        self._drbd = drbd

    @property
    def clock(self) -> Clock:
        """Time: the monotonic clock, pauses, the wall clock."""
        if self._clock is None:
            self._clock = _system_clock()
        return self._clock

    @property
    def procs(self) -> Processes:
        """The node's processes, pid files and holders of file systems."""
        if self._procs is None:
            self._procs = _system_procs()
        return self._procs

    @property
    def sql(self) -> Sql:
        """SQL connections (pymysql, imported when first used)."""
        if self._sql is None:
            self._sql = _system_sql()
        return self._sql

    @property
    def accounts(self) -> Accounts:
        """Users and groups."""
        if self._accounts is None:
            self._accounts = _system_accounts()
        return self._accounts

    @property
    def mounts(self) -> Mounts:
        """The mount table, block devices, file system types."""
        if self._mounts is None:
            self._mounts = _system_mounts()
        return self._mounts

    @property
    def net(self) -> Network:
        """Network interfaces and raw-socket announcements."""
        if self._net is None:
            self._net = _system_net()
        return self._net

    @property
    def host(self) -> Host:
        """The effective uid and the node's configuration files."""
        if self._host is None:
            self._host = SystemHost()
        return self._host

    @property
    def drbd(self) -> DrbdNode:
        """The DRBD module's state files."""
        if self._drbd is None:
            self._drbd = _system_drbd()
        return self._drbd


# The seams a World holds, by attribute: (Protocol in ocflib.seams, real factory).
SEAMS: dict[str, tuple[str, Callable[[], object]]] = {
    "clock": ("Clock", _system_clock),
    "procs": ("Processes", _system_procs),
    "sql": ("Sql", _system_sql),
    "accounts": ("Accounts", _system_accounts),
    "mounts": ("Mounts", _system_mounts),
    "net": ("Network", _system_net),
    "host": ("Host", SystemHost),
    "drbd": ("DrbdNode", _system_drbd),
}
