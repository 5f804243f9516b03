"""IPaddr2-py's exit codes and commands, row by row of IPaddr2's behaviour (fake runner).

The network seam (raw sockets, interface lookup), the fork of the background
announcer and the effective uid are strict fakes; every `ip` call is scripted.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from ocflib.agents import ipaddr2
from ocflib.exitcodes import OCF
from tests.conftest import Outcome, dispatch
from tests.fakes import FakeHost, FakeNetwork, FakeProcesses, FakeRunner, ocf_env

AGENT = ipaddr2.AGENT
BASE4 = "3: eth0    inet 192.0.2.1/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever preferred_lft forever"
VIP4 = "3: eth0    inet 192.0.2.50/24 brd 192.0.2.255 scope global secondary eth0\\       valid_lft forever preferred_lft forever"
ROUTE4 = "192.0.2.0/24 dev eth0 proto kernel src 192.0.2.1 \n"
ADDR4 = ["ip", "-o", "-f", "inet", "addr", "show"]
ROUTE4_CMD = ["ip", "-o", "-f", "inet", "route", "list", "match", "192.0.2.50", "scope", "link"]
ADD4 = ["ip", "-f", "inet", "addr", "add", "192.0.2.50/24", "brd", "192.0.2.255", "dev", "eth0"]
LINK_UP = ["ip", "link", "set", "eth0", "up"]
DEL4 = ["ip", "-f", "inet", "addr", "delete", "192.0.2.50/24", "dev", "eth0"]


class Net:
    """The test's world: the network (FakeNetwork: what would have gone on the wire),
    the processes (what was forked or spawned) and the effective uid."""

    def __init__(self) -> None:
        self.net = FakeNetwork({"eth0", "eth1", "lo"})
        self.procs = FakeProcesses()
        self.host = FakeHost()

    @property
    def nics(self) -> set[str]:
        return self.net.nics

    @property
    def owner(self) -> str | None:
        return self.net.owner

    @owner.setter
    def owner(self, mac: str | None) -> None:
        self.net.owner = mac

    @property
    def probes(self) -> list[tuple[str, str, int]]:
        return self.net.probes

    @property
    def sent(self) -> list[tuple[str, str, str, int]]:
        return self.net.sent

    @property
    def background(self) -> list[tuple[Any, ...]]:
        """What went to the background: built-in announcers forked (nic, ip, None,
        (kind, count, interval)) and external senders spawned (argv)."""
        forked = [
            (a.want.nic, a.want.ip.text, None, a.builtin)
            for a in self.procs.forked
            if isinstance(a, ipaddr2.Announcer)
        ]
        return forked + [("eth0", "192.0.2.50", argv, None) for argv in self.procs.spawned]


@pytest.fixture
def net(tmp_path: Any) -> Generator[Net]:
    rec = Net()
    NETS.append((rec, str(tmp_path)))
    yield rec
    NETS.pop()


# The current test's network and its HA_RSCTMP (a temporary directory: the agent's
# bookkeeping files are written for real).
NETS: list[tuple[Net, str]] = []


def env(
    action_interval: int | None = None, tmp: str | None = None, **params: str
) -> dict[str, str]:
    e = ocf_env(interval_ms=action_interval, params=params)
    e["HA_RSCTMP"] = tmp or (NETS[-1][1] if NETS else "/nonexistent")
    return e


def run(action: str, fake: FakeRunner, e: dict[str, str]) -> Outcome:
    if not NETS:
        return dispatch(AGENT, action, e, fake)
    w = NETS[-1][0]
    return dispatch(AGENT, action, e, fake, procs=w.procs, net=w.net, host=w.host)


def addrs(fake: FakeRunner, *lines: str, family: str = "inet") -> None:
    fake.expect(["ip", "-o", "-f", family, "addr", "show"], stdout="\n".join(lines) + "\n")


# --- start -----------------------------------------------------------------------


def test_start_adds_with_base_broadcast_probes_and_announces_in_background(
    fake: FakeRunner, net: Net, tmp_path: Any
) -> None:
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(ADD4)
    fake.expect(LINK_UP)
    out = run("start", fake, env(tmp=str(tmp_path), ip="192.0.2.50"))
    assert (out.rc, out.reasons) == (0, [])
    assert net.probes == [("eth0", "192.0.2.50", 100)]
    assert net.background == [("eth0", "192.0.2.50", None, ("arp", 5, 200))]


def test_start_when_already_served_does_nothing(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4, VIP4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    assert run("start", fake, env(ip="192.0.2.50")).rc == 0
    assert net.probes == [] and net.background == []


def test_start_refuses_when_another_host_answers(fake: FakeRunner, net: Net) -> None:
    net.owner = "52:54:00:12:34:56"
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    out = run("start", fake, env(ip="192.0.2.50"))
    assert out.rc == OCF.ERR_GENERIC
    assert out.reason == (
        "192.0.2.50 already in use by 52:54:00:12:34:56 (on eth0); refusing to start; "
        "check_duplicate=false skips this check"
    )


def test_start_without_duplicate_check_and_foreground_announcement(
    fake: FakeRunner, net: Net
) -> None:
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(ADD4)
    fake.expect(LINK_UP)
    out = run(
        "start", fake, env(ip="192.0.2.50", check_duplicate="no", arp_bg="false", arp_count="2")
    )
    assert out.rc == 0 and net.probes == []
    assert net.sent == [("arp", "eth0", "192.0.2.50", 2)]


def test_start_run_arping_collision(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(
        ["arping", "-q", "-c", "2", "-w", "3", "-D", "-I", "eth0", "192.0.2.50"], returncode=1
    )
    out = run("start", fake, env(ip="192.0.2.50", run_arping="true", check_duplicate="false"))
    assert out.rc == 1 and out.reason == "IPv4 address collision 192.0.2.50 [DAD] (arping)"


def test_start_add_failure_is_generic_with_ip_reason(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(ADD4, stderr="RTNETLINK answers: Operation not permitted", returncode=2)
    out = run("start", fake, env(ip="192.0.2.50", check_duplicate="false"))
    assert out.rc == 1
    assert (
        out.reason
        == "Failed to add 192.0.2.50: ip returned 2: RTNETLINK answers: Operation not permitted"
    )


def test_start_no_route_is_generic(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    fake.expect(
        ["ip", "-o", "-f", "inet", "route", "list", "match", "198.51.100.7", "scope", "link"]
    )
    out = run("start", fake, env(ip="198.51.100.7"))
    assert out.rc == OCF.ERR_GENERIC
    assert out.reason.startswith("Unable to find nic or netmask for 198.51.100.7")


def test_start_with_missing_nic_bans_this_node_only(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    out = run("start", fake, env(ip="192.0.2.50", nic="eth9", cidr_netmask="24"))
    assert out.rc == OCF.ERR_ARGS
    assert out.reason == "Invalid interface name [eth9]: it does not exist on this node"


def test_start_as_non_root_is_perm(fake: FakeRunner, net: Net) -> None:
    net.host.uid = 1000
    out = run("start", fake, env(ip="192.0.2.50"))
    assert out.rc == OCF.ERR_PERM and out.reason == "You must be root for start operation."


def test_start_nic_label_netmask_alias_and_given_broadcast(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    fake.expect(
        [
            "ip",
            "-f",
            "inet",
            "addr",
            "add",
            "192.0.2.50/25",
            "brd",
            "+",
            "dev",
            "eth1",
            "noprefixroute",
            "label",
            "eth1:vip",
        ]
    )
    fake.expect(["ip", "link", "set", "eth1", "up"])
    out = run(
        "start",
        fake,
        env(
            ip="192.0.2.50",
            nic="eth1:vip",
            netmask="255.255.255.128",
            broadcast="+",
            noprefixroute="1",
            check_duplicate="0",
        ),
    )
    assert out.rc == 0
    assert out.logged("warning") == [
        "Please convert dotted quad netmask 255.255.255.128 to CIDR notation 25!"
    ]


def test_route_choice_is_longest_prefix_then_first(fake: FakeRunner, net: Net) -> None:
    """resource-agents #2001: several matching routes must not fail."""
    addrs(fake, BASE4)
    fake.expect(
        ROUTE4_CMD,
        stdout=(
            "192.0.2.0/24 dev eth0 proto kernel src 192.0.2.1\n"
            "192.0.2.0/26 dev eth1 proto kernel src 192.0.2.10\n"
            "192.0.2.0/26 dev eth0 proto kernel src 192.0.2.11\n"
            "default dev eth0\n"
        ),
    )
    fake.expect(["ip", "-f", "inet", "addr", "add", "192.0.2.50/26", "dev", "eth1"])
    fake.expect(["ip", "link", "set", "eth1", "up"])
    assert run("start", fake, env(ip="192.0.2.50", check_duplicate="false")).rc == 0


