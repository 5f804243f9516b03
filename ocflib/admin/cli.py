"""The `pyha` command line: `pyha check [--cib FILE] [--json]`.

check reads the live CIB (`cibadmin --query`) or a file, what this node says of the
cluster (corosync's two_node, the agents' advertised timeouts), and prints the
findings of ocflib.admin.check: a table, or JSON. Exit status: 0 nothing or only
warnings, 1 an error found, 2 the check itself could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence

from ocflib.admin.check import (
    ERROR,
    WARNING,
    CheckInput,
    Finding,
    agents_with_operations,
    as_json,
    check_cib,
    render_table,
)

COROSYNC_CONF = "/etc/corosync/corosync.conf"
OCF_ROOT = os.environ.get("OCF_ROOT", "/usr/lib/ocf")


def _run(argv: Sequence[str], timeout: float = 10.0) -> str | None:
    """argv's stdout, or None when it fails or is missing."""
    rc, out, _ = _run_tool(argv, None, timeout)
    return out if rc == 0 else None


def two_node(path: str = COROSYNC_CONF) -> bool | None:
    """corosync.conf's quorum two_node (None: no readable file)."""
    try:
        with open(path) as f:
            text = f.read(1 << 20)
    except OSError:
        return None
    m = re.search(r"^\s*two_node\s*:\s*(\d+)", text, re.M)
    return bool(m and m.group(1) != "0")


def agent_path(agent: str, ocf_root: str = OCF_ROOT) -> str | None:
    """The executable of ocf:provider:type under ocf_root/resource.d, or None when the
    name is not a plain one (no path may lead out of resource.d: not "..", not "/")."""
    parts = agent.split(":")
    if len(parts) != 3 or parts[0] != "ocf":
        return None
    if not all(re.fullmatch(r"[A-Za-z0-9_.+-]+", p) and p not in (".", "..") for p in parts[1:]):
        return None
    return os.path.join(ocf_root, "resource.d", parts[1], parts[2])


class AgentMetadata:
    """The installed agents' meta-data (each agent asked once): the minimum timeouts
    they advertise (a CheckInput.timeouts) and their parameters' types."""

    def __init__(self, ocf_root: str = OCF_ROOT) -> None:
        self.ocf_root = ocf_root
        self.texts: dict[str, str | None] = {}
        self.cache: dict[str, dict[tuple[str, str | None], float]] = {}

    def __call__(self, agent: str, action: str, role: str | None) -> float | None:
        if agent not in self.cache:
            self.cache[agent] = self._timeouts(agent)
        table = self.cache[agent]
        found = table.get((action, role), table.get((action, None)))
        if found is None and role is not None:  # Master/Slave <-> Promoted/Unpromoted
            other = {"Master": "Promoted", "Promoted": "Master", "Slave": "Unpromoted"}
            other["Unpromoted"] = "Slave"
            found = table.get((action, other.get(role)))
        return found

    def prefetch(self, agents: Iterable[str], timeout: float = 10.0) -> None:
        """Ask every agent named (and not asked yet) for its meta-data at once: each
        answer costs a process start, and a shell agent's hundreds of milliseconds,
        which add up one after another on a slow node. An agent that is not installed,
        fails or does not answer in time has no meta-data (None)."""
        from ocflib.errors import CommandNotFound, CommandTimeout
        from ocflib.run import ProcessRunner

        runner = ProcessRunner(environ=_tool_env())
        started = {}
        for agent in dict.fromkeys(agents):
            if agent in self.texts:
                continue
            self.texts[agent] = None
            path = agent_path(agent, self.ocf_root)
            if path and os.path.isfile(path):
                try:
                    started[agent] = runner.start([path, "meta-data"], ok=None, timeout=timeout)
                except CommandNotFound:
                    pass
        for agent, running in started.items():
            try:
                result = running.result()
            except CommandTimeout:
                continue
            if result.returncode == 0:
                self.texts[agent] = result.stdout

    def text(self, agent: str) -> str | None:
        """agent's meta-data (class:provider:type), None when it cannot be had."""
        self.prefetch([agent])
        return self.texts[agent]

    def parameters(self, agent: str) -> dict[str, str] | None:
        """name -> type of agent's parameters (None: no readable meta-data)."""
        from ocflib.admin.differences import parameter_types

        text = self.text(agent)
        if not text:
            return None
        try:
            return parameter_types(text)
        except ET.ParseError:
            return None

    def _timeouts(self, agent: str) -> dict[tuple[str, str | None], float]:
        from ocflib.admin.check import _seconds

        text = self.text(agent)
        table: dict[tuple[str, str | None], float] = {}
        if not text:
            return table
        try:
            root = ET.fromstring(text)  # noqa: S314 - an installed agent's meta-data
        except ET.ParseError:
            return table
        for action in root.findall("actions/action"):
            seconds = _seconds(action.get("timeout"))
            if seconds is not None:
                table[(action.get("name", ""), action.get("role"))] = seconds
        return table


