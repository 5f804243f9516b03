"""OCF and Pacemaker exit codes, as one enumeration."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import ClassVar

__all__ = ["OCF"]


class OCF(int):
    """An agent's exit status (OCF RA API 1.1, Pacemaker 2.1 names).

    Values must stay in sync with Pacemaker's include/crm/common/results.h.
    Recovery, as Pacemaker applies it:

    - SUCCESS (0): the action worked; monitor: running (unpromoted).
    - ERR_GENERIC (1): soft error; the resource is recovered (restart/move).
    - ERR_ARGS (2): the parameters are wrong *on this node*: hard error,
      the resource is banned from this node.
    - ERR_UNIMPLEMENTED (3): action not supported; no recovery on monitor.
    - ERR_PERM (4): insufficient privilege: hard error on this node.
    - ERR_INSTALLED (5): software missing on this node: hard error on this
      node; on a probe it means "not running here".
    - ERR_CONFIGURED (6): the configuration is inherently invalid: fatal,
      the resource is stopped everywhere and not started again.
    - NOT_RUNNING (7): monitor only: cleanly stopped. Never from stop.
    - RUNNING_PROMOTED (8), FAILED_PROMOTED (9): monitor of a promotable
      resource in the promoted role, healthy or failed.
    - DEGRADED (190), DEGRADED_PROMOTED (191): running but degraded;
      Pacemaker treats them as success.

    This is a small int subclass rather than ``enum.IntEnum``: importing
    ``enum`` costs about 5 ms, a quarter of a lean monitor's budget, and
    agents run every few seconds on every node. It behaves like an IntEnum
    where it matters: unique members, ``OCF(7) is OCF.NOT_RUNNING``,
    ``.name``, iteration in value order.
    """

    __slots__ = ()

    SUCCESS: ClassVar[OCF]
    ERR_GENERIC: ClassVar[OCF]
    ERR_ARGS: ClassVar[OCF]
    ERR_UNIMPLEMENTED: ClassVar[OCF]
    ERR_PERM: ClassVar[OCF]
    ERR_INSTALLED: ClassVar[OCF]
    ERR_CONFIGURED: ClassVar[OCF]
    NOT_RUNNING: ClassVar[OCF]
    RUNNING_PROMOTED: ClassVar[OCF]
    FAILED_PROMOTED: ClassVar[OCF]
    DEGRADED: ClassVar[OCF]
    DEGRADED_PROMOTED: ClassVar[OCF]

    def __new__(cls, value: int) -> OCF:
        try:
            return _MEMBERS[int(value)]
        except KeyError:
            raise ValueError(f"{value!r} is not an OCF exit code") from None

    @property
    def name(self) -> str:
        """The Pacemaker 2.1 name, e.g. ``NOT_RUNNING``."""
        return _NAMES[int(self)]

    @property
    def value(self) -> int:
        """The plain integer."""
        return int(self)

    def __repr__(self) -> str:
        return f"<OCF.{self.name}: {int(self)}>"

    __str__ = int.__repr__

    @classmethod
    def members(cls) -> Iterator[OCF]:
        """Every exit code, in value order."""
        return iter(_MEMBERS[v] for v in sorted(_MEMBERS))

    @classmethod
    def is_valid(cls, value: object) -> bool:
        """True when value is one of the defined exit codes."""
        return isinstance(value, int) and int(value) in _MEMBERS


_NAMES: dict[int, str] = {
    0: "SUCCESS",
    1: "ERR_GENERIC",
    2: "ERR_ARGS",
    3: "ERR_UNIMPLEMENTED",
    4: "ERR_PERM",
    5: "ERR_INSTALLED",
    6: "ERR_CONFIGURED",
    7: "NOT_RUNNING",
    8: "RUNNING_PROMOTED",
    9: "FAILED_PROMOTED",
    190: "DEGRADED",
    191: "DEGRADED_PROMOTED",
}

_building: dict[int, OCF] = {}
for _value, _name in _NAMES.items():
    _member = int.__new__(OCF, _value)
    _building[_value] = _member
    setattr(OCF, _name, _member)
_MEMBERS: dict[int, OCF] = _building
del _building, _value, _name, _member

# Shell-era names (ocf-returncodes), for the ocf.py shim and old habits.
OCF_RUNNING_MASTER = OCF.RUNNING_PROMOTED
OCF_FAILED_MASTER = OCF.FAILED_PROMOTED
