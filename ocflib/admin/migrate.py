"""`pyha migrate`: switch running resources between the reference agents and pyha's with
nothing restarted, and back.

Pacemaker restarts a resource whose agent changed: the history it keeps of the resource
names the old agent. The switch therefore holds the resources still and lets Pacemaker
learn their state from the new agent before it may act on them again:

1. plan: the resources of the five reference types (or pyha's, for the way back), each
   checked with the target agent's validate-all (run here with the parameters in its
   environment, as Pacemaker passes them: a password never goes on a command line,
   as `crm_resource --validate --option` would put it) and against docs/differences.md's
   table (ocflib.admin.differences); a resource the target refuses, or would run
   differently, is not switched (unless forced);
2. wait until the cluster has settled (crm_resource --wait: no transition in progress,
   none planned), then note what the old agent reports: the role on every node
   (crm_mon) and the promotion scores; a cluster that does not settle is not touched;
3. hold them: is-managed=false on each top-level resource (clone or group or itself),
   and on every resource a constraint ties to them (while their history is cleared
   Pacemaker does not know their role, and would stop what depends on it);
4. change the agents' types in one CIB update;
5. refresh them: their history is cleared and the new agent probes them on every node;
6. wait until every probe reports what was noted (running, Promoted, Unpromoted), the
   node attributes the old agents kept are in place, and
   the promotion scores keep the promotion where it is (drbd, mysql replication,
   galera: the same nodes scored, none above a Promoted one; the values may differ
   where the agents do, e.g. mysql-py's primary scores above any replica);
7. ask crm_simulate, on a copy of the CIB with the resources managed again, which
   actions the cluster would take for them: none but monitors may be planned;
8. manage them again: the saved resources section, with the new types, in one update
   (so nothing is left of the hold, not even an empty meta-attribute set).

Anything else, at any step: the saved configuration is put back (the old agents, the
resources managed) and the reason is said. Every Pacemaker command goes through
Tools, with argv lists and deadlines; a fake stands in for it in the unit tests.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ocflib.admin.differences import Difference

__all__ = ["PAIRS", "Plan", "Step", "Tools", "plan", "migrate", "MigrationError"]

# reference agent -> pyha agent
PAIRS = {
    "ocf:heartbeat:IPaddr2": "ocf:pyha:IPaddr2-py",
    "ocf:heartbeat:Filesystem": "ocf:pyha:Filesystem-py",
    "ocf:heartbeat:mysql": "ocf:pyha:mysql-py",
    "ocf:heartbeat:galera": "ocf:pyha:galera-py",
    "ocf:linbit:drbd": "ocf:pyha:drbd-py",
}
PROMOTED = ("Promoted", "Master")
# What a planned action must be to leave a resource alone: recurring monitors only.
QUIET = re.compile(r"^\s*\*\s+(Start|Stop|Restart|Promote|Demote|Move|Recover|Migrate)\s+(\S+)")


class MigrationError(Exception):
    """The switch cannot go on; the reason is for the administrator."""


class Tools:
    """Pacemaker's own command-line tools, each run with an argv list and a deadline."""

    def __init__(self, run: Callable[[Sequence[str], str | None, float], tuple[int, str, str]]):
        self._run = run

    def out(self, argv: Sequence[str], stdin: str | None = None, timeout: float = 30) -> str:
        rc, out, err = self._run(argv, stdin, timeout)
        if rc != 0:
            raise MigrationError(f"{' '.join(argv[:3])} failed ({rc}): {err.strip()[-300:]}")
        return out

    def cib(self) -> str:
        return self.out(["cibadmin", "--query"])

    def status(self) -> str:
        return self.out(["crm_mon", "--output-as=xml", "--one-shot", "--inactive"])

    def set_managed(self, resource: str, managed: bool) -> None:
        if managed:
            argv = ["crm_resource", "--resource", resource, "--meta"]
            self.out([*argv, "--delete-parameter", "is-managed"])
        else:
            self.out(
                [
                    "crm_resource",
                    "--resource",
                    resource,
                    "--meta",
                    "--set-parameter",
                    "is-managed",
                    "--parameter-value",
                    "false",
                ]
            )

    def replace_resources(self, resources_xml: str) -> None:
        self.out(["cibadmin", "--replace", "--scope", "resources", "--xml-pipe"], resources_xml)

    def settle(self, timeout: float) -> None:
        """Until the cluster has nothing in progress nor planned (crm_resource --wait)."""
        argv = ["crm_resource", "--wait", "--timeout", f"{max(int(timeout), 1)}s"]
        rc, _, err = self._run(argv, None, timeout + 10)
        if rc != 0:
            raise MigrationError(
                f"the cluster did not settle within {timeout:.0f} s (a transition is in "
                f"progress or planned: see crm_mon); nothing was changed ({err.strip()[-200:]})"
            )

    def refresh(self, resource: str) -> None:
        self.out(["crm_resource", "--refresh", "--resource", resource])

    def simulate(self, cib_xml: str) -> str:
        return self.out(["crm_simulate", "--simulate", "--xml-pipe"], cib_xml, timeout=60)