def membership(xml_text: str) -> list[Finding]:
    """The live cluster's nodes and quorum, from the CIB's status section."""
    try:
        root = ET.fromstring(xml_text)  # noqa: S314 - the CIB
    except ET.ParseError:
        return []
    nodes = root.findall("configuration/nodes/node")
    if not nodes:
        return [
            Finding(
                ERROR,
                "cluster",
                "the cluster has no nodes: Corosync and Pacemaker have never seen each "
                "other (is corosync running, on the same ring, with the same authkey?)",
                "check `corosync-cfgtool -s` and `crm_mon -1` on every node",
            )
        ]
    findings = []
    online = {
        s.get("uname")
        for s in root.findall("status/node_state")
        if s.get("crmd") == "online" and s.get("in_ccm") not in (None, "false", "0")
    }
    for node in nodes:
        name = node.get("uname") or node.get("id") or "?"
        if name not in online:
            findings.append(
                Finding(
                    "warning",
                    name,
                    "the node is not online in the cluster",
                    "start pacemaker there, or remove the node with `crm node delete`",
                )
            )
    if root.get("have-quorum") in ("0", "false"):
        findings.append(
            Finding(
                ERROR,
                "cluster",
                "this partition has no quorum",
                "bring the other nodes back; see `corosync-quorumtool -s`",
            )
        )
    return findings


def rings(text: str | None) -> list[Finding]:
    """corosync's links from this node (`corosync-cfgtool -s`: corosync 3.1's
    "nodeid: 2: connected", 3.0's "nodeid 2: link enabled:1 link connected:1"): one
    finding for each link to a node that is down. Nothing when the tool gave nothing
    (membership has then said what it could)."""
    findings: list[Finding] = []
    link = "?"
    for line in (text or "").splitlines():
        m = re.match(r"\s*LINK ID (\d+)", line)
        if m:
            link = m.group(1)
            continue
        m = re.match(r"\s*nodeid:?\s*(\d+):\s*(.*)$", line)
        if not m:
            continue
        state = m.group(2).strip()
        down = "disconnected" in state or re.search(r"connected:\s*0", state)
        if down:
            findings.append(
                Finding(
                    WARNING,
                    "corosync",
                    f"link {link} to node id {m.group(1)} is down ({state})",
                    "check the network between the nodes and `corosync-cfgtool -s` on each",
                )
            )
    return findings


def check(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="pyha check", description="The MySQL HA stack's configuration, checked."
    )
    parser.add_argument("--cib", help="a CIB file (default: the live CIB, cibadmin --query)")
    parser.add_argument("--json", action="store_true", help="findings as JSON")
    args = parser.parse_args(argv)
    if args.cib:
        try:
            with open(args.cib) as f:
                xml_text = f.read()
        except OSError as err:
            print(f"pyha check: cannot read {args.cib}: {err.strerror}", file=sys.stderr)
            return 2
        live = False
    else:
        got = _run(["cibadmin", "--query"], timeout=20)
        if got is None:
            print(
                "pyha check: cannot read the live CIB (cibadmin --query failed: is "
                "Pacemaker running on this node?); pass --cib FILE",
                file=sys.stderr,
            )
            return 2
        xml_text, live = got, True
    # This node's corosync.conf describes the live cluster, not a CIB file's.
    metadata = AgentMetadata()
    metadata.prefetch(agents_with_operations(xml_text))
    given = CheckInput(two_node=two_node() if live else None, timeouts=metadata)
    findings = check_cib(xml_text, given)
    if live:  # what this node holds describes the live cluster, not a CIB file's
        from ocflib.admin.node import NodeView, check_node, datadir_megabytes, enabled_units

        view = NodeView(enabled_units(), validate_here, datadir_megabytes)
        # its exit status may say a link is down: the text is read either way
        links = _run_tool(["corosync-cfgtool", "-s"], None, 10)[1]
        findings += membership(xml_text) + rings(links)
        findings += check_node(xml_text, view)
    if args.json:
        print(json.dumps(as_json(findings), indent=2))
    else:
        sys.stdout.write(render_table(findings))
    return 1 if any(f.severity == ERROR for f in findings) else 0


