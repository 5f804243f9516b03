"""ocf_pyha_<agent>(7): an agent's manual page, rendered from its meta-data.

The meta-data (metadata/<agent>.xml) is itself rendered from the agent's spec and a
test keeps it current, so the page says exactly what `crm ra info` and `pcs resource
describe` say: every parameter with its description, type and default, every action
with its suggested timeout, and configuration examples for crm and pcs. The exit
status, the checks by depth, the files and the differences from the reference agent
come from the agent's section of docs/agents.md and from docs/differences.md, the pages
an administrator reads on the web, so both say the same. Run at build time by `make
man` (stdlib only):

    python3 packaging/manpage.py metadata/IPaddr2-py.xml > ocf_pyha_IPaddr2-py.7

The date comes from SOURCE_DATE_EPOCH when set (reproducible builds), else today.
"""

from __future__ import annotations

import os
import re
import sys
import time
import xml.etree.ElementTree as ET

__all__ = ["render"]

PROVIDER = "pyha"
# The agent each one replaces, and its manual page where resource-agents ships one.
REPLACES = {
    "IPaddr2-py": ("ocf:heartbeat:IPaddr2", "ocf_heartbeat_IPaddr2"),
    "Filesystem-py": ("ocf:heartbeat:Filesystem", "ocf_heartbeat_Filesystem"),
    "mysql-py": ("ocf:heartbeat:mysql", "ocf_heartbeat_mysql"),
    "galera-py": ("ocf:heartbeat:galera", "ocf_heartbeat_galera"),
    "drbd-py": ("ocf:linbit:drbd", None),
}
# Each agent's example, with real values and what a working configuration needs around
# the primitive (tests/contract/test_examples.py loads every example into a CIB, checks it
# with crm_verify and runs the agent's validate-all with its parameters):
# (parameters, operations, the promotable clone's meta-attributes or None).
EXAMPLES: dict[str, tuple[str, list[str], str | None]] = {
    "IPaddr2-py": (
        "ip=192.0.2.100 cidr_netmask=24",
        ["monitor interval=10s timeout=20s"],
        None,
    ),
    "Filesystem-py": (
        "device=/dev/drbd0 directory=/var/lib/mysql fstype=ext4",
        ["monitor interval=20s timeout=40s", "start timeout=60s", "stop timeout=60s"],
        None,
    ),
    "mysql-py": (
        "config=/etc/mysql/my.cnf datadir=/var/lib/mysql",
        ["monitor interval=20s timeout=30s", "start timeout=120s", "stop timeout=120s"],
        None,
    ),
    # DRBD's clone needs notifications (start refuses the clone without them: 6).
    "drbd-py": (
        "drbd_resource=r0",
        [
            "monitor interval=29s timeout=20s role=Promoted",
            "monitor interval=31s timeout=20s role=Unpromoted",
        ],
        "promotable=true notify=true promoted-max=1 clone-max=2",
    ),
    # Every Galera node Promoted: promoted-max is the number of nodes of the address.
    "galera-py": (
        "wsrep_cluster_address=gcomm://node1,node2,node3 config=/etc/mysql/my.cnf",
        [
            "promote timeout=300s",
            "monitor interval=10s timeout=30s role=Promoted",
            "monitor interval=30s timeout=30s role=Unpromoted",
        ],
        "promotable=true promoted-max=3 clone-max=3",
    ),
}
ACTIONS = {
    "start": "Starts the resource.",
    "stop": "Stops the resource.",
    "monitor": "Checks the resource's state.",
    "status": "Checks the resource's state (as monitor, for older tools).",
    "promote": "Promotes the resource to the Promoted role.",
    "demote": "Demotes the resource to the Unpromoted role.",
    "notify": "Handles Pacemaker's notifications before and after the clone's actions.",
    "reload": "Applies changed parameters without a restart.",
    "validate-all": "Checks the configuration (at OCF_CHECK_LEVEL=10 also this node).",
    "meta-data": "Prints the agent's meta-data (for the cluster tools).",
}


