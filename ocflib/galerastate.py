"""Galera's state, as pure functions: grastate.dat, the recovered position, the
status variables a healthy member shows, and the bootstrap election.

No effects here: galera-py (ocflib.agents.galera) reads the files, the server
and the cluster, and asks these functions what they mean.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "GraState",
    "parse_grastate",
    "with_safe_to_bootstrap",
    "recovered_position",
    "Position",
    "parse_position",
    "parse_left_at",
    "prepared_transactions",
    "seqno_value",
    "Health",
    "health",
    "NodeView",
    "Election",
    "elect",
    "ZERO_UUID",
]

ZERO_UUID = "00000000-0000-0000-0000-000000000000"
UINT64_MAX = "18446744073709551615"  # seqno -1 as an unsigned number
HEX = frozenset("0123456789abcdefABCDEF")
GRASTATE_MAX = 4096  # a real grastate.dat is about 150 bytes


class GraState:
    """grastate.dat: uuid, seqno (None when not a number), safe_to_bootstrap
    ("1", "0" or None)."""

    __slots__ = ("uuid", "seqno", "safe_to_bootstrap")

    def __init__(self, uuid: str | None, seqno: int | None, safe_to_bootstrap: str | None) -> None:
        self.uuid = uuid
        self.seqno = seqno
        self.safe_to_bootstrap = safe_to_bootstrap

    @property
    def has_history(self) -> bool:
        return self.uuid is not None and self.uuid != ZERO_UUID

    @property
    def position(self) -> str | None:
        """uuid:seqno when both are known and the seqno is not -1."""
        if not self.has_history or self.seqno is None or self.seqno < 0:
            return None
        return f"{self.uuid}:{self.seqno}"

    def __repr__(self) -> str:
        return f"GraState({self.uuid!r}, {self.seqno!r}, {self.safe_to_bootstrap!r})"


def is_uuid(text: str) -> bool:
    """A UUID as Galera writes it (8-4-4-4-12 hex digits)."""
    return _is_uuid(text)


def _is_uuid(text: str) -> bool:
    parts = text.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(set(p) <= HEX for p in parts)


def _int(text: str) -> int | None:
    """A seqno: an optional minus and up to 20 digits (re is not imported on the
    monitor's path)."""
    digits = text[1:] if text.startswith("-") else text
    if not digits or len(digits) > 20 or not digits.isascii() or not digits.isdigit():
        return None
    return int(text)


def _field(text: str, name: str) -> str | None:
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == name:
            return value.strip()
    return None


def parse_grastate(text: str) -> GraState:
    """The fields of grastate.dat (anything malformed reads as absent)."""
    uuid = _field(text, "uuid")
    if uuid is not None and not _is_uuid(uuid):
        uuid = None
    seqno_text = _field(text, "seqno")
    seqno = _int(seqno_text) if seqno_text is not None else None
    safe = _field(text, "safe_to_bootstrap")
    return GraState(uuid, seqno, safe if safe in ("0", "1") else None)


def with_safe_to_bootstrap(text: str) -> str:
    """grastate.dat's text with safe_to_bootstrap set to 1 (the line is added
    when missing); everything else as it was."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        key, sep, _ = line.partition(":")
        if sep and key.strip() == "safe_to_bootstrap":
            lines[i] = "safe_to_bootstrap: 1\n"
            return "".join(lines)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join(lines) + "safe_to_bootstrap: 1\n"


# "uuid:seqno", and with wsrep_gtid_mode=ON "uuid:seqno,domain-server-seqno" (MariaDB
# 10.5+; mariadbd's format string "%s,%d-%d-%llu").
POSITION = r"([0-9a-fA-F-]{36}):(-?[0-9]+)(?:,([0-9]{1,10}-[0-9]{1,10}-[0-9]{1,20}))?"
RECOVERED = r"WSREP:\s*[Rr]ecovered position:?\s*" + POSITION + r"\s*$"
PREPARED = r"\[ERROR\]\s+Found\s+[0-9]+\s+prepared\s+transactions!"


class Position:
    """A recovered position: uuid, seqno and, in GTID mode, the GTID."""

    __slots__ = ("uuid", "seqno", "gtid")

    def __init__(self, uuid: str, seqno: int, gtid: str | None = None) -> None:
        self.uuid = uuid
        self.seqno = seqno
        self.gtid = gtid

    @property
    def published(self) -> str:
        """The last-committed attribute's value: the seqno, with ",gtid" in GTID
        mode (as the reference publishes it)."""
        return f"{self.seqno},{self.gtid}" if self.gtid else str(self.seqno)

    @property
    def text(self) -> str:
        """The whole position, as --wsrep-start-position takes it."""
        return f"{self.uuid}:{self.published}"

    def __repr__(self) -> str:
        return f"Position({self.uuid!r}, {self.seqno!r}, {self.gtid!r})"


def parse_position(text: str) -> Position | None:
    """A whole position as Position.text writes it; None for anything else."""
    import re

    m = re.fullmatch(POSITION, text.strip())
    if m is None or not _is_uuid(m.group(1)):
        return None
    return Position(m.group(1).lower(), int(m.group(2)), m.group(3))


def recovered_position(log: str) -> Position | None:
    """The last "WSREP: Recovered position: uuid:seqno[,gtid]" of a --wsrep-recover
    run."""
    import re

    found = None
    for line in log.splitlines():
        m = re.search(RECOVERED, line)
        if m:
            found = Position(m.group(1).lower(), int(m.group(2)), m.group(3))
    return found


def prepared_transactions(log: str) -> bool:
    """Did recovery stop at prepared XA transactions (then --tc-heuristic-recover)?"""
    import re

    return re.search(PREPARED, log) is not None


def seqno_value(text: str | None) -> int | None:
    """A published last-committed value as a number, as the reference compares
    them: 18446744073709551615 (no commit) counts as 0, "seqno,gtid" (GTID mode)
    by its seqno; None when absent or not a number."""
    if text is None:
        return None
    text, comma, gtid = text.strip().partition(",")
    if comma and not _is_gtid(gtid):
        return None
    if text == UINT64_MAX:
        return 0
    return _int(text)


def parse_left_at(text: str | None) -> tuple[str | None, int] | None:
    """A <rsc>-left-at record: "uuid:seqno" (the cluster's history and the seqno),
    or an older pyha's bare "seqno" (history None); None when it is neither."""
    if text is None:
        return None
    uuid, sep, seqno_text = text.strip().rpartition(":")
    if sep and not _is_uuid(uuid):
        return None
    seqno = _int(seqno_text)
    if seqno is None:
        return None
    return (uuid.lower() if sep else None), seqno


def _is_gtid(text: str) -> bool:
    """domain-server-seqno, each a number."""
    parts = text.split("-")
    return len(parts) == 3 and all(p.isascii() and p.isdigit() and len(p) <= 20 for p in parts)


# --- health of a running member -------------------------------------------------------------


class Health:
    """What the status variables say: state is "promoted" (a member of the
    primary component that can commit), "joining" (state transfer under way) or
    "failed"; why says what was seen; transient: a failure Galera may mend by
    itself within seconds (out of the primary component, not synced)."""

    __slots__ = ("state", "why", "transient")

    def __init__(self, state: str, why: str, *, transient: bool = False) -> None:
        self.state = state
        self.why = why
        self.transient = transient

    def __repr__(self) -> str:
        return f"Health({self.state!r}, {self.why!r})"


LOCAL_STATES = {"1": "Joining", "2": "Donor/Desynced", "3": "Joined", "4": "Synced"}


def health(status: Mapping[str, str | None], *, joining_ok: bool = False) -> Health:
    """A running server's place in the Galera cluster, from SHOW STATUS LIKE 'wsrep%'.

    Promoted needs all of: wsrep_cluster_status Primary, wsrep_ready ON, local
    state Synced (4) or Donor (2), and a cluster history (a state UUID that is
    not all zeros and a configuration id that is not -1). The last catches
    nodes restored from a saved primary component without their history (all
    nodes restarted after a staggered crash without their positions): they
    say Primary, Synced and ready while the history has been reset, and a
    late one may fail every commit. joining_ok: during
    promote, a joiner still preparing its state transfer (non-Primary, not
    ready, Joining/Joined) is not a failure (it may show non-Primary briefly).
    """
    cluster = status.get("wsrep_cluster_status") or ""
    local = status.get("wsrep_local_state") or ""
    comment = status.get("wsrep_local_state_comment") or LOCAL_STATES.get(local, local)
    ready = (status.get("wsrep_ready") or "").upper()
    connected = (status.get("wsrep_connected") or "").upper()
    conf_id = status.get("wsrep_cluster_conf_id") or ""
    uuid = status.get("wsrep_cluster_state_uuid") or ""
    size = status.get("wsrep_cluster_size") or "?"
    seen = f"wsrep_cluster_status={cluster or '?'}, local state {comment or '?'}, size {size}"
    if not cluster:
        return Health("failed", "no wsrep status: is this server a Galera node (wsrep_on)?")
    if local in ("1", "3") and connected == "ON" and (cluster == "Primary" or joining_ok):
        return Health("joining", f"joining the cluster ({seen})")
    if joining_ok and connected == "ON" and cluster != "Primary" and local in ("0", ""):
        return Health("joining", f"connected, waiting for the primary component ({seen})")
    if cluster != "Primary":
        return Health("failed", f"not part of the primary component ({seen})", transient=True)
    if local not in ("2", "4"):
        return Health("failed", f"not synced with the cluster ({seen})", transient=True)
    if ready != "ON":
        return Health(
            "failed",
            f"not ready for queries, wsrep_ready={ready or '?'} ({seen})",
            transient=True,
        )
    if conf_id in ("-1", UINT64_MAX) or not uuid or uuid == ZERO_UUID:
        return Health(
            "failed",
            f"its primary component has no cluster history (conf_id {conf_id or '?'}, "
            f"state uuid {uuid or 'none'}; {seen}): what it serves is not the cluster's "
            "data, and a commit there fails or forks the history",
        )
    return Health("promoted", seen)


# --- the bootstrap election -----------------------------------------------------------------


class NodeView:
    """What the cluster says of one node of wsrep_cluster_address.

    last_committed: the published <rsc>-last-committed (None: not published);
    safe_to_bootstrap: the published flag; no_grastate: its position came
    from recovery, not grastate.dat; left_at: pyha's record that the node
    left the primary component while others stayed in it, with the others'
    position then (it cannot be more advanced than that); online: a cluster
    member now.
    """

    __slots__ = ("name", "last_committed", "safe_to_bootstrap", "no_grastate", "left_at", "online")

    def __init__(
        self,
        name: str,
        *,
        last_committed: int | None = None,
        safe_to_bootstrap: bool = False,
        no_grastate: bool = False,
        left_at: int | None = None,
        online: bool = True,
    ) -> None:
        self.name = name
        self.last_committed = last_committed
        self.safe_to_bootstrap = safe_to_bootstrap
        self.no_grastate = no_grastate
        self.left_at = left_at
        self.online = online

    def __repr__(self) -> str:
        return (
            f"NodeView({self.name!r}, last_committed={self.last_committed!r}, "
            f"safe={self.safe_to_bootstrap}, no_grastate={self.no_grastate}, "
            f"left_at={self.left_at!r}, online={self.online})"
        )


class Election:
    """The outcome: bootstrap names the node to bootstrap (None: not yet);
    waiting the nodes whose position is still needed; excused the absent nodes
    that cannot be more advanced; why says it in a sentence."""

    __slots__ = ("bootstrap", "waiting", "excused", "why")

    def __init__(
        self,
        bootstrap: str | None,
        why: str,
        waiting: Sequence[str] = (),
        excused: Sequence[str] = (),
    ) -> None:
        self.bootstrap = bootstrap
        self.why = why
        self.waiting = tuple(waiting)
        self.excused = tuple(excused)

    def __repr__(self) -> str:
        return f"Election({self.bootstrap!r}, waiting={self.waiting}, excused={self.excused})"


def elect(nodes: Sequence[NodeView]) -> Election:
    """Which node bootstraps the cluster when none runs, or None yet.

    As the reference agent: a node marked safe to bootstrap (the last to leave
    cleanly) is chosen at once; otherwise every node must have published its
    position, and the most advanced is chosen, nodes whose position came from
    grastate.dat winning ties over recovered ones, then the later in
    wsrep_cluster_address (the reference's order, so that both agents elect
    the same node in a mixed cluster).

    One addition (the reference waits forever for an absent node): a node
    that has not published a position is not waited for when pyha recorded
    that it left the primary component while the others stayed (left_at) and
    the best published position is at least what the others had then. Such a
    node cannot be more advanced: everything it committed reached the others.
    Without that record the election waits, whatever else is known.
    """
    if not nodes:
        return Election(None, "wsrep_cluster_address names no node")
    ordered = [n for n in nodes if n.no_grastate] + [n for n in nodes if not n.no_grastate]
    for n in ordered:
        if n.safe_to_bootstrap:
            return Election(n.name, f"{n.name} is marked safe to bootstrap")
    best: NodeView | None = None
    best_commit = 0
    missing: list[NodeView] = []
    for n in ordered:
        if n.last_committed is None:
            missing.append(n)
            continue
        if n.last_committed >= best_commit:
            best, best_commit = n, n.last_committed
    if best is None:
        # The reference's starting point: nobody above 0 yet -> the last node listed.
        published = [n for n in ordered if n.last_committed is not None]
        best = nodes[-1] if nodes[-1] in published else (published[-1] if published else None)
    waiting = [n.name for n in missing if n.left_at is None or n.left_at > best_commit]
    excused = [n.name for n in missing if n.name not in waiting]
    if best is None or waiting:
        names = ", ".join(waiting or [n.name for n in missing])
        return Election(
            None, f"waiting for {names} to report its last committed position", waiting, excused
        )
    why = f"{best.name} has the most advanced position ({best_commit})"
    if excused:
        why += (
            f"; {', '.join(excused)} left the primary component before the others "
            f"and cannot be more advanced"
        )
    return Election(best.name, why, (), excused)
