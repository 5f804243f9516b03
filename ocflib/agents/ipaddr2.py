"""IPaddr2-py: manage a virtual IPv4/IPv6 address with iproute2 (OCF 1.1).

A drop-in replacement for ocf:heartbeat:IPaddr2: same parameters, defaults
and exit codes, plus a duplicate-address probe before start. CLUSTERIP
(cloned without unique_clone_address) is refused: its kernel module is gone.
"""

from __future__ import annotations

import os
import sys

from ocflib.agent import Action, Agent, Context
from ocflib.errors import (
    ArgsError,
    CommandFailed,
    ConfigError,
    GenericError,
    OCFError,
)
from ocflib.exitcodes import OCF
from ocflib.ipaddr import IPAddr, dotted_to_prefix, from_int, parse_ip
from ocflib.iproute import AddrLine, best_route, parse_addr_lines, parse_routes
from ocflib.params import (
    Boolean,
    Config,
    Integer,
    IPAddress,
    Kind,
    Param,
    Problem,
    Select,
    String,
    Time,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ocflib.seams import Network

VERSION = "1.0"

# --- 1. Parameters ----------------------------------------------------------


class Netmask(Kind[int]):
    """A prefix length, or a dotted-quad IPv4 netmask (converted)."""

    def parse(self, text: str) -> int:
        text = text.strip()
        if text.isdigit() and text.isascii() and len(text) <= 3:
            return int(text)
        prefix = dotted_to_prefix(text)
        if prefix is None:
            raise ValueError("is neither a prefix length nor a dotted-quad netmask")
        return prefix


IP = Param(
    "ip",
    IPAddress(),
    required=True,
    unique=True,
    default="",
    shortdesc="IPv4 or IPv6 address",
    longdesc="The IPv4 (dotted quad notation) or IPv6 address (colon hexadecimal "
    'notation) example IPv4 "192.168.1.1". example IPv6 "2001:db8:DC28:0:0:FC57:D4C8:1FFF".',
)
NIC = Param(
    "nic",
    String(max_len=64, forbid="\0\n\t /"),
    shortdesc="Network interface",
    longdesc="The base network interface on which the IP address will be brought "
    "online. If left empty, the interface is chosen from the routing table: the "
    "most specific route that reaches the address. The deprecated form "
    "NIC:LABEL is accepted and sets iflabel.",
)
CIDR_NETMASK = Param(
    "cidr_netmask",
    Netmask(),
    default="",
    aliases=("netmask",),
    shortdesc="CIDR netmask",
    longdesc="The netmask for the interface in CIDR format (e.g., 24 and not "
    "255.255.255.0). A dotted-quad netmask is converted, with a warning. If "
    "unspecified, it is taken from the routing table.",
)
BROADCAST = Param(
    "broadcast",
    String(max_len=64),
    default="",
    shortdesc="Broadcast address",
    longdesc="Broadcast address associated with the IP (IPv4 only). '+' and '-' "
    "set or clear the host bits, as `ip addr add brd` does. If unspecified, the "
    "broadcast of the interface's existing address on the same route is used.",
)
IFLABEL = Param(
    "iflabel",
    String(max_len=15, forbid="\0\n\t /"),
    default="",
    shortdesc="Interface label",
    longdesc="A label for the address: the full label is NIC:LABEL and may not "
    "be longer than 15 characters (the kernel's limit).",
)
PROTO = Param(
    "proto",
    String(max_len=32, allowed="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"),
    default="",
    shortdesc="Proto",
    longdesc="The routing protocol a route must have to be used when finding the "
    "network from the routing table (e.g. kernel), as `ip route list proto` takes it.",
)
LVS_SUPPORT = Param(
    "lvs_support",
    Boolean(),
    default="false",
    shortdesc="Enable support for LVS DR",
    longdesc="Enable support for LVS Direct Routing configurations: on start, "
    "the same address as a /32 on a loopback interface is removed (and "
    "remembered), and restored on stop. IPv4 only.",
)
LVS_IPV6_ADDRLABEL = Param(
    "lvs_ipv6_addrlabel",
    Boolean(),
    default="false",
    shortdesc="Enable adding IPv6 address label.",
    longdesc="Add an IPv6 address label (`ip addrlabel`) so that the address is "
    "not chosen as a source address (IPv6 LVS). IPv6 only.",
)
LVS_IPV6_ADDRLABEL_VALUE = Param(
    "lvs_ipv6_addrlabel_value",
    Integer(min=0),
    default="99",
    shortdesc="IPv6 address label value.",
    longdesc="The label value used with lvs_ipv6_addrlabel.",
)
MAC = Param(
    "mac",
    String(max_len=64),
    default="",
    shortdesc="Cluster IP MAC address",
    longdesc="The multicast MAC of a CLUSTERIP clone. CLUSTERIP relies on the "
    "ipt_CLUSTERIP kernel module, removed from Linux in 2023; IPaddr2-py refuses "
    "that mode. Accepted for configuration compatibility.",
)
CLUSTERIP_HASH = Param(
    "clusterip_hash",
    Select(
        "sourceip",
        "sourceip-sourceport",
        "sourceip-sourceport-destport",
        fallback="sourceip-sourceport",
    ),
    default="sourceip-sourceport",
    shortdesc="Cluster IP hashing function",
    longdesc="The CLUSTERIP hashing algorithm (see mac: CLUSTERIP is not supported).",
)
UNIQUE_CLONE_ADDRESS = Param(
    "unique_clone_address",
    Boolean(),
    default="false",
    shortdesc="Create a unique address for cloned instances",
    longdesc="When cloned with globally-unique=true, add the clone number to the "
    "last byte of the IPv4 address, so each instance manages its own address.",
)
ARP_INTERVAL = Param(
    "arp_interval",
    Integer(min=1),
    default="200",
    shortdesc="ARP/NA packet interval in ms (deprecated)",
    longdesc="Milliseconds between gratuitous ARPs (IPv4) or unsolicited "
    "neighbour advertisements (IPv6).",
)
ARP_COUNT = Param(
    "arp_count",
    Integer(min=1),
    default="5",
    shortdesc="ARP/NA packet count sent during initialization",
    longdesc="Number of gratuitous ARPs / unsolicited NAs sent after the address is added.",
)
ARP_COUNT_REFRESH = Param(
    "arp_count_refresh",
    Integer(min=0),
    default="0",
    shortdesc="ARP packet count sent during monitoring",
    longdesc="Number of gratuitous ARPs sent on each monitor (IPv4 only). 0 sends none.",
)
ARP_BG = Param(
    "arp_bg",
    Boolean(),
    default="",
    shortdesc="ARP/NA from background",
    longdesc="Send the announcements in the background, so start returns at once. "
    "Default: true for IPv4, false for IPv6.",
)
ARP_SENDER = Param(
    "arp_sender",
    Select("", "send_arp", "ipoibarping", "iputils_arping", "libnet_arping"),
    default="",
    shortdesc="ARP sender",
    longdesc="The program that sends gratuitous ARPs: send_arp (resource-agents), "
    "ipoibarping, iputils_arping or libnet_arping. Empty (the default): "
    "IPaddr2-py's built-in sender, which needs no external program.",
)
SEND_ARP_OPTS = Param(
    "send_arp_opts",
    String(max_len=256),
    default="",
    shortdesc="Options for ARP sender",
    longdesc="Extra options for an external arp_sender, split on white space "
    "(never through a shell).",
)
FLUSH_ROUTES = Param(
    "flush_routes",
    Boolean(),
    default="false",
    shortdesc="Flush kernel routing table on stop",
    longdesc="Run `ip route flush cache` after the address is removed. This is for "
    "applications that use the cluster IP address and run on the host that holds it: the "
    "kernel may route their traffic over the loopback shortcut instead of the interface "
    "the address is bound to, and they may go on using connections for some time after "
    "the address is gone. Flushing the cache ends that shortcut at once.",
)
RUN_ARPING = Param(
    "run_arping",
    Boolean(),
    default="false",
    shortdesc="Run arping for IPv4 collision detection check",
    longdesc="Also run iputils `arping -D` before adding an IPv4 address, as "
    "IPaddr2 does (check_duplicate does the same check built in).",
)
NODAD = Param(
    "nodad",
    Boolean(),
    default="false",
    shortdesc="Use nodad flag",
    longdesc="Add the IPv6 address without duplicate address detection.",
)
NOPREFIXROUTE = Param(
    "noprefixroute",
    Boolean(),
    default="false",
    shortdesc="Use noprefixroute flag",
    longdesc="Add the address with noprefixroute: no prefix route is created.",
)
PREFERRED_LFT = Param(
    "preferred_lft",
    String(max_len=16),
    default="forever",
    shortdesc="IPv6 preferred lifetime",
    longdesc="The IPv6 preferred lifetime in seconds, or 'forever'. 0 makes the "
    "address deprecated: it is never chosen as a source address.",
)
NETWORK_NAMESPACE = Param(
    "network_namespace",
    String(max_len=255, forbid="\0\n/"),
    default="",
    shortdesc="Network namespace to use",
    longdesc="Run in this named network namespace (`ip netns exec`). The namespace must "
    "already exist, and the interface to be used must be within it.",
)
CHECK_DUPLICATE = Param(
    "check_duplicate",
    Boolean(),
    default="true",
    shortdesc="Refuse to start when another host holds the address",
    longdesc="Before adding an IPv4 address, probe the segment with ARP (RFC "
    "5227) and refuse to start, with a reason naming the other host's MAC, when "
    "anyone answers for the address. IPv6 addresses rely on the kernel's "
    "duplicate address detection (unless nodad): a duplicate is removed again "
    "and start fails. Not in ocf:heartbeat:IPaddr2.",
)
CHECK_DUPLICATE_TIMEOUT = Param(
    "check_duplicate_timeout",
    Time(),
    default="100ms",
    shortdesc="How long the duplicate probe listens",
    longdesc="How long check_duplicate waits for an answer (two probes are sent "
    "in the first half). A host on the same LAN answers within milliseconds.",
)

PARAMS: Sequence[Param[object]] = (
    IP,
    NIC,
    CIDR_NETMASK,
    BROADCAST,
    PROTO,
    IFLABEL,
    LVS_SUPPORT,
    LVS_IPV6_ADDRLABEL,
    LVS_IPV6_ADDRLABEL_VALUE,
    MAC,
    CLUSTERIP_HASH,
    UNIQUE_CLONE_ADDRESS,
    ARP_INTERVAL,
    ARP_COUNT,
    ARP_COUNT_REFRESH,
    ARP_BG,
    ARP_SENDER,
    SEND_ARP_OPTS,
    FLUSH_ROUTES,
    RUN_ARPING,
    NODAD,
    NOPREFIXROUTE,
    PREFERRED_LFT,
    NETWORK_NAMESPACE,
    CHECK_DUPLICATE,
    CHECK_DUPLICATE_TIMEOUT,
)

# --- 2. Pure helpers: what we want (the parsers of `ip -o` are in ocflib.iproute) --


class Want:
    """The resolved target: address, interface, prefix, broadcast, label."""

    __slots__ = ("ip", "nic", "prefix", "broadcast", "label")

    def __init__(
        self, ip: IPAddr, nic: str, prefix: int, broadcast: str | None, label: str | None
    ) -> None:
        self.ip = ip
        self.nic = nic
        self.prefix = prefix
        self.broadcast = broadcast
        self.label = label

    @property
    def cidr(self) -> str:
        """ADDRESS/PREFIX as ip takes it."""
        return f"{self.ip.text}/{self.prefix}"


def addr_add_argv(want: Want, cfg: Config) -> list[str]:
    """`ip -f FAMILY addr add IP/PREFIX [brd B] dev NIC [nodad] [noprefixroute]
    [label L] [preferred_lft X]`, in IPaddr2's order."""
    argv = ["ip", "-f", want.ip.family, "addr", "add", want.cidr]
    if want.broadcast and want.ip.version == 4:
        argv += ["brd", want.broadcast]
    argv += ["dev", want.nic]
    if want.ip.version == 6 and cfg[NODAD]:
        argv.append("nodad")
    if cfg[NOPREFIXROUTE]:
        argv.append("noprefixroute")
    if want.label:
        argv += ["label", want.label]
    if want.ip.version == 6:
        argv += ["preferred_lft", cfg[PREFERRED_LFT]]
    return argv


def split_nic(nic: str | None) -> tuple[str | None, str | None]:
    """'eth0:lbl' -> ('eth0', 'lbl'): the deprecated nic:label form."""
    if not nic:
        return None, None
    name, sep, label = nic.partition(":")
    return name, (label if sep else None)


def effective_ip(cfg: Config, ctx: Context) -> IPAddr:
    """ip, with unique_clone_address's clone number added to the last byte."""
    ip = cfg[IP]
    if cfg[UNIQUE_CLONE_ADDRESS] and ip.version == 4:
        clone = ctx.env.clone or 0
        last = ip.packed[3] + clone
        if last > 255:
            raise ConfigError(
                f"unique_clone_address: {ip.text} plus clone number {clone} "
                "leaves the last byte's range"
            )
        return from_int(ip.as_int() + clone, 4)
    return ip


# --- 3. Validation ------------------------------------------------------------


def check_config(cfg: Config, ctx: Context) -> list[Problem]:
    """Problems of the configuration itself (rc 6), all of them."""
    problems: list[Problem] = []
    env = ctx.env
    ip = cfg[IP]
    clone_max = env.clone_max if env.is_clone else 1
    nic, nic_label = split_nic(cfg.get(NIC))
    prefix = cfg.get(CIDR_NETMASK)
    if cfg.is_set(CIDR_NETMASK) and prefix is not None:
        raw = (cfg.raw(CIDR_NETMASK) or "").strip()
        if not raw.isdigit():
            ctx.log.warning(
                "Please convert dotted quad netmask %s to CIDR notation %d!", raw, prefix
            )
        if not 1 <= prefix <= ip.max_prefix:
            problems.append(Problem(f"cidr_netmask={raw} is out of range 1..{ip.max_prefix}"))
    if clone_max is None or clone_max < 1:
        problems.append(
            Problem(
                f"Invalid meta-attribute clone_max [{env.meta.get('clone_max')}], "
                "should be positive integer"
            )
        )
        clone_max = 1
    if cfg[LVS_SUPPORT] and clone_max > 1:
        problems.append(Problem("LVS and load sharing do not go together well"))
    if ip.version == 4:
        if cfg[LVS_IPV6_ADDRLABEL]:
            # resource-agents 4.12 refused it (6); 4.16 accepts it (its default became
            # true): it only ever acts on IPv6 addresses, so it is ignored here.
            problems.append(
                Problem(
                    "lvs_ipv6_addrlabel applies to IPv6 addresses only: ignored for an IPv4 ip",
                    rc=OCF.SUCCESS,
                )
            )
        brd = cfg.get(BROADCAST)
        if brd and brd not in ("+", "-"):
            try:
                if parse_ip(brd).version != 4:
                    raise ValueError
            except ValueError:
                problems.append(Problem(f"Invalid broadcast address [{brd}]"))
    else:
        if cfg[LVS_SUPPORT]:
            problems.append(Problem("The IPv6 does not support lvs_support"))
        if ip.is_link_local and not nic:
            problems.append(
                Problem(f"'nic' parameter is mandatory for a link local address [{ip.text}]")
            )
    if cfg[UNIQUE_CLONE_ADDRESS] and not env.globally_unique:
        problems.append(
            Problem("unique_clone_address makes sense only with meta globally_unique set")
        )
    elif cfg[UNIQUE_CLONE_ADDRESS] and ip.version == 4:
        try:
            effective_ip(cfg, ctx)
        except OCFError as err:
            problems.append(Problem(err.reason))
    if clone_max > 1 and not cfg[UNIQUE_CLONE_ADDRESS]:
        problems.append(
            Problem(
                "CLUSTERIP (a clone without unique_clone_address) is not supported: "
                "it needs the ipt_CLUSTERIP kernel module, removed from Linux in 2023; "
                "set unique_clone_address=true with globally-unique=true, or do not clone"
            )
        )
    label = cfg.get(IFLABEL) or nic_label
    if label and nic and len(f"{nic}:{label}") > 15:
        problems.append(
            Problem(f"Interface label [{nic}:{label}] exceeds maximum character limit of 15")
        )
    lft = cfg[PREFERRED_LFT].strip()
    if lft != "forever" and not (lft.isdigit() and lft.isascii()):
        problems.append(
            Problem(f"Invalid preferred_lft [{lft}]: use a number of seconds or 'forever'")
        )
    ns = cfg.get(NETWORK_NAMESPACE)
    if ns in (".", ".."):
        problems.append(Problem(f"Invalid network_namespace [{ns}]"))
    return problems


def check_local(cfg: Config, ctx: Context) -> list[Problem]:
    """Problems of this node: privileges and programs (rc 4/5)."""
    problems: list[Problem] = []
    if ctx.action in ("start", "stop") and ctx.host.euid() != 0:
        problems.append(Problem(f"You must be root for {ctx.action} operation.", OCF.ERR_PERM))
    if ctx.runner.which("ip") is None:
        problems.append(Problem("Setup problem: couldn't find command: ip", OCF.ERR_INSTALLED))
    sender = cfg.get(ARP_SENDER)
    programs = {
        "send_arp": f"{ctx.env.ha_bin}/send_arp",
        "iputils_arping": "arping",
        "libnet_arping": "arping",
        "ipoibarping": "ipoibarping",
    }
    if sender and ctx.runner.which(programs[sender]) is None:
        problems.append(
            Problem(f"Setup problem: couldn't find command: {programs[sender]}", OCF.ERR_INSTALLED)
        )
    if cfg[RUN_ARPING] and cfg[IP].version == 4 and ctx.runner.which("arping") is None:
        problems.append(Problem("Setup problem: couldn't find command: arping", OCF.ERR_INSTALLED))
    return problems


# --- 4. Talking to the kernel ---------------------------------------------------


class NicNotFound(GenericError):
    """findif failed: no interface or prefix could be determined."""


def show_addresses(ctx: Context, family: str, nic: str | None = None) -> list[AddrLine]:
    """`ip -o -f FAMILY addr show [dev NIC]`, parsed."""
    argv = ["ip", "-o", "-f", family, "addr", "show"]
    if nic:
        argv += ["dev", nic]
    return parse_addr_lines(ctx.runner.run(argv).stdout)


def findif(
    cfg: Config, ctx: Context, ip: IPAddr, addrs: Callable[[], list[AddrLine]] | None
) -> Want:
    """Resolve interface, prefix and broadcast the way findif.sh does.

    The sanity check that nic exists runs only for start and validate-all;
    elsewhere a vanished nic surfaces as "no route" (rc 1), never as a
    configuration error (resource-agents PR #334).
    """
    nic, nic_label = split_nic(cfg.get(NIC))
    label = cfg.get(IFLABEL) or nic_label
    prefix = cfg.get(CIDR_NETMASK)
    brd = cfg.get(BROADCAST) or None
    if nic and ctx.action in ("start", "validate-all") and not ctx.net.nic_exists(nic):
        raise ArgsError(f"Invalid interface name [{nic}]: it does not exist on this node")
    if not nic or prefix is None:
        match = ip.text if prefix is None else f"{ip.text}/{prefix}"
        argv = ["ip", "-o", "-f", ip.family, "route", "list", "match", match]
        if cfg.get(PROTO):
            argv += ["proto", str(cfg.get(PROTO))]
        if ip.version == 4:
            argv += ["scope", "link"]
        route = best_route(parse_routes(ctx.runner.run(argv).stdout), nic)
        if route is None and ip.version == 4 and ip.is_loopback:
            argv = [
                "ip",
                "-o",
                "-f",
                "inet",
                "route",
                "list",
                "match",
                match,
                "table",
                "local",
                "scope",
                "host",
            ]
            route = best_route(parse_routes(ctx.runner.run(argv).stdout, table_local=True), nic)
        if route is None:
            where = f" on {nic}" if nic else ""
            raise NicNotFound(
                f"Unable to find nic or netmask for {ip.text}{where}: "
                "no route reaches it; set nic and cidr_netmask"
            )
        nic = nic or route.dev
        if prefix is None:
            prefix = route.prefix
        if brd is None and ip.version == 4 and route.src:
            for line in addrs() if addrs is not None else show_addresses(ctx, "inet"):
                if line.address == route.src and line.broadcast:
                    brd = line.broadcast
                    break
    return Want(ip, nic, prefix, brd, f"{nic}:{label}" if label else None)


def served_on(want: Want, addrs: list[AddrLine]) -> list[AddrLine]:
    """The lines that carry want's address with its prefix (ipsecN ignored)."""
    return [
        a
        for a in addrs
        if a.address == want.ip.text
        and a.prefix == want.prefix
        and not (a.ifname.startswith("ipsec") and a.ifname[5:].isdigit())
    ]


def is_served(want: Want, addrs: list[AddrLine]) -> bool:
    """ip_served: the address (with its prefix) is on exactly want.nic."""
    return any(a.ifname == want.nic for a in served_on(want, addrs))


def resolve(cfg: Config, ctx: Context) -> tuple[Want, list[AddrLine]]:
    """The target and the current addresses of its family."""
    ip = effective_ip(cfg, ctx)
    # The address table is read while findif looks the route up: two `ip` side by side.
    pending = ctx.runner.start(["ip", "-o", "-f", ip.family, "addr", "show"])
    got: list[list[AddrLine]] = []

    def addrs() -> list[AddrLine]:
        if not got:
            got.append(parse_addr_lines(pending.result().stdout))
        return got[0]

    try:
        want = findif(cfg, ctx, ip, addrs)
    except OCFError:
        if not got:
            try:
                addrs()  # reaped, not left behind
            except OCFError:
                pass
        raise
    return want, addrs()


# --- 5. Announcing the address ----------------------------------------------------


def _pidfile(ctx: Context, ip: IPAddr) -> str:
    return os.path.join(ctx.env.rsctmp, f"IPaddr2-py-arp-{ip.text}.pid")


def _rsctmp(ctx: Context) -> str:
    path = ctx.env.rsctmp
    if not os.path.isdir(path):
        os.makedirs(path, mode=0o1755, exist_ok=True)
    return path


def _background(
    ctx: Context, want: Want, work: Sequence[str] | None, builtin: tuple[str, int, int] | None
) -> bool:
    """Run the announcement in a detached child recorded in a pid file.

    stop kills exactly that child (pid and start time must both match). When
    the pid file cannot be written (HA_RSCTMP read-only or full) the child is
    killed again at once and False returned: the caller announces in the
    foreground, and nothing unrecorded is left running.
    """
    pidfile = _pidfile(ctx, want.ip)
    try:
        _rsctmp(ctx)
    except OSError as err:
        ctx.log.warning(
            "cannot create %s (%s): announcing in the foreground", ctx.env.rsctmp, err.strerror
        )
        return False
    if work is not None:
        return _record(ctx, pidfile, ctx.procs.spawn(work, ctx.env.environ))
    if builtin is None:
        raise ValueError("_background needs a command or a built-in announcement")
    return _record(ctx, pidfile, ctx.procs.fork(Announcer(ctx, want, builtin, pidfile)))


class Announcer:
    """The built-in announcement, run in a detached child: what it sends is in its
    attributes (want, builtin = (kind, count, interval_ms))."""

    def __init__(
        self, ctx: Context, want: Want, builtin: tuple[str, int, int], pidfile: str
    ) -> None:
        self.ctx = ctx
        self.want = want
        self.builtin = builtin
        self.pidfile = pidfile

    def __call__(self) -> int:  # in the child
        import signal

        # stop's SIGTERM must end it even where the agent was started with SIGTERM
        # ignored (an ignored signal stays ignored across fork and exec).
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            _announce_builtin(self.ctx.net, self.want, *self.builtin, ctx=self.ctx)
            return 0
        except Exception:  # noqa: BLE001 - reported by the exit code
            return 1
        finally:
            try:
                os.unlink(self.pidfile)
            except OSError:
                pass


def _record(ctx: Context, pidfile: str, pid: int) -> bool:
    """Write the background child's pid file; if that fails, kill the child (our
    own, not yet reaped: its pid cannot have been reused) and say so."""
    try:
        ctx.procs.write_pidfile(pidfile, pid)
        return True
    except OSError as err:
        ctx.log.warning(
            "cannot record the announcer in %s (%s): announcing in the foreground",
            pidfile,
            err.strerror,
        )
    ctx.procs.kill_child(pid)
    return False


def _announce_builtin(
    net: Network, want: Want, kind: str, count: int, interval_ms: int, ctx: Context | None = None
) -> None:
    if kind == "arp":
        net.send_gratuitous_arp(want.nic, want.ip, count, interval_ms)
    else:
        net.send_unsolicited_na(want.nic, want.ip, count, interval_ms)
    if ctx is not None:  # the background child logs for itself
        ctx.log.info(
            "sent %d unsolicited %s for %s on %s",
            count,
            "ARPs" if kind == "arp" else "NAs",
            want.ip.text,
            want.nic,
        )


def external_sender_argv(cfg: Config, ctx: Context, want: Want, count: int) -> list[str]:
    """The command line of an explicitly chosen arp_sender, as IPaddr2 builds it."""
    opts = (cfg.get(SEND_ARP_OPTS) or "").split()
    sender = cfg.get(ARP_SENDER)
    ip = want.ip.text
    if sender == "send_arp":
        return [
            f"{ctx.env.ha_bin}/send_arp",
            *opts,
            "-i",
            str(cfg[ARP_INTERVAL]),
            "-r",
            str(count),
            "-p",
            _pidfile(ctx, want.ip) + ".send_arp",
            want.nic,
            ip,
            "auto",
            "not_used",
            "not_used",
        ]
    if sender == "iputils_arping":
        return ["arping", *opts, "-U", "-c", str(count), "-I", want.nic, ip]
    if sender == "libnet_arping":
        return ["arping", *opts, "-U", "-c", str(count), "-i", want.nic, "-S", ip, ip]
    return ["ipoibarping", "-q", "-c", str(count), "-U", "-I", want.nic, ip]


def announce(cfg: Config, ctx: Context, want: Want, *, refresh: bool = False) -> None:
    """Gratuitous ARP (v4) or unsolicited NA (v6) after start; on monitor,
    arp_count_refresh ARPs in the foreground (v4 only)."""
    if want.nic.startswith("lo"):
        return
    count = cfg[ARP_COUNT_REFRESH] if refresh else cfg[ARP_COUNT]
    if count <= 0 or (refresh and want.ip.version == 6):
        return
    interval = cfg[ARP_INTERVAL]
    background = cfg.get(ARP_BG)
    if background is None:
        background = want.ip.version == 4
    if refresh:
        background = False
    sender = cfg.get(ARP_SENDER)
    if want.ip.version == 4 and sender:
        argv = external_sender_argv(cfg, ctx, want, count)
        if not (background and _background(ctx, want, argv, None)):
            result = ctx.runner.run(argv, ok=None)
            if result.returncode != 0 and sender != "libnet_arping":
                ctx.log.error("Could not send gratuitous arps: rc=%d", result.returncode)
        return
    kind = "arp" if want.ip.version == 4 else "na"
    if background and _background(ctx, want, None, (kind, count, interval)):
        return
    try:
        _announce_builtin(ctx.net, want, kind, count, interval, None)
    except OSError as err:
        if want.ip.version == 6:
            raise GenericError(
                f"sending unsolicited neighbour advertisements failed: {err}"
            ) from err
        ctx.log.error("Could not send gratuitous arps: %s", err)
        return
    ctx.log.log(
        "debug" if refresh else "info",
        "sent %d unsolicited %s for %s on %s",
        count,
        "ARPs" if kind == "arp" else "NAs",
        want.ip.text,
        want.nic,
    )


def stop_announcer(ctx: Context, ip: IPAddr) -> None:
    """Kill a background announcer of this address that we started.

    The built-in announcer keeps SIGTERM's default (fatal) action, whatever the
    agent inherited; an external arp_sender may have inherited it ignored: what
    still runs after a second is killed (a dying process is gone in a millisecond).
    """
    if ctx.procs.stop_pidfile_process(_pidfile(ctx, ip), wait_s=1.0, log_warning=ctx.log.warning):
        ctx.log.info("killed previously running send_arp for %s", ip.text)


# --- 6. Actions -------------------------------------------------------------------


def _in_namespace(cfg: Config, ctx: Context) -> OCF | None:
    """With network_namespace set, run this very action inside it."""
    ns = cfg.get(NETWORK_NAMESPACE)
    if not ns:
        return None
    env = {
        k: v
        for k, v in ctx.env.environ.items()
        if k.startswith(("OCF_", "HA_")) and k != "OCF_RESKEY_network_namespace"
    }
    result = ctx.runner.run(
        ["ip", "netns", "exec", ns, sys.executable, "-IS", ctx.argv0, ctx.action], ok=None, env=env
    )
    if result.stdout:
        ctx.out.write(result.stdout)
    for line in result.stderr.splitlines():
        prefix = ctx.env.exit_reason_prefix
        if line.startswith(prefix):
            raise OCFError(
                line[len(prefix) :],
                rc=OCF(result.returncode) if OCF.is_valid(result.returncode) else OCF.ERR_GENERIC,
            )
    if not OCF.is_valid(result.returncode):
        raise GenericError(
            f"ip netns exec {ns}: returned {result.returncode}: {result.stderr.strip()[:200]}"
        )
    return OCF(result.returncode)


def _remove_conflicting_loopback(ctx: Context, ip: IPAddr) -> None:
    """LVS DR: take IP/32 off lo* and remember it, restored by stop."""
    for line in show_addresses(ctx, "inet"):
        if line.ifname.startswith("lo") and line.address == ip.text and line.prefix == 32:
            ctx.log.info("Removing conflicting loopback %s.", line.ifname)
            path = os.path.join(_rsctmp(ctx), f"IPaddr2-py-lvs-{ip.text}")
            tmp = f"{path}.{os.getpid()}"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                os.write(fd, f"{line.ifname} {line.label}\n".encode())
            finally:
                os.close(fd)
            os.rename(tmp, path)
            ctx.runner.run(
                ["ip", "-f", "inet", "addr", "delete", f"{ip.text}/32", "dev", line.ifname]
            )
            ctx.runner.run(["ip", "route", "delete", ip.text, "dev", line.ifname], ok=None)


def _restore_loopback(ctx: Context, ip: IPAddr) -> None:
    path = os.path.join(ctx.env.rsctmp, f"IPaddr2-py-lvs-{ip.text}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return
    try:
        words = os.read(fd, 256).decode("ascii", "replace").split()
    finally:
        os.close(fd)
    if len(words) >= 1 and words[0].startswith("lo"):
        ctx.log.info("Restoring loopback IP Address %s/32 on %s.", ip.text, words[0])
        argv = [
            "ip",
            "-f",
            "inet",
            "addr",
            "add",
            f"{ip.text}/32",
            "brd",
            "255.255.255.255",
            "dev",
            words[0],
        ]
        if len(words) > 1 and words[1] != words[0]:
            argv += ["label", words[1]]
        ctx.runner.run(argv, ok=None)
    ctx.procs.remove_own_file(path, ctx.log.warning)


def _wait_dad(ctx: Context, want: Want) -> None:
    """Poll IPv6 duplicate address detection: wait for tentative to clear;
    on dadfailed remove the address and fail. Still tentative after 10 s (or
    near the deadline): warn and go on, as IPaddr2 does."""
    argv = ["ip", "-o", "-f", "inet6", "addr", "show", "dev", want.nic, "to", want.cidr]

    def settled() -> bool:
        lines = [
            a for a in parse_addr_lines(ctx.runner.run(argv).stdout) if a.address == want.ip.text
        ]
        flags = lines[0].flags if lines else frozenset()
        if "dadfailed" in flags:
            ctx.runner.run(
                ["ip", "-f", "inet6", "addr", "del", want.cidr, "dev", want.nic], ok=None
            )
            raise GenericError(
                f"IPv6 address collision {want.ip.text} [DAD]: another host on "
                f"{want.nic} already uses it; the address was removed again"
            )
        return "tentative" not in flags

    if not ctx.deadline.wait_until(settled, within=10.0, keep=1.0, first=0.02, step=0.1):
        ctx.log.warning("IPv6 address %s: DAD is still in tentative", want.ip.text)


def start(cfg: Config, ctx: Context) -> OCF:
    """Add the address (idempotent), then announce it."""
    rc = _in_namespace(cfg, ctx)
    if rc is not None:
        return rc
    want, addrs = resolve(cfg, ctx)
    if is_served(want, addrs):
        return OCF.SUCCESS
    ip = want.ip
    if cfg[LVS_SUPPORT]:
        _remove_conflicting_loopback(ctx, ip)
    if ip.version == 4 and not want.nic.startswith("lo"):
        if cfg[CHECK_DUPLICATE]:
            _check_duplicate_v4(cfg, ctx, want)
        if cfg[RUN_ARPING]:
            result = ctx.runner.run(
                ["arping", "-q", "-c", "2", "-w", "3", "-D", "-I", want.nic, ip.text], ok=None
            )
            if result.returncode == 1:
                raise GenericError(f"IPv4 address collision {ip.text} [DAD] (arping)")
    if ip.version == 6 and cfg[LVS_IPV6_ADDRLABEL]:
        value = str(cfg[LVS_IPV6_ADDRLABEL_VALUE])
        result = ctx.runner.run(
            ["ip", "addrlabel", "add", "prefix", ip.text, "label", value], ok=None
        )
        if result.returncode != 0:
            ctx.log.warning("ip addrlabel add prefix %s label %s failed", ip.text, value)
    ctx.log.info("Adding %s address %s to device %s", ip.family, want.cidr, want.nic)
    try:
        ctx.runner.run(addr_add_argv(want, cfg))
        ctx.runner.run(["ip", "link", "set", want.nic, "up"])
    except CommandFailed as err:
        raise GenericError(f"Failed to add {ip.text}: {err.reason}") from err
    if ip.version == 6 and not cfg[NODAD] and not want.nic.startswith("lo"):
        _wait_dad(ctx, want)
    announce(cfg, ctx, want)
    return OCF.SUCCESS


def _check_duplicate_v4(cfg: Config, ctx: Context, want: Want) -> None:
    timeout_ms = max(cfg[CHECK_DUPLICATE_TIMEOUT], 1)
    try:
        owner = ctx.net.probe_ipv4_in_use(want.nic, want.ip, timeout_ms)
    except OSError as err:
        ctx.log.warning("duplicate address probe on %s not possible: %s", want.nic, err)
        return
    if owner is not None:
        # Pacemaker keeps 128 characters of an exit reason: say it within them.
        raise GenericError(
            f"{want.ip.text} already in use by {owner} (on {want.nic}); refusing to "
            "start; check_duplicate=false skips this check"
        )


def stop(cfg: Config, ctx: Context) -> OCF:
    """Remove the address (idempotent)."""
    rc = _in_namespace(cfg, ctx)
    if rc is not None:
        return rc
    ip = effective_ip(cfg, ctx)
    stop_announcer(ctx, ip)
    try:
        want, addrs = resolve(cfg, ctx)
    except NicNotFound as err:
        ctx.log.warning("%s; nothing to stop", err.reason)
        return OCF.SUCCESS
    if not is_served(want, addrs):
        return OCF.SUCCESS
    try:
        ctx.runner.run(["ip", "-f", ip.family, "addr", "delete", want.cidr, "dev", want.nic])
    except CommandFailed as err:
        raise GenericError(
            f"Unable to remove IP [{ip.text}] from interface [{want.nic}]: {err.reason}"
        ) from err
    if cfg[FLUSH_ROUTES]:
        ctx.runner.run(["ip", "route", "flush", "cache"], ok=None)
    if ip.version == 6 and cfg[LVS_IPV6_ADDRLABEL]:
        ctx.runner.run(
            [
                "ip",
                "addrlabel",
                "del",
                "prefix",
                ip.text,
                "label",
                str(cfg[LVS_IPV6_ADDRLABEL_VALUE]),
            ],
            ok=None,
        )
    if cfg[LVS_SUPPORT]:
        _restore_loopback(ctx, ip)
    return OCF.SUCCESS


def monitor(cfg: Config, ctx: Context) -> OCF:
    """0 when the address is on its interface, 7 when not; 1 on a recurring
    monitor whose interface or route vanished (a probe says 7)."""
    rc = _in_namespace(cfg, ctx)
    if rc is not None:
        return rc
    try:
        want, addrs = resolve(cfg, ctx)
    except NicNotFound as err:
        if ctx.is_probe:
            ctx.log.info("%s", err.reason)
            return OCF.NOT_RUNNING
        raise
    if not is_served(want, addrs):
        if not ctx.is_probe:
            elsewhere = [a.ifname for a in served_on(want, addrs)]
            if elsewhere:
                ctx.log.warning("%s is on %s, not on %s", want.cidr, ",".join(elsewhere), want.nic)
        return OCF.NOT_RUNNING
    if cfg[ARP_COUNT_REFRESH] > 0:
        announce(cfg, ctx, want, refresh=True)
    return OCF.SUCCESS


def status(cfg: Config, ctx: Context) -> OCF:
    """LSB-style status: prints running/stopped."""
    rc = monitor(cfg, ctx)
    ctx.out.write("running\n" if rc == OCF.SUCCESS else "stopped\n")
    return rc


def validate(cfg: Config, ctx: Context) -> OCF:
    """validate-all: the checks, then that the interface can be resolved on this
    node, at every depth as IPaddr2 does (findif: 1 when nothing fits)."""
    rc = _in_namespace(cfg, ctx)
    if rc is not None:
        return rc
    nic, _ = split_nic(cfg.get(NIC))
    if nic and not ctx.net.nic_exists(nic):
        raise ArgsError(f"Invalid interface name [{nic}]: it does not exist on this node")
    resolve(cfg, ctx)
    return OCF.SUCCESS


AGENT = Agent(
    "IPaddr2-py",
    version=VERSION,
    shortdesc="Manages virtual IPv4 and IPv6 addresses (Linux specific version)",
    longdesc="This Linux-specific resource manages IP alias IP addresses. It can add "
    "an IP alias, or remove one. In addition, it can implement Cluster Alias IP "
    "functionality if invoked as a clone resource (CLUSTERIP is not supported: "
    "its kernel module was removed from Linux; use unique_clone_address).\n\n"
    "When the address is assigned to its interface, the agent sends unsolicited ARP "
    "(IPv4) or neighbour advertisement (IPv6) packets to tell the neighbours about the "
    "change; the arp_* parameters control both.\n\n"
    "IPaddr2-py is a drop-in replacement for ocf:heartbeat:IPaddr2 written in Python on "
    "ocflib: the same parameters and defaults, and the same exit codes but for these: "
    "an interface named by nic that does not exist on this node is 2 (IPaddr2: 6, "
    "which stops the address on every node); a clone without unique_clone_address "
    "(CLUSTERIP) is 6; a probe on a node without the ip program is 7 (IPaddr2: 5); no "
    "action argument is 2. It also refuses to start when another host on the segment "
    "already answers for the address (check_duplicate).",
    params=PARAMS,
    actions=(
        Action("start", start, timeout=20),
        Action("stop", stop, timeout=20),
        Action("status", status, timeout=20, interval=10, depth=0),
        Action("monitor", monitor, timeout=20, interval=10, depth=0),
        Action("meta-data", timeout=5),
        Action("validate-all", validate, timeout=20),
    ),
    check_config=check_config,
    check_local=check_local,
)
