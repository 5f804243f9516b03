"""Meta-data XML from an agent's spec: ElementTree, escaped, deterministic.

The output passes ocf-tester's DTD (/usr/share/resource-agents/ra-api-1.dtd)
and resource-agents' metadata.rng: only name/required/unique on parameters,
content types string/integer/boolean, a timeout on every action.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Protocol
    from xml.etree.ElementTree import Element

    from ocflib.params import Param

    # What render reads of an agent (ocflib.agent.Agent and Action have it): the
    # shapes, so that this module does not import the agent that imports it.
    class ActionSpec(Protocol):
        name: str
        timeout_s: float
        interval_s: float | None
        depth: int | None
        role: str | None
        start_delay_s: float | None

    class AgentSpec(Protocol):
        name: str
        version: str
        ocf_version: str
        shortdesc: str
        longdesc: str

        @property
        def params(self) -> Sequence[Param[object]]: ...

        def all_actions(self) -> Sequence[ActionSpec]: ...


__all__ = ["render", "xml_safe"]

DOCTYPE = '<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">'


def xml_safe(text: str) -> str:
    """text without the characters XML 1.0 cannot carry at all.

    Control characters other than tab, newline and carriage return, lone
    surrogates and U+FFFE/U+FFFF are replaced by U+FFFD; everything else is
    kept and escaped by the serializer.
    """
    out = []
    for ch in text:
        code = ord(ch)
        if (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF
        ):
            out.append(ch)
        else:
            out.append("\ufffd")
    return "".join(out)


def _seconds(value: float) -> str:
    return f"{int(value)}s" if float(value).is_integer() else f"{int(value * 1000)}ms"


def _param_longdesc(param: Param[object]) -> str:
    text = param.longdesc
    extra = param.kind.describe()
    if extra and extra not in text:
        text = f"{text.rstrip()}\n({extra[0].upper()}{extra[1:]}.)"
    return text


def render(agent: AgentSpec) -> str:
    """The agent's meta-data document as text (UTF-8, with DOCTYPE)."""
    import xml.etree.ElementTree as ET

    root = ET.Element("resource-agent", {"name": agent.name, "version": agent.version})
    ET.SubElement(root, "version").text = agent.ocf_version
    _desc(root, "longdesc", agent.longdesc)
    _desc(root, "shortdesc", agent.shortdesc)
    params = ET.SubElement(root, "parameters")
    for param in agent.params:
        if param.hidden:
            continue
        attrs = {"name": param.name}
        attrs["unique"] = "1" if param.unique else "0"
        attrs["required"] = "1" if param.required else "0"
        node = ET.SubElement(params, "parameter", attrs)
        _desc(node, "longdesc", _param_longdesc(param))
        _desc(node, "shortdesc", param.shortdesc)
        content = {"type": param.kind.ocf_type}
        default = param.advertised_default
        if default is None:
            default = param.default
        if default is not None:
            content["default"] = xml_safe(default)
        ET.SubElement(node, "content", content)
    actions = ET.SubElement(root, "actions")
    for action in agent.all_actions():
        attrs = {"name": action.name, "timeout": _seconds(action.timeout_s)}
        if action.interval_s is not None:
            attrs["interval"] = _seconds(action.interval_s)
        if action.depth is not None:
            attrs["depth"] = str(action.depth)
        if action.role is not None:
            attrs["role"] = action.role
        if action.start_delay_s is not None:
            attrs["start-delay"] = _seconds(action.start_delay_s)
        ET.SubElement(actions, "action", attrs)
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    # ElementTree leaves a carriage return raw in text, which a parser
    # would turn into a newline; a character reference keeps it.
    body = body.replace("\r", "&#13;")
    return f'<?xml version="1.0"?>\n{DOCTYPE}\n{body}\n'


def _desc(parent: Element, tag: str, text: str) -> None:
    import xml.etree.ElementTree as ET

    node = ET.SubElement(parent, tag, {"lang": "en"})
    node.text = xml_safe(text)