def test_proto_filters_the_routes_as_findif_does(fake: FakeRunner, net: Net) -> None:
    """resource-agents 4.13+: proto=kernel adds `proto kernel` to the route lookup."""
    addrs(fake, BASE4)
    fake.expect(
        [
            "ip",
            "-o",
            "-f",
            "inet",
            "route",
            "list",
            "match",
            "192.0.2.50",
            "proto",
            "kernel",
            "scope",
            "link",
        ],
        stdout=ROUTE4,
    )
    fake.expect(
        ["ip", "-f", "inet", "addr", "add", "192.0.2.50/24", "brd", "192.0.2.255", "dev", "eth0"]
    )
    fake.expect(["ip", "link", "set", "eth0", "up"])
    out = run("start", fake, env(ip="192.0.2.50", proto="kernel", check_duplicate="false"))
    assert out.rc == 0, out.reason
    assert run("validate-all", fake, env(ip="192.0.2.50", proto="kernel; reboot")).rc == 6


def test_loopback_address_uses_the_local_table(fake: FakeRunner, net: Net) -> None:
    addrs(fake, "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever")
    fake.expect(["ip", "-o", "-f", "inet", "route", "list", "match", "127.0.0.2", "scope", "link"])
    fake.expect(
        [
            "ip",
            "-o",
            "-f",
            "inet",
            "route",
            "list",
            "match",
            "127.0.0.2",
            "table",
            "local",
            "scope",
            "host",
        ],
        stdout="local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1\n",
    )
    fake.expect(["ip", "-f", "inet", "addr", "add", "127.0.0.2/8", "dev", "lo"])
    fake.expect(["ip", "link", "set", "lo", "up"])
    assert run("start", fake, env(ip="127.0.0.2")).rc == 0
    assert net.probes == [] and net.background == []  # no ARP on lo


