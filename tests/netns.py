"""Throwaway network namespaces for tests: every one is registered and deleted.

Nothing here touches the root namespace: links and addresses are created
inside namespaces this module made (names start with pyha-t-<pid>-).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
from collections.abc import Iterator, Sequence

_counter = itertools.count()


def sh(*argv: str, check: bool = True, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, text=True, capture_output=True, **kw)  # type: ignore[call-overload, no-any-return]


class Netns:
    """A named network namespace (ip netns) with helpers to run in it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def ip(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return sh("ip", "-n", self.name, *args, check=check)

    def run(
        self, argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.name, *argv],
            env=env,
            text=True,
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, argv: Sequence[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            ["ip", "netns", "exec", self.name, *argv],
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def addresses(self, dev: str | None = None) -> list[str]:
        """ADDRESS/PREFIX of every address (optionally on dev)."""
        args = ["-o", "addr", "show"] + (["dev", dev] if dev else [])
        out = self.ip(*args, check=False).stdout
        return [line.split()[3] for line in out.splitlines() if len(line.split()) > 3]


@contextlib.contextmanager
def namespaces(count: int = 1) -> Iterator[list[Netns]]:
    """count fresh namespaces with lo up; all deleted afterwards."""
    made: list[Netns] = []
    try:
        for _ in range(count):
            ns = Netns(f"pyha-t-{os.getpid()}-{next(_counter)}")
            sh("ip", "netns", "add", ns.name)
            made.append(ns)
            ns.ip("link", "set", "lo", "up")
        yield made
    finally:
        for ns in made:
            sh("ip", "netns", "del", ns.name, check=False)


@contextlib.contextmanager
def lan(hosts: int = 2) -> Iterator[list[Netns]]:
    """A bridge namespace and `hosts` namespaces, each with eth0 on the bridge."""
    with namespaces(hosts + 1) as made:
        bridge, members = made[0], made[1:]
        bridge.ip("link", "add", "br0", "type", "bridge")
        bridge.ip("link", "set", "br0", "up")
        for i, host in enumerate(members):
            bridge.ip(
                "link", "add", f"v{i}", "type", "veth", "peer", "name", "eth0", "netns", host.name
            )
            bridge.ip("link", "set", f"v{i}", "master", "br0", "up")
            host.ip("link", "set", "eth0", "up")
        yield members


@contextlib.contextmanager
def single_host() -> Iterator[Netns]:
    """One namespace with eth0 (a veth whose peer stays inside) and 192.0.2.1/24."""
    with namespaces(1) as (ns,):
        ns.ip("link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
        ns.ip("link", "set", "eth0", "up")
        ns.ip("link", "set", "peer0", "up")
        ns.ip("addr", "add", "192.0.2.1/24", "dev", "eth0")
        yield ns