def validate_here(agent: str, env: Mapping[str, str], ocf_root: str = OCF_ROOT) -> tuple[int, str]:
    """agent's validate-all on this node with env (OCF_RESKEY_*, the depth): its exit
    code and its exit reason (or last line of output). An agent that is not installed
    here is code 5, as Pacemaker reports it."""
    from ocflib.errors import CommandNotFound, CommandTimeout
    from ocflib.run import ProcessRunner

    path = agent_path(agent, ocf_root)
    if path is None:
        return 5, f"{agent} is not an OCF agent name"
    if not os.path.isfile(path):
        return 5, f"{agent} is not installed on this node ({path})"
    base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "OCF_ROOT": ocf_root}
    runner = ProcessRunner(environ=base)
    try:  # OCF_RESKEY_* go as the child's own environment (never inherited, never argv)
        result = runner.run([path, "validate-all"], env=dict(env), ok=None, timeout=30)
    except (CommandTimeout, CommandNotFound) as err:
        return 1, str(err)
    text = result.stderr + result.stdout
    reasons = [
        line.split("ocf-exit-reason:", 1)[1]
        for line in text.splitlines()
        if "ocf-exit-reason:" in line
    ]
    lines = [line for line in text.splitlines() if line.strip()]
    return result.returncode, (reasons or lines or [""])[-1].strip()[:300]


def _tool_env() -> dict[str, str]:
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "OCF_ROOT": OCF_ROOT}


def _run_tool(argv: Sequence[str], stdin: str | None, timeout: float) -> tuple[int, str, str]:
    """A Pacemaker tool through ocflib's runner (argv list, its own session, killed
    with its group at the deadline); (rc, stdout, stderr)."""
    from ocflib.errors import CommandNotFound, CommandTimeout
    from ocflib.run import ProcessRunner

    runner = ProcessRunner(environ=_tool_env())
    try:
        result = runner.run(argv, input=stdin, ok=None, timeout=timeout)
    except CommandTimeout:
        return 124, "", f"{argv[0]} did not answer within {timeout:.0f} s"
    except CommandNotFound:
        return 127, "", f"{argv[0]} is not installed"
    return result.returncode, result.stdout, result.stderr


def migrate_command(argv: Sequence[str]) -> int:
    from ocflib.admin.differences import differences
    from ocflib.admin.migrate import MigrationError, Tools, migrate, plan

    parser = argparse.ArgumentParser(
        prog="pyha migrate",
        description="Switch running resources between the reference agents and pyha's, "
        "with nothing restarted.",
    )
    parser.add_argument("resources", nargs="*", help="only these resources (default: all)")
    parser.add_argument("--to", choices=("pyha", "reference"), default="pyha")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    parser.add_argument("--force", action="store_true", help="switch what the target refuses")
    parser.add_argument("--timeout", type=float, default=120.0, help="for the probes (s)")
    parser.add_argument("--json", action="store_true", help="the plan as JSON")
    args = parser.parse_args(argv)
    tools = Tools(_run_tool)
    try:
        the_plan = plan(tools.cib(), args.to, args.resources)
        agents = AgentMetadata()
        for step in the_plan.steps:
            env = {f"OCF_RESKEY_{k}": v for k, v in step.params.items()}
            env.update(step.env)  # a clone's meta-attributes, as Pacemaker passes them
            env["OCF_RESOURCE_INSTANCE"] = step.primitive
            rc, why = validate_here(step.target, env)
            if rc != 0:
                step.refused = why.splitlines()[-1] if why else f"validate-all returned {rc}"
            step.differences = differences(
                step.source,
                step.target,
                step.params,
                agents.parameters(step.source),
                agents.parameters(step.target),
            )
        if args.json:
            print(json.dumps([s.as_dict() for s in the_plan.steps], indent=2))
        else:
            sys.stdout.write(the_plan.table())
        if args.dry_run:
            return 1 if any(s.blocked for s in the_plan.steps) else 0
        migrate(tools, the_plan, force=args.force, timeout=args.timeout)
    except (MigrationError, ET.ParseError) as err:
        print(f"pyha migrate: {err}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] in ("-h", "--help"):
        print(
            "usage: pyha check [--cib FILE] [--json]\n"
            "       pyha migrate [--to pyha|reference] [--dry-run] [--force] [RESOURCE...]"
        )
        return 0 if words else 2
    if words[0] == "check":
        return check(words[1:])
    if words[0] == "migrate":
        return migrate_command(words[1:])
    print(f"pyha: unknown command {words[0]!r} (check, migrate)", file=sys.stderr)
    return 2
