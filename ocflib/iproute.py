"""Parsers of `ip -o addr` and `ip -o route` output (iproute2), and the choice of a
route: pure functions, tested on recorded output (IPaddr2-py's findif).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["AddrLine", "parse_addr_lines", "Route", "parse_routes", "best_route"]


class AddrLine:
    """One line of `ip -o addr show`."""

    __slots__ = ("ifname", "family", "address", "prefix", "broadcast", "flags", "label")

    def __init__(
        self,
        ifname: str,
        family: str,
        address: str,
        prefix: int,
        broadcast: str | None,
        flags: frozenset[str],
        label: str,
    ) -> None:
        self.ifname = ifname
        self.family = family
        self.address = address
        self.prefix = prefix
        self.broadcast = broadcast
        self.flags = flags
        self.label = label


_ADDR_FLAGS = frozenset(
    (
        "secondary",
        "temporary",
        "tentative",
        "deprecated",
        "dadfailed",
        "nodad",
        "noprefixroute",
        "home",
        "mngtmpaddr",
        "optimistic",
        "dynamic",
        "permanent",
        "autojoin",
        "stable-privacy",
    )
)


def parse_addr_lines(text: str) -> list[AddrLine]:
    """`ip -o addr show` output as AddrLine objects (v4 and v6 lines only)."""
    lines = []
    for raw in text.splitlines():
        words = raw.split("\\", 1)[0].split()
        if len(words) < 4 or words[2] not in ("inet", "inet6"):
            continue
        ifname = words[1].rstrip(":").split("@", 1)[0]
        address, _, prefix_text = words[3].partition("/")
        prefix = int(prefix_text) if prefix_text.isdigit() else (32 if words[2] == "inet" else 128)
        broadcast = None
        flags = set()
        label = ifname
        i = 4
        while i < len(words):
            word = words[i]
            if word in ("brd", "peer", "scope", "metric", "proto") and i + 1 < len(words):
                if word == "brd":
                    broadcast = words[i + 1]
                i += 2
                continue
            if word in _ADDR_FLAGS:
                flags.add(word)
            elif word.startswith(ifname):
                label = word
            i += 1
        lines.append(
            AddrLine(ifname, words[2], address, prefix, broadcast, frozenset(flags), label)
        )
    return lines


class Route:
    """One usable line of `ip -o route list match ...`."""

    __slots__ = ("prefix", "dev", "src")

    def __init__(self, prefix: int, dev: str, src: str | None) -> None:
        self.prefix = prefix
        self.dev = dev
        self.src = src


_ROUTE_TYPES = frozenset(
    (
        "unicast",
        "local",
        "broadcast",
        "multicast",
        "throw",
        "unreachable",
        "prohibit",
        "blackhole",
        "nat",
        "anycast",
    )
)


def parse_routes(text: str, *, table_local: bool = False) -> list[Route]:
    """Routes with a prefix (`dst/len`) and a device, in output order.

    Lines without a prefix (default routes, routes via nexthop lists) are
    ignored, as findif.sh ignores them. In the local table the type word
    ("local") comes first.
    """
    routes = []
    for raw in text.splitlines():
        words = raw.split()
        if not words:
            continue
        if words[0] in _ROUTE_TYPES:
            if not (table_local and words[0] == "local"):
                continue
            words = words[1:]
        if not words or "/" not in words[0]:
            continue
        prefix_text = words[0].rsplit("/", 1)[1]
        if not prefix_text.isdigit():
            continue
        dev = src = None
        for i, word in enumerate(words[:-1]):
            if word == "dev":
                dev = words[i + 1]
            elif word == "src":
                src = words[i + 1]
        if dev:
            routes.append(Route(int(prefix_text), dev, src))
    return routes


def best_route(routes: Sequence[Route], nic: str | None) -> Route | None:
    """The most specific route (on nic, if given); the first among equals.

    Deterministic where findif.sh once failed with "more than 1 matching
    routes" (resource-agents #2001).
    """
    best: Route | None = None
    for route in routes:
        if nic and route.dev != nic:
            continue
        if best is None or route.prefix > best.prefix:
            best = route
    return best