def test_start_ipv6_waits_for_dad_then_sends_na(fake: FakeRunner, net: Net) -> None:
    addrs(fake, "3: eth0    inet6 fe80::1/64 scope link", family="inet6")
    fake.expect(
        [
            "ip",
            "-f",
            "inet6",
            "addr",
            "add",
            "2001:db8::50/64",
            "dev",
            "eth0",
            "preferred_lft",
            "forever",
        ]
    )
    fake.expect(LINK_UP)
    show = ["ip", "-o", "-f", "inet6", "addr", "show", "dev", "eth0", "to", "2001:db8::50/64"]
    fake.expect(
        show, stdout="3: eth0    inet6 2001:db8::50/64 scope global tentative \\ valid_lft forever"
    )
    fake.expect(show, stdout="3: eth0    inet6 2001:db8::50/64 scope global \\ valid_lft forever")
    out = run("start", fake, env(ip="2001:DB8:0::50", nic="eth0", cidr_netmask="64"))
    assert out.rc == 0
    assert net.sent == [("na", "eth0", "2001:db8::50", 5)]  # foreground by default for v6


def test_start_ipv6_dadfailed_rolls_back(fake: FakeRunner, net: Net) -> None:
    addrs(fake, family="inet6")
    fake.expect(
        [
            "ip",
            "-f",
            "inet6",
            "addr",
            "add",
            "2001:db8::50/64",
            "dev",
            "eth0",
            "preferred_lft",
            "forever",
        ]
    )
    fake.expect(LINK_UP)
    fake.expect(
        ["ip", "-o", "-f", "inet6", "addr", "show", "dev", "eth0", "to", "2001:db8::50/64"],
        stdout="3: eth0    inet6 2001:db8::50/64 scope global tentative dadfailed \\ x",
    )
    fake.expect(["ip", "-f", "inet6", "addr", "del", "2001:db8::50/64", "dev", "eth0"])
    out = run("start", fake, env(ip="2001:db8::50", nic="eth0", cidr_netmask="64"))
    assert out.rc == 1 and out.reason.startswith("IPv6 address collision 2001:db8::50 [DAD]")
    assert net.sent == []


