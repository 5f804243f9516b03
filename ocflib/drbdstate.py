"""DRBD state, parsed from `drbdsetup events2 --now RES`, and the promotion-score ladder.

Pure logic: the texts come from the caller (the runner's output, the drbd seam's
reads of /proc: ocflib.drbdnode).

One parser for DRBD 9 and for 8.4: drbd-utils 9.x emulates events2 for an
8.4 kernel (drbdsetup-84), with the connection always named `peer`, no
`done:` and no `conn-name:` while StandAlone. DRBD 9 adds node ids, several
peers, diskless clients (`client:yes`) and quorum (`quorum:no`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "Volume",
    "PeerVolume",
    "Peer",
    "State",
    "parse_events2",
    "Ladder",
    "promotion_score",
    "KEEP",
    "parse_version",
    "version_line",
]

# Disk states that give readable, trustworthy data here.
CONSISTENT = frozenset(("UpToDate", "Consistent"))
TRANSITIONAL = frozenset(("Attaching", "Negotiating"))
KEEP = object()  # "leave the score as it is" (a transitional disk state)


class Volume:
    """A local device (one volume of the resource)."""

    __slots__ = ("volume", "minor", "disk", "client", "quorum")

    def __init__(self, volume: str, minor: int, disk: str, client: bool, quorum: bool) -> None:
        self.volume = volume
        self.minor = minor
        self.disk = disk
        self.client = client
        self.quorum = quorum


class PeerVolume:
    """A volume as seen on one peer (a peer-device)."""

    __slots__ = ("volume", "disk", "client", "replication")

    def __init__(self, volume: str, disk: str, client: bool, replication: str) -> None:
        self.volume = volume
        self.disk = disk
        self.client = client
        self.replication = replication


class Peer:
    """A connection to one peer and its volumes."""

    __slots__ = ("node_id", "name", "connection", "role", "volumes")

    def __init__(self, node_id: str, name: str, connection: str, role: str) -> None:
        self.node_id = node_id
        self.name = name
        self.connection = connection
        self.role = role
        self.volumes: list[PeerVolume] = []

    @property
    def connected(self) -> bool:
        return self.connection == "Connected"

    @property
    def client(self) -> bool:
        """A diskless client: every volume of it is diskless by intent."""
        return bool(self.volumes) and all(v.client for v in self.volumes)

    @property
    def all_up_to_date(self) -> bool:
        return bool(self.volumes) and all(v.disk == "UpToDate" for v in self.volumes)

    @property
    def partly_up_to_date(self) -> bool:
        states = [v.disk == "UpToDate" for v in self.volumes]
        return any(states) and not all(states)

    @property
    def disk_unknown(self) -> bool:
        return any(v.disk == "DUnknown" for v in self.volumes)


class State:
    """One resource's state on this node, with the flags drbd.shellfuncs derives."""

    __slots__ = ("name", "role", "suspended", "volumes", "peers")

    def __init__(self, name: str) -> None:
        self.name = name
        self.role = ""
        self.suspended = False
        self.volumes: list[Volume] = []
        self.peers: dict[str, Peer] = {}

    @property
    def configured(self) -> bool:
        """The resource exists in the kernel (it is up, at least in part)."""
        return bool(self.role)

    @property
    def primary(self) -> bool:
        return self.role == "Primary"

    @property
    def minors(self) -> list[int]:
        return [v.minor for v in self.volumes]

    @property
    def disks(self) -> list[str]:
        return [v.disk for v in self.volumes]

    @property
    def real_peers(self) -> list[Peer]:
        """Peers that store data (diskless clients are left out)."""
        return [p for p in self.peers.values() if not p.client]

    @property
    def some_peer_primary(self) -> bool:
        return any(p.role == "Primary" and p.connected for p in self.peers.values())

    @property
    def disk_all_up_to_date(self) -> bool:
        return bool(self.volumes) and all(v.disk == "UpToDate" for v in self.volumes)

    @property
    def disk_all_consistent(self) -> bool:
        return bool(self.volumes) and all(v.disk in CONSISTENT for v in self.volumes)

    @property
    def disk_transitional(self) -> bool:
        return any(v.disk in TRANSITIONAL for v in self.volumes)

    @property
    def diskless_client(self) -> bool:
        return bool(self.volumes) and all(v.disk == "Diskless" and v.client for v in self.volumes)

    @property
    def have_quorum(self) -> bool:
        return all(v.quorum for v in self.volumes)

    @property
    def some_peer_all_up_to_date(self) -> bool:
        return any(p.all_up_to_date for p in self.real_peers)

    @property
    def peer_disk_any_unknown(self) -> bool:
        return any(p.disk_unknown for p in self.real_peers)

    @property
    def peer_disk_all_up_to_date(self) -> bool:
        """Some peer has every volume UpToDate, none is partly so or unknown."""
        peers = self.real_peers
        return any(p.all_up_to_date for p in peers) and not any(
            p.partly_up_to_date or p.disk_unknown for p in peers
        )

    @property
    def all_connected(self) -> bool:
        """Every configured connection is established (True without peers)."""
        return all(p.connected for p in self.peers.values())

    @property
    def standalone(self) -> bool:
        """Some connection is StandAlone (it will not reconnect by itself)."""
        return any(p.connection == "StandAlone" for p in self.peers.values())

    @property
    def data_accessible(self) -> bool:
        """Every volume's data can be read here: locally, or through a
        connected peer whose copy is UpToDate; and (DRBD 9) with quorum."""
        if not self.have_quorum:
            return False
        for vol in self.volumes:
            if vol.disk in CONSISTENT:
                continue
            if not any(
                p.connected and pv.volume == vol.volume and pv.disk == "UpToDate"
                for p in self.peers.values()
                for pv in p.volumes
            ):
                return False
        return True


