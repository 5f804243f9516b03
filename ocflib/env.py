"""The OCF environment of one agent invocation, parsed once."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["OcfEnv", "NotifyInfo", "parse_bool", "split_list", "OCF_TRUE", "ocf_is_true"]

# The truth tables, the only ones (ocflib/ocf.py, a stand-alone shim, keeps a copy of
# the first that a unit test holds equal to it):
# Pacemaker's booleans (crm_is_true), in any case, plus ocf_is_true's "ja";
_TRUE = frozenset(("true", "on", "yes", "y", "1", "ja"))
_FALSE = frozenset(("false", "off", "no", "n", "0", "nein"))
# what the shell agents' ocf_is_true calls true (resource-agents' ocf-shellfuncs), exactly.
OCF_TRUE = frozenset(("yes", "true", "1", "YES", "TRUE", "True", "ja", "on", "ON"))


def ocf_is_true(text: str) -> bool:
    """ocf_is_true of the shell agents: one of OCF_TRUE (surrounding blanks ignored)."""
    return text.strip() in OCF_TRUE


RSCTMP_DEFAULT = "/run/resource-agents"


def parse_bool(text: str | None) -> bool | None:
    """Pacemaker's boolean spellings (lib/common/strings.c), any case.

    ``true|on|yes|y|1`` and ``false|off|no|n|0``; also ``ja``, which
    ocf-shellfuncs' ocf_is_true accepts. None for anything else.
    """
    if text is None:
        return None
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    return None


def _int_or_none(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None


def split_list(text: str | None) -> tuple[str, ...]:
    """A Pacemaker notify list: whitespace separated, possibly a lone blank."""
    if not text:
        return ()
    return tuple(text.split())


class NotifyInfo:
    """Pacemaker's clone notification variables (OCF_RESKEY_CRM_meta_notify_*).

    Reads the promoted/unpromoted names and falls back to the deprecated
    master/slave ones, which Pacemaker still sends.
    """

    __slots__ = ("type", "operation", "_meta")

    def __init__(self, meta: Mapping[str, str]) -> None:
        self._meta = meta
        self.type = meta.get("notify_type", "").strip()
        self.operation = meta.get("notify_operation", "").strip()

    def _list(self, name: str) -> tuple[str, ...]:
        from ocflib.pacemaker import meta_names

        for each in meta_names(f"notify_{name}"):
            value = self._meta.get(each)
            if value is not None and value.strip():
                return split_list(value)
        return ()

    def unames(self, kind: str) -> tuple[str, ...]:
        """Node names of a notify list: start, stop, active, inactive, promote,
        demote, promoted, unpromoted, all, available."""
        return self._list(f"{kind}_uname")

    def resources(self, kind: str) -> tuple[str, ...]:
        """Resource instance names of a notify list (same kinds as unames)."""
        return self._list(f"{kind}_resource")

    @property
    def key(self) -> str:
        """``pre-promote``, ``post-start``, ..."""
        return f"{self.type}-{self.operation}"


class OcfEnv:
    """Everything an agent reads from its environment, parsed once in main().

    Times are in milliseconds, as Pacemaker passes them.
    """

    __slots__ = (
        "action",
        "instance",
        "resource_type",
        "interval_ms",
        "timeout_ms",
        "check_level",
        "meta",
        "reskeys",
        "rsctmp",
        "ha_bin",
        "crm_feature_set",
        "exit_reason_prefix",
        "environ",
    )

    def __init__(self, action: str, environ: Mapping[str, str]) -> None:
        self.action = action
        self.environ = environ
        self.instance = environ.get("OCF_RESOURCE_INSTANCE", "") or "default"
        self.resource_type = environ.get("OCF_RESOURCE_TYPE", "")
        meta: dict[str, str] = {}
        reskeys: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("OCF_RESKEY_CRM_meta_"):
                meta[key[20:]] = value
            elif key.startswith("OCF_RESKEY_"):
                reskeys[key[11:]] = value
        self.meta = meta
        self.reskeys = reskeys
        self.interval_ms = _int_or_none(meta.get("interval")) or 0
        self.timeout_ms = _int_or_none(meta.get("timeout"))
        level = environ.get("OCF_CHECK_LEVEL")
        if level is None or not level.strip():
            level = reskeys.get("OCF_CHECK_LEVEL")
        self.check_level = max(_int_or_none(level) or 0, 0)
        self.rsctmp = environ.get("HA_RSCTMP") or RSCTMP_DEFAULT
        self.ha_bin = environ.get("HA_BIN") or "/usr/libexec/heartbeat"
        self.crm_feature_set = reskeys.get("crm_feature_set", "")
        self.exit_reason_prefix = environ.get("OCF_EXIT_REASON_PREFIX", "ocf-exit-reason:")

    @property
    def is_probe(self) -> bool:
        """OCF: a monitor with interval 0 (or none) is a probe."""
        return self.action == "monitor" and self.interval_ms == 0

    def effective_check_level(self, supported: tuple[int, ...] = (0, 10, 20)) -> int:
        """The highest supported depth not above OCF_CHECK_LEVEL.

        OCF 1.1: "if a level is not implemented, run the next lower one".
        """
        best = 0
        for level in supported:
            if level <= self.check_level and level > best:
                best = level
        return best

    def meta_bool(self, name: str) -> bool:
        """A boolean CRM_meta_ attribute; unset or unparsable is False."""
        return parse_bool(self.meta.get(name)) is True

    def meta_int(self, name: str) -> int | None:
        """An integer CRM_meta_ attribute, or None."""
        return _int_or_none(self.meta.get(name))

    @property
    def clone(self) -> int | None:
        """This clone instance's number, or None outside a clone."""
        return self.meta_int("clone")

    @property
    def clone_max(self) -> int | None:
        """clone-max, or None when the resource is not a clone."""
        return self.meta_int("clone_max")

    @property
    def is_clone(self) -> bool:
        """ocf_is_clone: CRM_meta_clone_max is set."""
        return bool(self.meta.get("clone_max", "").strip())

    @property
    def promoted_max(self) -> int | None:
        """promoted-max (or the deprecated master-max)."""
        return self._meta_int_of("promoted_max")

    @property
    def promoted_node_max(self) -> int | None:
        """promoted-node-max (or the deprecated master-node-max)."""
        return self._meta_int_of("promoted_node_max")

    def _meta_int_of(self, name: str) -> int | None:
        """The first of name's meta-attribute names (ocflib.pacemaker) that is set."""
        from ocflib.pacemaker import meta_names

        for each in meta_names(name):
            value = self.meta_int(each)
            if value is not None:
                return value
        return None

    @property
    def is_promotable(self) -> bool:
        """ocf_is_ms: promotable=true, or master-max/promoted-max above 0."""
        return self.meta_bool("promotable") or (self.promoted_max or 0) > 0

    @property
    def globally_unique(self) -> bool:
        """The globally-unique clone meta attribute."""
        return self.meta_bool("globally_unique")

    @property
    def notify_enabled(self) -> bool:
        """The clone has notify=true (or sends notify variables)."""
        return self.meta_bool("notify") or "notify_start_uname" in self.meta

    @property
    def notify(self) -> NotifyInfo:
        """The notification variables of this call."""
        return NotifyInfo(self.meta)

    @property
    def on_node(self) -> str:
        """CRM_meta_on_node: the node Pacemaker runs this on, or ''."""
        return self.meta.get("on_node", "")