@dataclass
class Step:
    """One resource to switch: the primitive, its top-level resource, from, to."""

    primitive: str
    top: str
    source: str
    target: str
    params: dict[str, str] = field(default_factory=dict)
    refused: str = ""  # why the target agent refuses its configuration
    env: dict[str, str] = field(default_factory=dict)  # the clone's meta, as Pacemaker passes it
    differences: list[Difference] = field(default_factory=list)

    @property
    def blocked(self) -> str:
        """Why this step needs --force ("" when it does not)."""
        if self.refused:
            return f"refused: {self.refused}"
        blocking = [d for d in self.differences if d.blocks]
        return "differs: " + "; ".join(d.text for d in blocking) if blocking else ""

    def as_dict(self) -> dict[str, object]:
        return {
            "resource": self.primitive,
            "from": self.source,
            "to": self.target,
            "check": self.refused or "ok",
            "differences": [d.as_dict() for d in self.differences],
            "needs_force": bool(self.blocked),
        }


@dataclass
class Plan:
    steps: list[Step]

    def table(self) -> str:
        """One row a resource (CHECK: validate-all's verdict, or that the resource would
        run differently), each applicable difference on a line of its own below it."""
        rows = [("RESOURCE", "FROM", "TO", "CHECK")]
        for s in self.steps:
            verdict = f"refused: {s.refused}" if s.refused else "ok"
            if not s.refused and any(d.blocks for d in s.differences):
                verdict = "differs (--force to switch)"
            rows.append((s.primitive, s.source, s.target, verdict))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = [
            f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c:<{widths[2]}}  {d}" for a, b, c, d in rows
        ]
        notes = [
            f"  {s.primitive}: {d.parameter}: {d.text}"
            + (" [differs]" if d.blocks else " [same meaning]")
            for s in self.steps
            for d in s.differences
        ]
        return "\n".join(lines + notes) + "\n"


def _agent(element: ET.Element) -> str:
    return ":".join(
        x for x in (element.get("class"), element.get("provider"), element.get("type")) if x
    )


def _params(element: ET.Element) -> dict[str, str]:
    out = {}
    for pair in element.findall("instance_attributes/nvpair"):
        name, value = pair.get("name"), pair.get("value")
        if name and value is not None:
            out[name] = value
    return out


def plan(cib_xml: str, to: str, only: Sequence[str] = ()) -> Plan:
    """The resources to switch (to: "pyha" or "reference"), optionally only these ids."""
    mapping = PAIRS if to == "pyha" else {v: k for k, v in PAIRS.items()}
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    resources = root.find("configuration/resources")
    if resources is None:
        raise MigrationError("the CIB has no resources section")
    from ocflib.admin.node import clone_env

    nodes = len(root.findall("configuration/nodes/node")) or 2
    steps = []
    for top in resources:
        env = {}
        if top.tag in ("clone", "master"):
            meta = {}
            for pair in top.findall("meta_attributes/nvpair"):
                meta[pair.get("name", "")] = pair.get("value", "")
            env = clone_env(meta, top.tag == "master", nodes)
        for primitive in [top] if top.tag == "primitive" else top.iter("primitive"):
            agent = _agent(primitive)
            pid = primitive.get("id", "?")
            if agent not in mapping or (only and pid not in only and top.get("id") not in only):
                continue
            step = Step(pid, top.get("id", pid), agent, mapping[agent], _params(primitive))
            step.env = env
            steps.append(step)
    return Plan(steps)


def switched(cib_xml: str, steps: Sequence[Step]) -> str:
    """The resources section of the CIB with each step's primitive on its target agent."""
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    resources = root.find("configuration/resources")
    if resources is None:
        raise MigrationError("the CIB has no resources section")
    targets = {s.primitive: s.target for s in steps}
    for primitive in resources.iter("primitive"):
        target = targets.get(primitive.get("id", ""))
        if target:
            cls, provider, kind = target.split(":")
            primitive.set("class", cls)
            primitive.set("provider", provider)
            primitive.set("type", kind)
    return ET.tostring(resources, encoding="unicode")