# What every agent reads from its environment (Pacemaker sets all of them).
ENVIRONMENT = [
    ("OCF_RESKEY_<parameter>", "The resource's parameters, as listed above."),
    (
        "OCF_RESKEY_CRM_meta_timeout",
        "The action's timeout in milliseconds: every command and wait of the action ends "
        "before it.",
    ),
    (
        "OCF_CHECK_LEVEL",
        "The depth of monitor and validate-all (see CHECKS BY DEPTH); another value counts "
        "as the next lower one.",
    ),
    (
        "OCF_RESKEY_CRM_meta_interval",
        "0 for a probe: a probe on a node without the software reports 7 (not running).",
    ),
    (
        "OCF_RESKEY_CRM_meta_*",
        "The clone's meta-attributes and notification variables (current and deprecated "
        "names, the current first).",
    ),
    ("HA_RSCTMP", "Where the agent keeps its state files (default /run/resource-agents)."),
    (
        "HA_LOGFACILITY, HA_LOGFILE, HA_DEBUGLOG, HA_debug",
        "Syslog facility, log file, debug log, and debug messages on (1): as the shell "
        "agents read them.",
    ),
    (
        "HA_VARLIB",
        "The base of the trace directory (default /var/lib/heartbeat: traces in "
        "trace_ra/<agent>/).",
    ),
]


def escape(text: str) -> str:
    """text safe in a roff text line: backslashes, minus signs, leading dots/quotes."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        stripped = line.strip()
        lines.append("\\&" + stripped if stripped.startswith((".", "'")) else stripped)
    return "\n".join(lines)


def paragraphs(text: str, separator: str) -> list[str]:
    """Blank-line separated paragraphs, each escaped, joined by separator."""
    parts = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    out = []
    for i, part in enumerate(parts):
        if i:
            out.append(separator)
        out.append(escape(part))
    return out


def inline(text: str) -> str:
    """Markdown inline text (code, bold, links) as one escaped roff text line."""
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", " ".join(text.split()))

    def plain(part: str) -> str:
        return part.replace("\\", "\\e").replace("-", "\\-")

    out = []
    for part in re.split(r"(`[^`]+`|\*\*[^*]+\*\*)", text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(f"\\fB{plain(part[1:-1])}\\fR")
        elif part.startswith("**") and part.endswith("**") and len(part) > 3:
            out.append(f"\\fB{plain(part[2:-2])}\\fR")
        else:
            out.append(plain(part))
    line = "".join(out)
    return "\\&" + line if line.startswith((".", "'")) else line


def doc_sections(name: str, docs: str) -> dict[str, str]:
    """The ### sections of the agent's ## section of docs/agents.md: {title: body}."""
    with open(os.path.join(docs, "agents.md"), encoding="utf-8") as f:
        text = f.read()
    start = text.index(f"\n## {name}\n")
    end = text.find("\n## ", start + 1)
    part = text[start : end if end != -1 else len(text)]
    sections = {}
    for chunk in part.split("\n### ")[1:]:
        title, _, body = chunk.partition("\n")
        sections[title.strip()] = body
    return sections


def table(body: str) -> tuple[list[str], list[list[str]]]:
    """The first markdown table of body: (header cells, rows of cells)."""
    rows = [
        [c.strip() for c in line.strip().strip("|").split(" | ")]
        for line in body.splitlines()
        if line.startswith("|")
    ]
    return rows[0], [r for r in rows[2:]]


def general_differences(name: str, docs: str) -> list[tuple[str, str]]:
    """(difference, reason) of docs/differences.md's rows for this agent (or all)."""
    with open(os.path.join(docs, "differences.md"), encoding="utf-8") as f:
        header, rows = table(f.read())
    if header[:2] != ["difference (the test's words)", "agents"]:
        raise ValueError(f"docs/differences.md: unexpected table header {header}")
    return [
        (row[0], row[2])
        for row in rows
        if row[1] == "all" or name in [a.strip() for a in row[1].split(",")]
    ]


