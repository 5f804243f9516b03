"""IPaddr2-py vs ocf:heartbeat:IPaddr2 on the same veth in a private network namespace.

The whole case runs inside one network namespace made by unshare, entered by
this process itself (unshare(CLONE_NEWNET) via `ip netns`), so no command
pays for entering a namespace and nothing touches the root namespace.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
from collections.abc import Iterator

from bench.bench import ROOT, Case, Side, Step

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"
PYHA = os.path.join(ROOT, "agents", "IPaddr2-py")
CLONE_NEWNET = 0x40000000


def _env(action_interval_ms: int, **params: str) -> dict[str, str]:
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "bench_vip",
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        "OCF_RESKEY_CRM_meta_interval": str(action_interval_ms),
        "HA_RSCTMP": "/run/resource-agents",
    }
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    return env


@contextlib.contextmanager
def private_netns() -> Iterator[None]:
    """Move this process into a new, empty network namespace (and back)."""
    libc = ctypes.CDLL(None, use_errno=True)
    original = os.open("/proc/self/ns/net", os.O_RDONLY)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    try:
        yield
    finally:
        libc.setns(original, CLONE_NEWNET)
        os.close(original)


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True)


@contextlib.contextmanager
def cases() -> Iterator[list[Case]]:
    os.makedirs("/run/resource-agents", exist_ok=True)
    with private_netns():
        sh("ip", "link", "set", "lo", "up")
        sh("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0")
        sh("ip", "link", "set", "eth0", "up")
        sh("ip", "link", "set", "peer0", "up")
        sh("ip", "addr", "add", "192.0.2.1/24", "dev", "eth0")
        sh("ip", "addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad")

        def monitor(agent: str, ip: str, rc: int) -> Side:
            env = _env(10000, ip=ip)
            return Side(os.path.basename(agent), lambda: [Step([agent, "monitor"], env, rc)])

        def start_stop(agent: str, **params: str) -> Side:
            env = _env(0, **params)
            return Side(
                os.path.basename(agent),
                lambda: [Step([agent, "start"], env), Step([agent, "stop"], env)],
            )

        # Addresses held by each side's monitor case (added once, removed at the end).
        subprocess.run(
            [PYHA, "start"], env=_env(0, ip="192.0.2.60"), check=True, capture_output=True
        )
        subprocess.run(
            [REFERENCE, "start"], env=_env(0, ip="192.0.2.61"), check=True, capture_output=True
        )
        try:
            yield [
                Case(
                    "monitor (running, IPv4)",
                    monitor(PYHA, "192.0.2.60", 0),
                    monitor(REFERENCE, "192.0.2.61", 0),
                ),
                Case(
                    "monitor (stopped, IPv4)",
                    monitor(PYHA, "192.0.2.70", 7),
                    monitor(REFERENCE, "192.0.2.71", 7),
                ),
                Case(
                    "start+stop (IPv4, defaults)",
                    start_stop(PYHA, ip="192.0.2.80"),
                    start_stop(REFERENCE, ip="192.0.2.81"),
                    note="pyha's default includes its 100 ms duplicate-address probe "
                    "(check_duplicate), which the reference does not do",
                ),
                Case(
                    "start+stop (IPv4, check_duplicate=false)",
                    start_stop(PYHA, ip="192.0.2.82", check_duplicate="false"),
                    start_stop(REFERENCE, ip="192.0.2.83"),
                    note="the same work on both sides",
                ),
                Case(
                    "start+stop (IPv6 with DAD, defaults)",
                    start_stop(PYHA, ip="2001:db8::90", nic="eth0", cidr_netmask="64"),
                    start_stop(REFERENCE, ip="2001:db8::91", nic="eth0", cidr_netmask="64"),
                    note="both wait for the kernel's duplicate address detection, then send "
                    "5 NAs 200 ms apart in the foreground (IPaddr2's IPv6 default)",
                ),
                Case(
                    "start+stop (IPv6 nodad, arp_bg=true)",
                    start_stop(
                        PYHA,
                        ip="2001:db8::80",
                        nic="eth0",
                        cidr_netmask="64",
                        nodad="true",
                        arp_bg="true",
                    ),
                    start_stop(
                        REFERENCE,
                        ip="2001:db8::81",
                        nic="eth0",
                        cidr_netmask="64",
                        nodad="true",
                        arp_bg="true",
                    ),
                ),
            ]
        finally:
            subprocess.run(
                [PYHA, "stop"], env=_env(0, ip="192.0.2.60"), capture_output=True, check=False
            )
            subprocess.run(
                [REFERENCE, "stop"], env=_env(0, ip="192.0.2.61"), capture_output=True, check=False
            )
            subprocess.run(["ip", "link", "del", "eth0"], capture_output=True, check=False)