def roles(status_xml: str, ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """(primitive id, node) -> role, for each running instance of these primitives
    (a clone's instances are named id:N in crm_mon)."""
    root = ET.fromstring(status_xml)  # noqa: S314 - crm_mon's output
    seen: dict[tuple[str, str], str] = {}
    for rsc in root.iter("resource"):
        rid = (rsc.get("id") or "").split(":")[0]
        if rid not in ids or rsc.get("active") != "true":
            continue
        for node in rsc.findall("node"):
            seen[(rid, node.get("name", "?"))] = rsc.get("role", "?")
    return seen


def scores(cib_xml: str, ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """(promotion score attribute, node) -> value: the transient node attributes
    master-<id> of these primitives in the CIB's status section."""
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    names = {f"master-{i}" for i in ids}
    found = {}
    for state in root.findall("status/node_state"):
        node = state.get("uname") or state.get("id") or "?"
        for pair in state.iter("nvpair"):
            if pair.get("name") in names:
                found[(pair.get("name", "?"), node)] = pair.get("value", "")
    return found


def node_attributes(cib_xml: str) -> set[tuple[str, str]]:
    """(name, node) of the transient node attributes the agents keep (drbd's, mysql's
    readable, galera's last-committed, ...): not Pacemaker's failure records, not the
    promotion scores (compared apart), not galera's departure records (pyha's agent
    clears its own on a healthy probe: docs/agents.md, galera-py)."""
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    found = set()
    for state in root.findall("status/node_state"):
        node = state.get("uname") or state.get("id") or "?"
        for pair in state.findall("transient_attributes/instance_attributes/nvpair"):
            name = pair.get("name", "")
            if name.startswith(("fail-count-", "last-failure-", "master-", "#")):
                continue
            if name.endswith("-left-at"):
                continue
            found.add((name, node))
    return found


def _score(value: str) -> float:
    text = value.strip().upper()
    if text in ("INFINITY", "+INFINITY"):
        return float("inf")
    if text == "-INFINITY":
        return float("-inf")
    try:
        return float(text)
    except ValueError:
        return 0.0


def promotion_kept(
    found: dict[tuple[str, str], str],
    before: dict[tuple[str, str], str],
    roles_now: dict[tuple[str, str], str],
) -> bool:
    """Whether the new agent's promotion scores keep the promotion where it is: the
    same nodes scored as before, and no node outranks a Promoted one (what Pacemaker
    would move the promotion for). The values may differ where the agents do (the
    reference mysql gives its primary 2, mysql-py max_slave_lag + 1)."""
    if set(found) != set(before):
        return False
    for name in {n for n, _ in found}:
        rid = name[len("master-") :]
        nodes = {node: _score(v) for (n, node), v in found.items() if n == name}
        promoted = [v for node, v in nodes.items() if roles_now.get((rid, node)) in PROMOTED]
        others = [v for node, v in nodes.items() if roles_now.get((rid, node)) not in PROMOTED]
        if promoted and others and min(promoted) < max(others):
            return False
    return True


def _pairs(mapping: dict[tuple[str, str], str]) -> str:
    """(a, node) -> value as "a on node: value, ..." (sorted), for the reasons given."""
    if not mapping:
        return "nothing"
    return ", ".join(f"{a} on {n}: {v}" for (a, n), v in sorted(mapping.items()))


def probed(cib_xml: str, agents: dict[str, str]) -> bool:
    """Whether every online node has recorded a probe (a monitor of interval 0) of each
    primitive id with the agent given for it (class:provider:type): the history a
    refresh cleared has been written again, by that agent, and is complete. crm_mon
    alone cannot tell: right after a refresh it may still show the history about to be
    cleared."""
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    for state in root.findall("status/node_state"):
        if state.get("crmd") != "online" or state.get("in_ccm") in (None, "false", "0"):
            continue
        seen = set()
        for lrm in state.iter("lrm_resource"):
            rid = (lrm.get("id") or "").split(":")[0]
            if rid not in agents or _agent(lrm) != agents[rid]:
                continue
            for op in lrm.findall("lrm_rsc_op"):
                probe = op.get("operation") == "monitor" and op.get("interval") in ("0", "0ms")
                # done: op-status 0 (a pending one is recorded as -1 with rc-code 193)
                if probe and op.get("op-status") == "0" and op.get("rc-code") != "193":
                    seen.add(rid)
        if seen != set(agents):
            return False
    return True


def unsettled(status_xml: str, ids: Sequence[str]) -> bool:
    """Whether a probe of these primitives is still running (pending, or not yet run)."""
    root = ET.fromstring(status_xml)  # noqa: S314 - crm_mon's output
    for rsc in root.iter("resource"):
        if (rsc.get("id") or "").split(":")[0] in ids and rsc.get("pending"):
            return True
    return False


def planned_actions(simulation: str, ids: Sequence[str]) -> list[str]:
    """The lines of crm_simulate's transition summary that act on these resources."""
    found = []
    for line in simulation.splitlines():
        m = QUIET.match(line)
        if m and m.group(2).split(":")[0] in ids:
            found.append(line.strip())
    return found


def managed_copy(cib_xml: str, tops: Sequence[str]) -> str:
    """The CIB with is-managed=false removed from these resources (what re-managing
    them will give), for crm_simulate."""
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    for element in root.iter():
        if element.get("id") in tops:
            for meta in element.findall("meta_attributes"):
                for pair in list(meta):
                    if pair.get("name") == "is-managed":
                        meta.remove(pair)
    return ET.tostring(root, encoding="unicode")


def migrate(
    tools: Tools,
    the_plan: Plan,
    *,
    force: bool = False,
    timeout: float = 120,
    say: Callable[[str], None] = print,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], None] = time.sleep,
) -> None:
    """Switch the plan's resources; raise MigrationError (the configuration restored)
    when anything is not as the old agent left it."""
    steps = the_plan.steps
    if not steps:
        say("nothing to switch")
        return
    blocked = [s for s in steps if s.blocked]
    if blocked and not force:
        raise MigrationError(
            "; ".join(f"{s.primitive}: {s.blocked}" for s in blocked)
            + " (nothing was changed; --force switches anyway)"
        )
    ids = [s.primitive for s in steps]
    tops = sorted({s.top for s in steps})
    tools.settle(timeout)
    saved = tools.cib()
    # What is tied to them by a constraint is held too: while their history is
    # cleared, Pacemaker does not know their role, and would stop what must be
    # colocated with (or ordered after) them.
    holds = linked(saved, tops)
    before = roles(tools.status(), ids)
    before_scores = scores(saved, ids)
    before_attributes = node_attributes(saved)
    targets = {s.primitive: s.target for s in steps}
    say(f"holding {', '.join(holds)} (is-managed=false)")
    try:
        for top in holds:
            tools.set_managed(top, False)
        tools.replace_resources(switched(tools.cib(), steps))
        say("agents switched in one CIB update; probing with the new agents")
        for top in tops:
            tools.refresh(top)
        end = clock() + timeout
        while True:
            cib = tools.cib()  # first: crm_mon, read after it, is at least as new
            status = tools.status()
            now = roles(status, ids)
            now_scores = scores(cib, ids)
            if (
                now == before
                and not unsettled(status, ids)
                and promotion_kept(now_scores, before_scores, now)
                and node_attributes(cib) >= before_attributes
                and probed(cib, targets)
            ):
                break
            if clock() > end:
                gone = sorted(before_attributes - node_attributes(cib))
                if gone and now == before:
                    raise MigrationError(
                        f"node attributes the old agents kept are gone after {timeout:.0f} s: "
                        + ", ".join(f"{name} on {node}" for name, node in gone)
                    )
                if now != before:
                    raise MigrationError(
                        f"the new agents report {_pairs(now)} after {timeout:.0f} s, "
                        f"the old ones reported {_pairs(before)}"
                    )
                raise MigrationError(
                    f"the promotion scores are {_pairs(now_scores)} after {timeout:.0f} s "
                    f"with the new agents, the old ones left {_pairs(before_scores)} "
                    "(a node outranks a Promoted one, or a score is missing)"
                )
            pause(1.0)
        watched = primitives_of(saved, holds)  # the held ones' actions count too
        actions = planned_actions(tools.simulate(managed_copy(tools.cib(), holds)), watched)
        if actions:
            raise MigrationError("the cluster would act on them: " + "; ".join(actions))
        report = outcome(steps, now)
    except BaseException as err:  # any failure, an interrupt too: never leave them held
        say("restoring the saved configuration")
        sources = {s.primitive: s.source for s in steps}
        _restore(tools, saved, tops, holds, before, sources, clock() + timeout, clock, pause)
        if isinstance(err, (MigrationError, KeyboardInterrupt)):
            raise
        raise MigrationError(f"{type(err).__name__}: {err}") from err
    tools.replace_resources(switched(saved, steps))
    say(report)
    say(f"done: {len(steps)} resource(s) on their new agents, nothing restarted")


