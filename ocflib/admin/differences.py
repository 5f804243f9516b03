"""What a resource's configuration means differently to the reference agent and to
pyha's: the rows of docs/differences.md's table that apply to one parameter set,
for `pyha migrate` (both ways).

A difference either keeps the configuration's meaning (pyha gives the value the
reference's meaning and says so: shown, the switch goes on) or changes what the
resource does (blocks: the switch needs --force). What the target agent refuses
outright is validate-all's verdict, asked separately (migrate.Step.refused).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Difference", "differences", "parameter_types"]

# ocf_is_true's true values; anything else is false to the shell agents (and to pyha,
# with a warning). Compared case-insensitively, as pyha does.
TRUE = ("yes", "true", "1", "on")
FALSE = ("no", "false", "0", "off")
# What the shell agents source for every agent (ocf-shellfuncs): never in meta-data
# everywhere, always understood.
EVERY_AGENT = ("trace_ra", "trace_file", "trace_dir")
SECRETS = ("test_passwd", "replication_passwd", "check_passwd")
CLUSTERIP_HASHES = ("sourceip", "sourceip-sourceport", "sourceip-sourceport-destport")


@dataclass(frozen=True)
class Difference:
    parameter: str
    text: str
    blocks: bool  # the resource would behave differently: only with --force

    def as_dict(self) -> dict[str, object]:
        return {"parameter": self.parameter, "text": self.text, "blocks": self.blocks}


def parameter_types(metadata_xml: str) -> dict[str, str]:
    """name -> content type, from an agent's meta-data."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(metadata_xml)  # noqa: S314 - an installed agent's meta-data
    out = {}
    for parameter in root.iter("parameter"):
        content = parameter.find("content")
        kind = content.get("type", "string") if content is not None else "string"
        out[parameter.get("name", "")] = kind
    return out


def _short(agent: str) -> str:
    return agent.rsplit(":", maxsplit=1)[-1]


def differences(
    source: str,
    target: str,
    params: Mapping[str, str],
    source_types: Mapping[str, str] | None,
    target_types: Mapping[str, str] | None,
) -> list[Difference]:
    """The differences that apply to params when source's resource goes to target.
    *_types: the agents' parameters as this node's meta-data declares them (None: that
    agent's meta-data could not be read; the checks that need it are left out)."""
    found: list[Difference] = []
    to_pyha = ":pyha:" in target
    types = dict(source_types or {})
    types.update(target_types or {})
    for name, value in sorted(params.items()):
        if name in EVERY_AGENT:
            continue
        # Which agent knows which parameter is only judged with both meta-data at hand.
        both = source_types is not None and target_types is not None
        known_to_source = not both or name in (source_types or {})
        known_to_target = not both or name in (target_types or {})
        if not known_to_target:
            found.append(
                Difference(
                    name,
                    f"{_short(target)} on this node has no parameter {name}: it would be "
                    f"ignored, and what {_short(source)} does with it would stop",
                    True,
                )
            )
            continue
        if not known_to_source:
            found.append(
                Difference(
                    name,
                    f"{_short(source)} on this node ignores {name}; {_short(target)} would "
                    "act on it",
                    True,
                )
            )
            continue
        if value != value.strip() and name not in SECRETS:
            found.append(
                Difference(name, "surrounding white space is never part of a value", False)
            )
        if value.strip() == "":
            found.append(Difference(name, "an empty value is unset: the default applies", False))
        elif types.get(name) == "boolean" and value.strip().lower() not in TRUE + FALSE:
            found.append(
                Difference(
                    name,
                    f"{value.strip()!r} is not a boolean: false, as the reference's ocf_is_true "
                    "makes it (pyha logs a warning)",
                    False,
                )
            )
    agent = _short(source if to_pyha else target)
    if agent.startswith("mysql") and params.get("client_binary", "").strip() and to_pyha:
        found.append(
            Difference(
                "client_binary",
                "client_binary is not needed (pyha speaks the protocol itself)",
                False,
            )
        )
    if agent.startswith("IPaddr2"):
        hash_ = params.get("clusterip_hash", "").strip()
        if hash_ and hash_ not in CLUSTERIP_HASHES:
            found.append(
                Difference(
                    "clusterip_hash",
                    f"{hash_!r} is no clusterip_hash: the default (sourceip-sourceport) applies",
                    False,
                )
            )
        label = params.get("lvs_ipv6_addrlabel", "").strip().lower()
        if label in TRUE and _is_ipv4(params.get("ip", "")):
            found.append(
                Difference(
                    "lvs_ipv6_addrlabel",
                    "lvs_ipv6_addrlabel is ignored for an IPv4 address (resource-agents "
                    "4.12 refuses it, 4.16 accepts it)",
                    False,
                )
            )
    return found


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip()).version == 4
    except ValueError:
        return False