def _fields(words: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for word in words:
        key, sep, value = word.partition(":")
        if sep:
            out[key] = value
    return out


def parse_events2(text: str, resource: str) -> State:
    """The State of resource from `drbdsetup events2 --now` output.

    Lines of other resources are ignored; an unknown or down resource gives
    a State that is not configured.
    """
    state = State(resource)
    for line in text.splitlines():
        words = line.split()
        if len(words) < 3 or words[0] not in ("exists", "change", "create"):
            continue
        kind = words[1]
        f = _fields(words[2:])
        if f.get("name") != resource:
            continue
        if kind == "resource":
            state.role = f.get("role", "")
            state.suspended = f.get("suspended", "no") not in ("no", "")
        elif kind == "connection":
            node_id = f.get("peer-node-id", "0")
            peer = state.peers.get(node_id)
            if peer is None:
                peer = Peer(
                    node_id, f.get("conn-name", ""), f.get("connection", ""), f.get("role", "")
                )
                state.peers[node_id] = peer
            else:
                peer.connection = f.get("connection", peer.connection)
                peer.role = f.get("role", peer.role)
        elif kind == "device":
            try:
                minor = int(f.get("minor", "-1"))
            except ValueError:
                minor = -1
            state.volumes.append(
                Volume(
                    f.get("volume", "0"),
                    minor,
                    f.get("disk", ""),
                    f.get("client") == "yes",
                    f.get("quorum") != "no",
                )
            )
        elif kind == "peer-device":
            node_id = f.get("peer-node-id", "0")
            peer = state.peers.get(node_id)
            if peer is None:
                peer = state.peers[node_id] = Peer(node_id, f.get("conn-name", ""), "", "")
            peer.volumes.append(
                PeerVolume(
                    f.get("volume", "0"),
                    f.get("peer-disk", ""),
                    f.get("peer-client") == "yes",
                    f.get("replication", ""),
                )
            )
    return state


class Ladder:
    """The four adjust_master_score values: only consistent, only a remote
    UpToDate, local UpToDate with the peer unknown, as good as it gets."""

    __slots__ = ("consistent", "remote", "local_peer_unknown", "best")

    DEFAULT = (0, 10, 1000, 10000)

    def __init__(self, values: tuple[int, int, int, int] = DEFAULT) -> None:
        self.consistent, self.remote, self.local_peer_unknown, self.best = values

    @classmethod
    def parse(cls, text: str) -> Ladder:
        """Four non-decreasing integers; ValueError says what is wrong."""
        words = text.split()
        if len(words) != 4:
            raise ValueError("needs four numbers")
        try:
            values = tuple(int(w) for w in words)
        except ValueError:
            raise ValueError("needs four integers") from None
        if any(b < a for a, b in zip(values, values[1:])):
            raise ValueError("must not decrease")
        return cls(values)  # type: ignore[arg-type]


def promotion_score(state: State, ladder: Ladder) -> int | None | object:
    """The score this node deserves (the reference's ladder): an int, None
    (delete: never promote here), or KEEP (a transitional disk state)."""
    if not state.configured:
        return None
    if not state.have_quorum:
        return None
    if state.diskless_client:
        if (state.primary and state.some_peer_all_up_to_date) or state.peer_disk_all_up_to_date:
            return ladder.best - 1
        if state.some_peer_all_up_to_date:
            return ladder.local_peer_unknown - 1
        return None
    if state.disk_all_up_to_date:
        if state.primary:
            return ladder.best
        if state.peer_disk_any_unknown:
            return ladder.local_peer_unknown
        return ladder.best
    if state.some_peer_all_up_to_date:
        return ladder.remote
    if state.disk_transitional:
        return KEEP
    if state.disk_all_consistent:
        return ladder.consistent
    return None


def parse_version(text: str) -> tuple[int, int, int] | None:
    """'8.4.11' -> (8, 4, 11); None unless exactly three numbers."""
    parts = text.strip().split(".")
    if len(parts) != 3 or not all(p.isdigit() and p.isascii() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


DRBD_MAJOR = 147


def version_line(first: str) -> tuple[int, int, int] | None:
    """The module's version from the first line of /proc/drbd ("version: 8.4.11
    (api:1/...)"), or None when it says none."""
    words = first.split()
    if len(words) >= 2 and words[0] == "version:":
        return parse_version(words[1].split("-")[0])
    return None