def outcome(steps: Sequence[Step], seen: dict[tuple[str, str], str]) -> str:
    """The switch as a table: each resource, its agents, what the new agent's probes
    reported on each node, and what crm_simulate planned for it (nothing, or the switch
    would have been undone)."""
    rows = [("RESOURCE", "FROM", "TO", "PROBES", "PLANNED")]
    for s in steps:
        probes = ", ".join(
            f"{role} on {node}" for (rid, node), role in sorted(seen.items()) if rid == s.primitive
        )
        rows.append((s.primitive, s.source, s.target, probes or "not running", "nothing"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        "  ".join(f"{cell:<{widths[i]}}" for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    )


def linked(cib_xml: str, tops: Sequence[str]) -> list[str]:
    """tops and every top-level resource tied to them, directly or not, by a
    colocation, order or ticket constraint (resource sets too): what must be held
    with them."""
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    resources = root.find("configuration/resources")
    top_of: dict[str, str] = {}
    for top in resources if resources is not None else []:
        for element in top.iter():
            if element.get("id") and element.tag in ("primitive", "group", "clone", "master"):
                top_of[element.get("id", "")] = top.get("id", "")
    groups: list[set[str]] = []
    for constraint in root.findall("configuration/constraints/*"):
        named = [constraint.get(a) for a in ("rsc", "with-rsc", "first", "then")]
        named += [ref.get("id") for ref in constraint.iter("resource_ref")]
        ids = {top_of[n] for n in named if n in top_of}
        if len(ids) > 1:
            groups.append(ids)
    found = set(tops)
    grew = True
    while grew:
        grew = False
        for ids in groups:
            if ids & found and not ids <= found:
                found |= ids
                grew = True
    return sorted(found)


def primitives_of(cib_xml: str, tops: Sequence[str]) -> list[str]:
    """The primitives in these top-level resources."""
    root = ET.fromstring(cib_xml)  # noqa: S314 - the CIB
    found = []
    for top in root.findall("configuration/resources/*"):
        if top.get("id") in tops:
            found += [p.get("id", "") for p in top.iter("primitive")]
    return found


def held(resources: ET.Element, tops: Sequence[str]) -> ET.Element:
    """resources with is-managed=false on these top-level resources."""
    for element in resources:
        rid = element.get("id", "")
        if rid not in tops:
            continue
        meta = element.find("meta_attributes")
        if meta is None:
            meta = ET.SubElement(element, "meta_attributes", id=f"{rid}-meta_attributes")
        for pair in list(meta):
            if pair.get("name") == "is-managed":
                meta.remove(pair)
        ET.SubElement(meta, "nvpair", id=f"{rid}-is-managed", name="is-managed", value="false")
    return resources


def _restore(
    tools: Tools,
    saved: str,
    tops: Sequence[str],
    holds: Sequence[str],
    before: dict[tuple[str, str], str],
    sources: dict[str, str],
    until: float,
    clock: Callable[[], float],
    pause: Callable[[float], None],
) -> None:
    """The old agents back (the saved resources, still held), probed again until they
    report what they did before (or the time is spent), then managed again."""
    ids = sorted(sources)
    root = ET.fromstring(saved)  # noqa: S314 - the CIB as we saved it
    resources = root.find("configuration/resources")
    if resources is not None:
        tools.replace_resources(ET.tostring(held(resources, holds), encoding="unicode"))
    else:  # never happens with a CIB plan() accepted; manage them at least
        for top in holds:
            tools.set_managed(top, True)
    for top in tops:
        tools.refresh(top)
    while clock() < until:
        try:
            cib = tools.cib()
            status = tools.status()
            if roles(status, ids) == before and not unsettled(status, ids) and probed(cib, sources):
                break
        except (MigrationError, ET.ParseError):
            pass  # crm_mon unreadable: look again until the time is spent
        pause(1.0)
    if resources is not None:  # exactly as saved: the hold is gone without a trace
        tools.replace_resources(switched(saved, []))
