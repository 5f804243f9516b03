"""`pyha check`: what crm_verify does not see in a MySQL HA stack's configuration.

crm_verify checks that a CIB is well formed and that Pacemaker can schedule it; it does
not know that a DRBD clone needs notifications, that every Galera node must be Promoted,
or that a file system on DRBD must follow the Promoted role. This module reads a CIB
(the live one, or a file) and returns findings, each with its severity and its fix:

    findings = check_cib(xml_text, CheckInput(two_node=False))

Pure: the CIB text and what the caller learned of the node (corosync's two_node, the
agents' advertised timeouts) come in as arguments; the command line gathers them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

__all__ = ["Finding", "CheckInput", "check_cib", "KINDS"]

ERROR = "error"
WARNING = "warning"

# The agents a MySQL HA stack is made of: (class, provider, type) -> kind.
KINDS: dict[tuple[str, str, str], str] = {
    ("ocf", "linbit", "drbd"): "drbd",
    ("ocf", "pyha", "drbd-py"): "drbd",
    ("ocf", "heartbeat", "galera"): "galera",
    ("ocf", "pyha", "galera-py"): "galera",
    ("ocf", "heartbeat", "Filesystem"): "filesystem",
    ("ocf", "pyha", "Filesystem-py"): "filesystem",
    ("ocf", "heartbeat", "mysql"): "mysql",
    ("ocf", "pyha", "mysql-py"): "mysql",
    ("ocf", "heartbeat", "IPaddr2"): "ip",
    ("ocf", "pyha", "IPaddr2-py"): "ip",
}
INFINITY = ("INFINITY", "+INFINITY", "inf", "+inf")


@dataclass(frozen=True)
class Finding:
    """One thing wrong: how bad, where (a resource id, or "cluster"), what, the fix."""

    severity: str
    where: str
    what: str
    fix: str


@dataclass
class CheckInput:
    """What the caller knows beyond the CIB. two_node: corosync's quorum two_node
    setting (None: unknown); timeouts(agent, action, role) -> the agent's advertised
    minimum in seconds, or None."""

    two_node: bool | None = None
    timeouts: Callable[[str, str, str | None], float | None] = field(
        default=lambda agent, action, role: None
    )


@dataclass
class Primitive:
    id: str
    agent: str  # class:provider:type
    kind: str | None
    params: dict[str, str]
    ops: list[dict[str, str]]
    parent: str | None = None  # the group or clone holding it
    clone: str | None = None  # the clone holding it (directly or through a group)


@dataclass
class Clone:
    id: str
    meta: dict[str, str]
    members: list[str]  # primitive ids
    legacy: bool  # a <master> element

    @property
    def promotable(self) -> bool:
        return self.legacy or _true(self.meta.get("promotable"))


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "yes", "1", "on", "y")


def _nvpairs(element: ET.Element | None, tag: str) -> dict[str, str]:
    """The name=value pairs of element's <tag> sets (instance_attributes, ...)."""
    out: dict[str, str] = {}
    if element is None:
        return out
    for block in element.findall(tag):
        for pair in block.findall("nvpair"):
            name, value = pair.get("name"), pair.get("value")
            if name is not None and value is not None:
                out[name] = value
    return out


UNITS = {"": 1.0, "s": 1.0, "sec": 1.0, "ms": 0.001, "msec": 0.001, "m": 60.0, "min": 60.0}
UNITS["h"] = UNITS["hr"] = 3600.0


