"""What differs between Pacemaker 2.0, 2.1 and 3.0 for an agent: decided here, only here.

Measured on real clusters (Debian 11's 2.0.5, Debian 12's 2.1.5, Debian 13's 3.0.0; the
table in docs/design.md, "Pacemaker versions"):

- Role names. 2.1 brought Promoted/Unpromoted (CIB schema 3.7); 2.0 knows only
  Master/Slave and refuses the new names in its CIB. 2.1 and 3.0 accept both in a
  CIB and print Promoted (crm_mon's XML, crm_resource --locate); 2.0 prints Master.
  The meta-data advertises the names the installed Pacemaker takes
  (`for_this_pacemaker`); what the tools print is read with `is_promoted`.
- Promotion scores. `crm_attribute --promotion` exists from feature set 3.10.0 (2.1);
  before it, `crm_master`, deprecated since and still shipped by 3.0.
- Clone meta-attributes and notify variables. All three pass both promoted_max and
  master_max; 2.1 and 3.0 pass both the notify_promoted_* / notify_unpromoted_* and
  the old notify_master_* / notify_slave_* lists (identical sets, checked with
  ocf:pacemaker:Stateful's envfile), 2.0 only the old lists. `meta_names` gives the
  names to read, the current one first.
- OCF_RA_VERSION is 1.0 on 2.0, 1.1 on 2.1 and 3.0; the agents do not read it. The
  legacy reload rule for agents declaring OCF 1.0 holds on 2.1 and 3.0 alike (drbd-py
  is reloaded, not restarted), and so do the exit codes.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ClusterView",
    "parse_crm_mon",
    "parse_locate",
    "PROMOTION_FEATURE_SET",
    "SCHEMAS",
    "for_this_pacemaker",
    "is_promoted",
    "legacy_role_names",
    "meta_names",
    "promotion_command",
    "version_tuple",
]

SCHEMAS = "/usr/share/pacemaker"
# The feature set of Pacemaker 2.1, which brought crm_attribute --promotion.
PROMOTION_FEATURE_SET = (3, 10, 0)
PROMOTED_WORDS = frozenset({"Promoted", "Master"})
_OLD_NAMES = {"promoted": "master", "unpromoted": "slave"}


def version_tuple(text: str) -> tuple[int, ...]:
    """'3.10.0' -> (3, 10, 0); unparsable parts count as 0."""
    parts = []
    for piece in text.strip().split("."):
        digits = ""
        for ch in piece:
            if not ch.isdigit():
                break
            digits += ch
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def promotion_command(feature_set: str, crm_master_present: Callable[[], bool]) -> list[str]:
    """The start of a promotion-score command, as ocf_promotion_score chooses it:
    crm_attribute --promotion from feature set 3.10.0 on (or where crm_master is gone),
    the deprecated crm_master before (crm_master_present is asked only then)."""
    if version_tuple(feature_set or "0") >= PROMOTION_FEATURE_SET or not crm_master_present():
        return ["crm_attribute", "--promotion"]
    return ["crm_master", "-l", "reboot"]


def meta_names(name: str) -> tuple[str, ...]:
    """The meta-attribute (or notify variable) names to read for name, current first:
    promoted_max -> (promoted_max, master_max); notify_unpromoted_uname ->
    (notify_unpromoted_uname, notify_slave_uname); others -> (name,)."""
    for new, old in _OLD_NAMES.items():
        for head in ("", "notify_"):
            if name.startswith(head + new + "_"):
                return (name, head + old + name[len(head + new) :])
    return (name,)


def is_promoted(role: str | None) -> bool:
    """A role word the tools print for a promoted instance (Promoted; Master before 2.1)."""
    return role in PROMOTED_WORDS


def legacy_role_names(schemas: str = SCHEMAS) -> bool:
    """Whether this node's Pacemaker predates the Promoted/Unpromoted role names.

    Decided from the CIB schema files Pacemaker installs: legacy only when
    resources-*.rng are there and all older than 3.7 (the schema 2.1 brought the names
    with); no Pacemaker at all means the current names.
    """
    import os

    try:
        names = os.listdir(schemas)
    except OSError:
        return False
    versions = []
    for name in names:
        if name.startswith("resources-") and name.endswith(".rng"):
            parts = name[len("resources-") : -len(".rng")].split(".")
            if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                versions.append((int(parts[0]), int(parts[1])))
    return bool(versions) and max(versions) < (3, 7)


def for_this_pacemaker(xml: bytes, schemas: str = SCHEMAS) -> bytes:
    """The meta-data with Master/Slave role names where Pacemaker predates 2.1 (pcs 0.10
    copies the advertised roles into the operations it creates, and 2.0 refuses the new
    names)."""
    if b'role="' not in xml or not legacy_role_names(schemas):
        return xml
    return xml.replace(b'role="Promoted"', b'role="Master"').replace(
        b'role="Unpromoted"', b'role="Slave"'
    )


# --- what the tools print -------------------------------------------------------------


class ClusterView:
    """One crm_mon snapshot: members, quorum, fencing, node attributes, and
    where this resource is Promoted (active, not failed)."""

    __slots__ = (
        "online",
        "unclean",
        "members",
        "quorate",
        "stonith",
        "attrs",
        "promoted",
        "promoting",
    )

    def __init__(self) -> None:
        self.online: set[str] = set()
        self.unclean: set[str] = set()
        self.members: set[str] = set()
        self.quorate = False
        self.stonith = True
        self.attrs: dict[str, dict[str, str]] = {}
        self.promoted: set[str] = set()
        self.promoting: set[str] = set()


def parse_crm_mon(xml: str, resource: str) -> ClusterView:
    """crm_mon's XML (--output-as=xml, or the older --as-xml) as a ClusterView."""
    import xml.etree.ElementTree as ET  # noqa: N817 - the usual name

    from ocflib.errors import GenericError

    view = ClusterView()
    try:
        root = ET.fromstring(xml)  # noqa: S314 - crm_mon's own output, not untrusted input
    except ET.ParseError as err:
        raise GenericError(f"crm_mon gave output that is not XML: {err}") from err
    dc = root.find("./summary/current_dc")
    view.quorate = dc is not None and dc.get("with_quorum") == "true"
    options = root.find("./summary/cluster_options")
    view.stonith = options is None or options.get("stonith-enabled") != "false"
    for node in root.iterfind("./nodes/node"):
        name = node.get("name", "")
        if node.get("type", "member") == "member":
            view.members.add(name)
        if node.get("online") == "true":
            view.online.add(name)
        if node.get("unclean") == "true":
            view.unclean.add(name)
    for node in root.iterfind("./node_attributes/node"):
        view.attrs[node.get("name", "")] = {
            a.get("name", ""): a.get("value", "") for a in node.iterfind("attribute")
        }
    for rsc in root.iter("resource"):
        if rsc.get("id", "").split(":", 1)[0] != resource:
            continue
        if "Promoting" in (rsc.get("role"), rsc.get("pending")):  # 2.1 shows it as the role
            view.promoting.update(n.get("name", "") for n in rsc.iterfind("node"))
        if (
            is_promoted(rsc.get("role"))
            and rsc.get("active") == "true"
            and rsc.get("orphaned", "false") == "false"
            and rsc.get("failed", "false") == "false"
        ):
            view.promoted.update(n.get("name", "") for n in rsc.iterfind("node"))
    return view


def parse_locate(text: str) -> list[str]:
    """The nodes `crm_resource --locate` shows the resource promoted on (it prints
    `Promoted` since Pacemaker 2.1, `Master` before)."""
    nodes = []
    for line in text.splitlines():
        _, sep, rest = line.partition("is running on:")
        words = rest.split()
        if sep and len(words) >= 2 and is_promoted(words[1]):
            nodes.append(words[0])
    return nodes
