"""IPaddr2-py fed hostile parameters, in a sandbox where a mistake cannot hurt.

Every value is untrusted input: shell syntax, paths out of where they belong,
option injection. The agent must refuse with a clear reason (or treat the
text as inert data) and leave the machine's files untouched.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import AGENTS_DIR, need
from tests.sandbox import run_sandboxed

pytestmark = pytest.mark.integration
AGENT = os.path.join(AGENTS_DIR, "IPaddr2-py")
NET = (
    "ip link add eth0 type veth peer name peer0 && ip link set eth0 up && "
    "ip link set peer0 up && ip addr add 192.0.2.1/24 dev eth0"
)


@pytest.fixture(autouse=True)
def _tools() -> None:
    need("unshare", "chroot", "ip", root=True)


def test_the_sandbox_contains_and_reports_a_destructive_command() -> None:
    """Positive control: a real deletion is contained and detected."""
    result = run_sandboxed(["/bin/sh", "-c", "rm -f /etc/passwd && echo gone"])
    assert (result.returncode, result.stdout) == (0, "gone\n")
    assert result.changes == ["deleted etc/passwd"]
    assert os.path.exists("/etc/passwd")


@pytest.mark.parametrize(
    ("params", "rc", "reason"),
    [
        (
            {"ip": "192.0.2.50; rm -rf /"},
            6,
            "parameter ip='192.0.2.50; rm -rf /' is not a plain IP address",
        ),
        ({"ip": "$(touch pwned)"}, 6, "parameter ip='$(touch pwned)' is not a valid IPv4 address"),
        ({"ip": "../../etc/passwd"}, 6, "is not a plain IP address"),
        ({"ip": "::1 ; reboot"}, 6, "is not a valid IPv6 address"),
        (
            {"ip": "192.0.2.50", "nic": "../../etc/passwd", "cidr_netmask": "24"},
            6,
            "forbidden characters",
        ),
        ({"ip": "192.0.2.50", "network_namespace": "../../../etc"}, 6, "forbidden characters"),
        ({"ip": "192.0.2.50", "preferred_lft": "forever; reboot"}, 6, "Invalid preferred_lft"),
        ({"ip": "192.0.2.50", "broadcast": "`reboot`"}, 6, "Invalid broadcast address"),
        ({"ip": "192.0.2.50", "cidr_netmask": "24 dev lo"}, 6, "neither a prefix length"),
        ({"ip": "192.0.2.50", "iflabel": "x;rm -rf /;"}, 6, "forbidden characters"),
        ({"ip": "192.0.2.50", "arp_sender": "send_arp; rm -rf /"}, 6, "must be one of"),
        (
            {
                "ip": "192.0.2.50",
                "nic": "eth0",
                "iflabel": "$(id)",
                "cidr_netmask": "24",
                "check_duplicate": "false",
            },
            0,
            None,
        ),
        (
            {
                "ip": "192.0.2.50",
                "arp_sender": "iputils_arping",
                "send_arp_opts": "; rm -rf / #",
                "check_duplicate": "false",
                "arp_bg": "false",
            },
            0,
            None,
        ),
    ],
)
def test_hostile_parameters_change_nothing(
    params: dict[str, str], rc: int, reason: str | None
) -> None:
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "vip",
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        **{f"OCF_RESKEY_{k}": v for k, v in params.items()},
    }
    result = run_sandboxed([AGENT, "start"], env, setup=NET)
    assert result.returncode == rc, result.stderr
    if reason:
        assert "ocf-exit-reason:" in result.stderr and reason in result.stderr
    assert result.changes == [], result.changes