def bullets(body: str) -> list[str]:
    """The "- " items of a markdown list, continuation lines joined."""
    items: list[str] = []
    for line in body.splitlines():
        if line.startswith("- "):
            items.append(line[2:])
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return items


def documented(name: str, reference: str, docs: str) -> list[str]:
    """EXIT STATUS, CHECKS BY DEPTH, FILES, ENVIRONMENT and DIFFERENCES, as roff."""
    sections = doc_sections(name, docs)
    out = ['.SH "EXIT STATUS"']
    for code, when in table(sections["Exit status"])[1]:
        out += [".TP", f"\\fB{escape(code)}\\fR", inline(when)]
    out += [
        '.SH "CHECKS BY DEPTH"',
        ".PP",
        "OCF_CHECK_LEVEL selects what monitor and validate-all check:",
    ]
    for depth, monitor, validate in table(sections["Checks by depth"])[1]:
        out += [
            ".TP",
            f"\\fB{escape(depth)}\\fR",
            inline(f"monitor: {monitor}."),
            ".br",
            inline(f"validate-all: {validate}."),
        ]
    out += [".SH FILES"]
    for item in bullets(sections["Files"]):
        out += [".IP \\(bu 2", inline(item)]
    out += [".SH ENVIRONMENT"]
    for variable, meaning in ENVIRONMENT:
        out += [".TP", f"\\fB{escape(variable)}\\fR", escape(meaning)]
    header, rows = table(sections[f"Differences from {reference}"])
    out += [
        f'.SH "DIFFERENCES FROM {escape(reference.upper())}"',
        ".PP",
        "Where this agent and the one it replaces differ (the reference's behaviour first):",
    ]
    for row in rows:
        situation, theirs, ours = row[0], row[1], row[2]
        why = f" ({row[3]})" if len(row) > 3 and row[3] else ""
        out += [
            ".TP",
            inline(situation),
            inline(f"{header[1]}: {theirs}; {header[2]}: {ours}{why}."),
        ]
    out += [
        ".PP",
        "What every pyha agent does differently from the shell agents, as the differential "
        "test (validate-all of both agents on the same drawn parameter sets) checks it:",
    ]
    for difference, reason in general_differences(name, docs):
        out += [".TP", inline(difference), inline(reason)]
    return out


def _seconds(value: str) -> str:
    return value if not value.isdigit() else f"{value}s"


DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def render(xml_text: str, version: str, date: str, docs: str = DOCS) -> str:
    """The manual page (roff, man macros) for the meta-data document xml_text, with
    the sections docs/agents.md and docs/differences.md hold for the agent."""
    root = ET.fromstring(_body(xml_text))  # noqa: S314 - our own generated meta-data
    name = root.get("name", "")
    page = f"ocf_{PROVIDER}_{name}"
    shortdesc = (root.findtext("shortdesc") or "").strip()
    longdesc = root.findtext("longdesc") or ""
    actions = root.findall("actions/action")
    action_names = []
    for action in actions:
        if action.get("name") not in action_names:
            action_names.append(action.get("name", ""))
    out = [
        f'.TH "{page.upper()}" "7" "{date}" "pyha {version}" "OCF resource agents"',
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{escape(page)} \\- {escape(shortdesc)}",
        ".SH SYNOPSIS",
        f"\\fB{escape(name)}\\fR [{escape(' | '.join(action_names))}]",
        ".SH DESCRIPTION",
        ".PP",
        *paragraphs(longdesc, ".PP"),
    ]
    replaces = REPLACES.get(name)
    if replaces and replaces[0] not in longdesc:
        out += [
            ".PP",
            f"A drop\\-in replacement for \\fB{escape(replaces[0])}\\fR: the same parameters, "
            "defaults and exit codes; configure it as "
            f"\\fBocf:{PROVIDER}:{escape(name)}\\fR.",
        ]
    out += ['.SH "SUPPORTED PARAMETERS"']
    for param in root.findall("parameters/parameter"):
        content = param.find("content")
        kind = content.get("type", "string") if content is not None else "string"
        default = content.get("default") if content is not None else None
        flags = []
        if param.get("unique") == "1":
            flags.append("unique")
        flags.append("required" if param.get("required") == "1" else "optional")
        flags.append(kind)
        flags.append(f'default "{default}"' if default else "no default")
        out += [
            ".PP",
            f"\\fB{escape(param.get('name', ''))}\\fR",
            ".RS 4",
            *paragraphs(param.findtext("longdesc") or "", ".sp"),
            ".sp",
            f"({escape(', '.join(flags))})",
            ".RE",
        ]
    out += [
        '.SH "SUPPORTED ACTIONS"',
        ".PP",
        "The agent supports these actions (operations):",
    ]
    for action in actions:
        action_name = action.get("name", "")
        words = [ACTIONS.get(action_name, "")]
        if action.get("role"):
            words.append(f"Role: {action.get('role')}.")
        words.append(f"Suggested minimum timeout: {_seconds(action.get('timeout', ''))}.")
        if action.get("interval"):
            words.append(f"Suggested interval: {_seconds(action.get('interval', ''))}.")
        if action.get("depth"):
            words.append(f"Depth: {action.get('depth')}.")
        out += [
            ".PP",
            f"\\fB{escape(action_name)}\\fR",
            ".RS 4",
            escape(" ".join(w for w in words if w)),
            ".RE",
        ]
    if replaces:
        out += documented(name, replaces[0], docs)
    crm, pcs = examples(name)
    out += [
        '.SH "EXAMPLE CRM SHELL"',
        ".PP",
        "With \\fBcrm\\fR(8):",
        ".sp",
        ".nf",
        *(_indented(line) for line in crm),
        ".fi",
        '.SH "EXAMPLE PCS"',
        ".PP",
        "With \\fBpcs\\fR(8):",
        ".sp",
        ".nf",
        *(_indented(line) for line in pcs),
        ".fi",
        ".PP",
        "Pacemaker 2.0 knows the roles as Master and Slave: write those there.",
        '.SH "SEE ALSO"',
        ".PP",
        ", ".join(
            [
                *([f"\\fB{escape(replaces[1])}\\fR(7)"] if replaces and replaces[1] else []),
                "\\fBcrm\\fR(8)",
                "\\fBpcs\\fR(8)",
                "\\fBcrm_resource\\fR(8)",
                "\\fBpyha\\fR(8)",
            ]
        ),
        "",
    ]
    return "\n".join(out)


def _indented(line: str) -> str:
    """An example line, escaped, its indentation kept (.nf shows it)."""
    return " " * (len(line) - len(line.lstrip())) + escape(line)


def examples(name: str) -> tuple[list[str], list[str]]:
    """The crm and the pcs example of an agent: its lines, plain text."""
    params, ops, clone = EXAMPLES[name]
    short = name.split("-", maxsplit=1)[0].lower()
    crm = [f"primitive p_{short} ocf:{PROVIDER}:{name} \\", f"  params {params} \\"]
    crm += [f"  op {op}" + (" \\" if i < len(ops) - 1 else "") for i, op in enumerate(ops)]
    pcs = [f"pcs resource create p_{short} ocf:{PROVIDER}:{name} \\", f"  {params} \\"]
    pcs += [f"  op {' '.join(ops)}" + (" \\" if clone else "")]
    if clone:
        crm.append(f"clone c_{short} p_{short} meta {clone}")
        pcs.append("  promotable " + " ".join(w for w in clone.split() if w != "promotable=true"))
    return crm, pcs


def _body(xml_text: str) -> str:
    """The root element's text, without the XML declaration and the DOCTYPE."""
    start = xml_text.find("<resource-agent")
    return xml_text[start:]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: manpage.py METADATA.xml\n")
        return 2
    with open(argv[1], encoding="utf-8") as f:
        xml_text = f.read()
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from ocflib import __version__

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    stamp = time.gmtime(int(epoch)) if epoch and epoch.isdigit() else time.gmtime()
    sys.stdout.write(render(xml_text, __version__, time.strftime("%Y-%m-%d", stamp)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