def _seconds(text: str | None) -> float | None:
    """Pacemaker's interval/timeout text (90, 90s, 2min, 1h, 500ms) in seconds."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", (text or "").lower())
    if m is None or m.group(2) not in UNITS:
        return None
    return float(m.group(1)) * UNITS[m.group(2)]


class Cib:
    """The parts of a CIB the checks read."""

    def __init__(self, xml_text: str) -> None:
        self.root = ET.fromstring(xml_text)  # noqa: S314 - a CIB: no entities are expanded
        conf = self.root.find("configuration")
        if conf is None:
            raise ValueError("not a CIB: no <configuration> element")
        self.properties = _nvpairs(conf.find("crm_config"), "cluster_property_set")
        self.nodes = [n.get("uname") or n.get("id") or "?" for n in conf.findall("nodes/node")]
        self.primitives: dict[str, Primitive] = {}
        self.clones: dict[str, Clone] = {}
        self.groups: dict[str, list[str]] = {}
        self.fencing = False
        resources = conf.find("resources")
        for element in list(resources) if resources is not None else []:
            self._resource(element, None, None)
        self.colocations = [c.attrib for c in conf.findall("constraints/rsc_colocation")]
        self.orders = [o.attrib for o in conf.findall("constraints/rsc_order")]

    def _resource(self, element: ET.Element, parent: str | None, clone: str | None) -> list[str]:
        rid = element.get("id", "?")
        if element.tag == "primitive":
            agent = ":".join(
                x for x in (element.get("class"), element.get("provider"), element.get("type")) if x
            )
            if element.get("class") == "stonith":
                self.fencing = True
            kind = KINDS.get(
                (element.get("class", ""), element.get("provider", ""), element.get("type", ""))
            )
            ops = [dict(op.attrib) for op in element.findall("operations/op")]
            self.primitives[rid] = Primitive(
                rid, agent, kind, _nvpairs(element, "instance_attributes"), ops, parent, clone
            )
            return [rid]
        if element.tag == "group":
            members: list[str] = []
            for child in element.findall("primitive"):
                members += self._resource(child, rid, clone)
            self.groups[rid] = members
            return members
        if element.tag in ("clone", "master"):
            members = []
            for child in element:
                if child.tag in ("primitive", "group"):
                    members += self._resource(child, rid, rid)
            self.clones[rid] = Clone(
                rid, _nvpairs(element, "meta_attributes"), members, element.tag == "master"
            )
            return members
        return []

    def of_kind(self, kind: str) -> Iterator[Primitive]:
        return (p for p in self.primitives.values() if p.kind == kind)

    def top(self, primitive: Primitive) -> str:
        """The id constraints name it by: its clone, else its group, else itself."""
        return primitive.clone or primitive.parent or primitive.id


def agents_with_operations(xml_text: str) -> list[str]:
    """The agents (class:provider:type) whose advertised timeouts check_cib asks for:
    those of the primitives with operations (none when the CIB cannot be read)."""
    try:
        cib = Cib(xml_text)
    except (ET.ParseError, ValueError):
        return []
    return list(dict.fromkeys(p.agent for p in cib.primitives.values() if p.ops))


def check_cib(xml_text: str, given: CheckInput | None = None) -> list[Finding]:
    """Every finding in the CIB, errors first."""
    given = given or CheckInput()
    try:
        cib = Cib(xml_text)
    except (ET.ParseError, ValueError) as err:
        return [Finding(ERROR, "cluster", f"the CIB cannot be read: {err}", "pass a CIB file")]
    findings: list[Finding] = []
    for check in (_fencing, _quorum, _drbd, _galera, _filesystem_on_drbd, _group_order, _ops):
        findings += check(cib, given)
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.where))


def _fencing(cib: Cib, given: CheckInput) -> list[Finding]:
    if not _true(cib.properties.get("stonith-enabled", "true")):
        return [
            Finding(
                ERROR,
                "cluster",
                "fencing is disabled (stonith-enabled=false)",
                "configure a fence device for every node and set stonith-enabled=true: "
                "without fencing a node that stopped answering may still write to DRBD "
                "or commit in Galera while another takes over",
            )
        ]
    if not cib.fencing and cib.primitives:
        return [
            Finding(
                ERROR,
                "cluster",
                "fencing is enabled but no fence device is configured",
                "add a stonith resource that can power off each node (fence_ipmilan, "
                "fence_sbd, ...): Pacemaker starts nothing until it can fence",
            )
        ]
    return []


def _quorum(cib: Cib, given: CheckInput) -> list[Finding]:
    policy = cib.properties.get("no-quorum-policy", "stop")
    size = len(cib.nodes)
    if policy == "ignore" and size >= 3:
        return [
            Finding(
                ERROR,
                "cluster",
                f"no-quorum-policy=ignore in a cluster of {size} nodes",
                "set no-quorum-policy=stop (the default): a minority partition then stops "
                "its resources instead of running them beside the majority's",
            )
        ]
    if size == 2 and given.two_node is False and policy != "ignore":
        return [
            Finding(
                WARNING,
                "cluster",
                "two nodes without corosync's two_node: the survivor of a node failure "
                "has no quorum and stops everything",
                "set `two_node: 1` in the quorum section of corosync.conf on both nodes "
                "(with fencing, so that only one survivor runs)",
            )
        ]
    return []


def _not_promotable(p: Primitive, what: str, meta: str) -> Finding:
    return Finding(
        ERROR,
        p.id,
        f"{what} runs outside a promotable clone",
        f"put it in one: `clone ms_{p.id} {p.id} meta promotable=true {meta}`",
    )


def _drbd(cib: Cib, given: CheckInput) -> list[Finding]:
    findings = []
    for p in cib.of_kind("drbd"):
        clone = cib.clones.get(p.clone or "")
        if clone is None or not clone.promotable:
            findings.append(_not_promotable(p, "DRBD", "notify=true promoted-max=1 clone-max=2"))
        elif not _true(clone.meta.get("notify")) and not _true(
            p.params.get("ignore_missing_notifications")
        ):
            findings.append(
                Finding(
                    ERROR,
                    clone.id,
                    "the DRBD clone has no notifications (notify=true): start refuses it (6)",
                    f"crm resource meta {clone.id} set notify true",
                )
            )
    return findings


def _galera(cib: Cib, given: CheckInput) -> list[Finding]:
    findings = []
    for p in cib.of_kind("galera"):
        address = p.params.get("wsrep_cluster_address", "")
        count = len([n for n in address.split("//", 1)[-1].split(",") if n.strip()])
        clone = cib.clones.get(p.clone or "")
        if clone is None or not clone.promotable:
            findings.append(_not_promotable(p, "Galera", f"promoted-max={count}"))
            continue
        promoted = clone.meta.get("promoted-max", clone.meta.get("master-max", "1"))
        if count and promoted != str(count):
            findings.append(
                Finding(
                    ERROR,
                    clone.id,
                    f"promoted-max is {promoted} but wsrep_cluster_address names {count} "
                    "nodes: only that many are Promoted, the others never serve",
                    f"crm resource meta {clone.id} set promoted-max {count}",
                )
            )
    return findings


def _promoted_role(role: str | None) -> bool:
    return role in ("Promoted", "Master")


def _filesystem_on_drbd(cib: Cib, given: CheckInput) -> list[Finding]:
    """A file system on a DRBD device must run where DRBD is Promoted, after promotion."""
    drbd_clones = {p.clone for p in cib.of_kind("drbd") if p.clone}
    if not drbd_clones:
        return []
    findings = []
    for fs in cib.of_kind("filesystem"):
        if not fs.params.get("device", "").startswith("/dev/drbd"):
            continue
        ids = {fs.id, cib.top(fs)}
        colocated = any(
            c.get("rsc") in ids
            and c.get("with-rsc") in drbd_clones
            and _promoted_role(c.get("with-rsc-role"))
            and c.get("score", "") in INFINITY
            for c in cib.colocations
        )
        ordered = any(
            o.get("first") in drbd_clones
            and o.get("first-action") == "promote"
            and o.get("then") in ids
            and o.get("then-action", "start") == "start"
            and o.get("kind", "Mandatory") == "Mandatory"
            and o.get("score", "INFINITY") in INFINITY
            for o in cib.orders
        )
        clone = sorted(drbd_clones)[0]
        if not colocated:
            findings.append(
                Finding(
                    ERROR,
                    fs.id,
                    f"the file system on {fs.params['device']} is not tied to the node where "
                    "DRBD is Promoted: it may be mounted where the device is read-only",
                    f"colocation c_{cib.top(fs)}_on_drbd inf: {cib.top(fs)} {clone}:Promoted",
                )
            )
        if not ordered:
            findings.append(
                Finding(
                    ERROR,
                    fs.id,
                    "the file system is not ordered after DRBD's promotion: its start can "
                    "come before the device is writable",
                    f"order o_drbd_before_{cib.top(fs)} Mandatory: {clone}:promote "
                    f"{cib.top(fs)}:start",
                )
            )
    return findings


# In a group, what each kind needs started before it.
NEEDS = {"mysql": ("filesystem",), "galera": ("filesystem",)}


def _group_order(cib: Cib, given: CheckInput) -> list[Finding]:
    findings = []
    for gid, members in cib.groups.items():
        kinds = [cib.primitives[m].kind for m in members]
        for i, member in enumerate(members):
            for needed in NEEDS.get(kinds[i] or "", ()):
                later = [members[j] for j in range(i + 1, len(members)) if kinds[j] == needed]
                if later:
                    findings.append(
                        Finding(
                            ERROR,
                            gid,
                            f"{member} starts before {later[0]}, which it needs "
                            "(a group starts its members in order)",
                            f"list {later[0]} before {member} in group {gid}",
                        )
                    )
    return findings


def _ops(cib: Cib, given: CheckInput) -> list[Finding]:
    findings = []
    for p in cib.primitives.values():
        seen: dict[float, str] = {}
        for op in p.ops:
            name, role = op.get("name", ""), op.get("role")
            interval = _seconds(op.get("interval")) or 0.0
            if name == "monitor" and interval:
                if interval in seen:
                    findings.append(
                        Finding(
                            ERROR,
                            p.id,
                            f"two monitors with the interval {op.get('interval')} "
                            f"({seen[interval]} and {role or 'any role'}): Pacemaker tells "
                            "operations apart by name and interval",
                            "give each role's monitor its own interval (e.g. 29s and 31s)",
                        )
                    )
                seen[interval] = role or "any role"
            minimum = given.timeouts(p.agent, name, role)
            timeout = _seconds(op.get("timeout"))
            if minimum is not None and timeout is not None and timeout < minimum:
                findings.append(
                    Finding(
                        WARNING,
                        p.id,
                        f"{name} timeout {op.get('timeout')} is below the {minimum:.0f} s "
                        f"{p.agent} advertises",
                        f"op {name} timeout={minimum:.0f}s (or more)",
                    )
                )
    return findings


def render_table(findings: list[Finding]) -> str:
    """The findings as a person reads them."""
    if not findings:
        return "pyha check: nothing found\n"
    rows = [("SEVERITY", "WHERE", "FINDING", "FIX")]
    rows += [(f.severity, f.where, f.what, f.fix) for f in findings]
    width = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = []
    for severity, where, what, fix in rows:
        lines.append(f"{severity:<{width[0]}}  {where:<{width[1]}}  {what}")
        if fix != "FIX":
            lines.append(f"{'':<{width[0]}}  {'':<{width[1]}}  fix: {fix}")
    return "\n".join(lines) + "\n"


def as_json(findings: list[Finding]) -> list[Mapping[str, str]]:
    return [
        {"severity": f.severity, "where": f.where, "finding": f.what, "fix": f.fix}
        for f in findings
    ]