def test_start_ipv6_nodad_addrlabel_and_lifetime(fake: FakeRunner, net: Net) -> None:
    addrs(fake, family="inet6")
    fake.expect(["ip", "addrlabel", "add", "prefix", "2001:db8::50", "label", "7"])
    fake.expect(
        [
            "ip",
            "-f",
            "inet6",
            "addr",
            "add",
            "2001:db8::50/64",
            "dev",
            "eth0",
            "nodad",
            "preferred_lft",
            "0",
        ]
    )
    fake.expect(LINK_UP)
    out = run(
        "start",
        fake,
        env(
            ip="2001:db8::50",
            nic="eth0",
            cidr_netmask="64",
            nodad="yes",
            preferred_lft="0",
            lvs_ipv6_addrlabel="true",
            lvs_ipv6_addrlabel_value="7",
            arp_bg="true",
        ),
    )
    assert out.rc == 0 and net.background == [("eth0", "2001:db8::50", None, ("na", 5, 200))]


def test_external_arp_sender_runs_in_background_with_opts(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(ADD4)
    fake.expect(LINK_UP)
    argv = ("arping", "-w", "1;", "rm", "-rf", "/", "-U", "-c", "5", "-I", "eth0", "192.0.2.50")
    net.procs.expect_spawn(argv, 5555)  # argv words, never a shell
    out = run(
        "start",
        fake,
        env(
            ip="192.0.2.50",
            arp_sender="iputils_arping",
            send_arp_opts="-w 1; rm -rf /",
            check_duplicate="false",
        ),
    )
    assert out.rc == 0
    assert net.background == [("eth0", "192.0.2.50", argv, None)]
    assert list(net.procs.pidfiles.values()) == [5555]  # recorded: stop kills exactly it


# --- stop ------------------------------------------------------------------------


def test_stop_removes_the_address(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4, VIP4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(DEL4)
    fake.expect(["ip", "route", "flush", "cache"])
    assert run("stop", fake, env(ip="192.0.2.50", flush_routes="true")).rc == 0


def test_stop_when_not_served_or_no_route_or_no_ip_succeeds(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    assert run("stop", fake, env(ip="192.0.2.50")).rc == 0
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD)
    assert run("stop", fake, env(ip="192.0.2.50")).rc == 0
    assert run("stop", fake, env()).rc == 0
    assert run("stop", fake, env(ip="not-an-ip")).rc == 0


def test_stop_delete_failure_is_generic(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4, VIP4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(DEL4, returncode=2, stderr="RTNETLINK answers: Cannot assign")
    out = run("stop", fake, env(ip="192.0.2.50"))
    assert out.rc == 1 and out.reason.startswith(
        "Unable to remove IP [192.0.2.50] from interface [eth0]"
    )


# --- monitor ---------------------------------------------------------------------


def test_monitor_running_and_stopped(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4, VIP4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    assert run("monitor", fake, env(10000, ip="192.0.2.50")).rc == 0
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    assert run("monitor", fake, env(10000, ip="192.0.2.50")).rc == OCF.NOT_RUNNING


def test_monitor_after_the_nic_vanished_is_1_probe_is_7(fake: FakeRunner, net: Net) -> None:
    """PR #334: a vanished NIC is a failure to recover from (1), not a fatal 6."""
    addrs(fake)
    fake.expect(
        ["ip", "-o", "-f", "inet", "route", "list", "match", "192.0.2.50/24", "scope", "link"]
    )
    out = run("monitor", fake, env(10000, ip="192.0.2.50", cidr_netmask="24"))
    assert out.rc == OCF.ERR_GENERIC
    assert out.reason.startswith("Unable to find nic or netmask for 192.0.2.50")
    addrs(fake)
    fake.expect(ROUTE4_CMD)
    assert run("monitor", fake, env(0, ip="192.0.2.50")).rc == OCF.NOT_RUNNING


def test_monitor_with_nic_and_netmask_needs_one_command(fake: FakeRunner, net: Net) -> None:
    net.nics.discard("eth0")  # existence is not checked on monitor
    addrs(fake, BASE4, VIP4)
    assert run("monitor", fake, env(10000, ip="192.0.2.50", nic="eth0", cidr_netmask="24")).rc == 0


def test_monitor_address_on_another_nic_is_not_running(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4, VIP4.replace("eth0", "eth1"))
    assert run("monitor", fake, env(10000, ip="192.0.2.50", nic="eth0", cidr_netmask="24")).rc == 7


def test_monitor_refresh_sends_arps(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4, VIP4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    assert run("monitor", fake, env(10000, ip="192.0.2.50", arp_count_refresh="2")).rc == 0
    assert net.sent == [("arp", "eth0", "192.0.2.50", 2)]


def test_probe_without_ip_is_not_running(fake: FakeRunner, net: Net) -> None:
    assert run("monitor", fake, env(0)).rc == OCF.NOT_RUNNING
    out = run("monitor", fake, env(10000))
    assert out.rc == OCF.ERR_CONFIGURED and out.reason == "required parameter ip is not set"


def test_status_prints_state(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    out = run("status", fake, env(ip="192.0.2.50"))
    assert (out.rc, out.stdout) == (7, "stopped\n")
    addrs(fake, BASE4, VIP4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    out = run("status", fake, env(ip="192.0.2.50"))
    assert (out.rc, out.stdout) == (0, "running\n")


# --- validation ------------------------------------------------------------------


def test_lvs_ipv6_addrlabel_with_an_ipv4_address_is_ignored_with_a_warning(
    fake: FakeRunner, net: Net
) -> None:
    """resource-agents 4.16 accepts it (4.12 refused it): it acts on IPv6 only."""
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    out = run("validate-all", fake, env(ip="192.0.2.50", lvs_ipv6_addrlabel="true"))
    assert out.rc == 0
    assert out.logged("warning") == [
        "lvs_ipv6_addrlabel applies to IPv6 addresses only: ignored for an IPv4 ip"
    ]


@pytest.mark.parametrize(
    ("params", "meta", "reason"),
    [
        ({"arp_count": "0"}, {}, "parameter arp_count='0' must be at least 1"),
        ({"arp_interval": "x"}, {}, "parameter arp_interval='x' is not an integer"),
        ({"ip": "fe80::5"}, {}, "'nic' parameter is mandatory for a link local address [fe80::5]"),
        ({"ip": "192.0.2.500"}, {}, "parameter ip='192.0.2.500' is not a valid IPv4 address"),
        ({"cidr_netmask": "33"}, {}, "cidr_netmask=33 is out of range 1..32"),
        ({"broadcast": "nope"}, {}, "Invalid broadcast address [nope]"),
        ({"ip": "2001:db8::5", "lvs_support": "true"}, {}, "The IPv6 does not support lvs_support"),
        (
            {"iflabel": "abcdefghijk", "nic": "eth0"},
            {},
            "Interface label [eth0:abcdefghijk] exceeds maximum character limit of 15",
        ),
        (
            {"preferred_lft": "soon"},
            {},
            "Invalid preferred_lft [soon]: use a number of seconds or 'forever'",
        ),
        (
            {"unique_clone_address": "true"},
            {"clone_max": "2", "clone": "0"},
            "unique_clone_address makes sense only with meta globally_unique set",
        ),
        (
            {"lvs_support": "true"},
            {"clone_max": "2", "globally_unique": "true"},
            "LVS and load sharing do not go together well; CLUSTERIP (a clone without "
            "unique_clone_address) is not supported: it needs the ipt_CLUSTERIP kernel module, "
            "removed from Linux in 2023; set unique_clone_address=true with globally-unique=true, "
            "or do not clone",
        ),
        (
            {"arp_sender": "carrier_pigeon"},
            {},
            "parameter arp_sender='carrier_pigeon' must be one of 'send_arp', 'ipoibarping', "
            "'iputils_arping', 'libnet_arping'",
        ),
    ],
)
def test_configuration_errors_are_6_on_start_and_validate(
    fake: FakeRunner, net: Net, params: dict[str, str], meta: dict[str, str], reason: str
) -> None:
    values = {"ip": "192.0.2.50", **params}
    for action in ("start", "validate-all"):
        e = ocf_env(meta=meta, params=values)
        out = dispatch(AGENT, action, e, fake)
        assert (out.rc, out.reason) == (OCF.ERR_CONFIGURED, reason), action
    # ...and never fatal where the resource cannot be running with them.
    assert dispatch(AGENT, "stop", ocf_env(meta=meta, params=values), fake).rc == 0
    probe = ocf_env(interval_ms=0, meta=meta, params=values)
    assert dispatch(AGENT, "monitor", probe, fake).rc == OCF.NOT_RUNNING


def test_unique_clone_address_adds_the_clone_number(fake: FakeRunner, net: Net) -> None:
    addrs(fake, BASE4, VIP4.replace("192.0.2.50", "192.0.2.52"))
    fake.expect(
        ["ip", "-o", "-f", "inet", "route", "list", "match", "192.0.2.52", "scope", "link"],
        stdout=ROUTE4,
    )
    e = ocf_env(
        interval_ms=10000,
        ip="192.0.2.50",
        unique_clone_address="true",
        meta={"clone": "2", "clone_max": "3", "globally_unique": "true"},
    )
    assert dispatch(AGENT, "monitor", e, fake).rc == 0


@pytest.mark.parametrize("depth", [None, "0", "10"])
def test_validate_all_resolves_the_interface_at_every_depth(
    fake: FakeRunner, net: Net, depth: str | None
) -> None:
    # As IPaddr2's validate-all does (findif), also without a depth: crm_resource
    # --validate and pcs pass none.
    e = env(ip="192.0.2.50")
    if depth is not None:
        e["OCF_CHECK_LEVEL"] = depth
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    assert run("validate-all", fake, e).rc == 0
    addrs(fake, BASE4)
    fake.expect(ROUTE4_CMD, stdout="")
    out = run("validate-all", fake, e)
    assert out.rc == OCF.ERR_GENERIC, out.reason
    out = run("validate-all", fake, env(ip="192.0.2.50", nic="eth7"))
    assert out.rc == OCF.ERR_ARGS


def test_missing_ip_program_on_start_is_5_and_probe_is_7(net: Net) -> None:
    fake = FakeRunner(installed=set())
    out = run("start", fake, env(ip="192.0.2.50"))
    assert out.rc == OCF.ERR_INSTALLED and out.reason == "Setup problem: couldn't find command: ip"
    assert run("monitor", fake, env(0, ip="192.0.2.50")).rc == OCF.NOT_RUNNING


def test_unknown_action(fake: FakeRunner, net: Net) -> None:
    assert run("frobnicate", fake, env(ip="192.0.2.50")).rc == OCF.ERR_UNIMPLEMENTED


def test_network_namespace_reexecs_the_action_inside(fake: FakeRunner, net: Net) -> None:
    import sys

    fake.expect(
        ["ip", "netns", "exec", "blue", sys.executable, "-IS", os.path.realpath("agent"), "start"],
        stderr="ocf-exit-reason:Failed to add 192.0.2.50: boom\n",
        returncode=1,
        # the action's environment goes along, without network_namespace (no loop)
        env={
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "test",
            "OCF_RA_VERSION_MAJOR": "1",
            "OCF_RA_VERSION_MINOR": "1",
            "OCF_RESKEY_CRM_meta_timeout": "20000",
            "OCF_RESKEY_ip": "192.0.2.50",
            "HA_RSCTMP": NETS[-1][1],
        },
    )
    out = run("start", fake, env(ip="192.0.2.50", network_namespace="blue"))
    assert (out.rc, out.reason) == (1, "Failed to add 192.0.2.50: boom")


def test_lvs_support_moves_the_loopback_address_and_restores_it(
    fake: FakeRunner, net: Net, tmp_path: Any
) -> None:
    lo = "1: lo    inet 192.0.2.50/32 scope global lo:vip\\       valid_lft forever"
    addrs(fake, BASE4, lo)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    addrs(fake, BASE4, lo)
    fake.expect(["ip", "-f", "inet", "addr", "delete", "192.0.2.50/32", "dev", "lo"])
    fake.expect(["ip", "route", "delete", "192.0.2.50", "dev", "lo"])
    fake.expect(ADD4)
    fake.expect(LINK_UP)
    e = env(tmp=str(tmp_path), ip="192.0.2.50", lvs_support="true", check_duplicate="false")
    assert run("start", fake, e).rc == 0
    saved = tmp_path / "IPaddr2-py-lvs-192.0.2.50"
    assert saved.read_text() == "lo lo:vip\n"
    addrs(fake, BASE4, VIP4)
    fake.expect(ROUTE4_CMD, stdout=ROUTE4)
    fake.expect(DEL4)
    fake.expect(
        [
            "ip",
            "-f",
            "inet",
            "addr",
            "add",
            "192.0.2.50/32",
            "brd",
            "255.255.255.255",
            "dev",
            "lo",
            "label",
            "lo:vip",
        ]
    )
    assert run("stop", fake, e).rc == 0
    assert not saved.exists()
