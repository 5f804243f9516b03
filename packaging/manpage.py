"""ocf_pyha_<agent>(7): an agent's manual page, rendered from its meta-data.

The meta-data (metadata/<agent>.xml) is itself rendered from the agent's spec and a
test keeps it current, so the page says exactly what `crm ra info` and `pcs resource
describe` say: every parameter with its description, type and default, every action
with its suggested timeout, and configuration examples for crm and pcs. Run at build
time by `make man` (stdlib only):

    python3 packaging/manpage.py metadata/IPaddr2-py.xml > ocf_pyha_IPaddr2-py.7

The date comes from SOURCE_DATE_EPOCH when set (reproducible builds), else today.
"""

from __future__ import annotations

import os
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


def _seconds(value: str) -> str:
    return value if not value.isdigit() else f"{value}s"


def render(xml_text: str, version: str, date: str) -> str:
    """The manual page (roff, man macros) for the meta-data document xml_text."""
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
    required = [p for p in root.findall("parameters/parameter") if p.get("required") == "1"]
    monitor = next((a for a in actions if a.get("name") == "monitor"), None)
    promotable = any(a.get("name") == "promote" for a in actions)
    crm = [f"primitive p_{name} ocf:{PROVIDER}:{name} \\e"]
    pcs = [f"pcs resource create p_{name} ocf:{PROVIDER}:{name} \\e"]
    if required:
        crm.append("  params \\e")
        for p in required:
            crm.append(f"    {p.get('name')}=\\fIvalue\\fR \\e")
            pcs.append(f"  {p.get('name')}=\\fIvalue\\fR \\e")
    if monitor is not None:
        timeout = _seconds(monitor.get("timeout", ""))
        interval = _seconds(monitor.get("interval", "10s"))
        timing = f'timeout="{timeout}" interval="{interval}"'
        crm.append(f"  op monitor {timing}")
        pcs.append(f"  op monitor {timing}" + (" promotable" if promotable else ""))
    if promotable:
        crm.append(f"clone c_{name} p_{name} meta promotable=true")
    out += [
        '.SH "EXAMPLE CRM SHELL"',
        ".PP",
        "With \\fBcrm\\fR(8):",
        ".sp",
        ".nf",
        *(line.replace("-", "\\-") for line in crm),
        ".fi",
        '.SH "EXAMPLE PCS"',
        ".PP",
        "With \\fBpcs\\fR(8):",
        ".sp",
        ".nf",
        *(line.replace("-", "\\-") for line in pcs),
        ".fi",
        '.SH "SEE ALSO"',
        ".PP",
        ", ".join(
            [
                *([f"\\fB{escape(replaces[1])}\\fR(7)"] if replaces and replaces[1] else []),
                "\\fBcrm\\fR(8)",
                "\\fBpcs\\fR(8)",
                "\\fBcrm_resource\\fR(8)",
            ]
        ),
        "",
    ]
    return "\n".join(out)


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
