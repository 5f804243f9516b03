"""The drbd seam (Context.drbd): what the DRBD module shows in /proc, and who holds
its devices. The parsing is ocflib.drbdstate's."""

from __future__ import annotations

from ocflib.drbdstate import DRBD_MAJOR, version_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["SystemDrbd"]


class SystemDrbd:
    """The node's DRBD module, as /proc shows it."""

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc

    def module_version(self) -> tuple[int, int, int] | None:
        """The loaded module's version from /proc/drbd, or None when the module
        is not loaded."""
        try:
            with open(f"{self.proc}/drbd") as f:
                first = f.readline()
        except OSError:
            return None
        return version_line(first)

    def device_holders(self, minors: Iterable[int]) -> list[str]:
        """Who keeps /dev/drbdN open: mounts of it and processes with it open,
        as short phrases for an exit reason."""
        from ocflib.mounts import read_mounts
        from ocflib.proc import process
        from ocflib.procfs import fd_holders

        wanted = set(minors)
        out: list[str] = []
        try:
            for mount in read_mounts(f"{self.proc}/self/mountinfo"):
                if mount.major == DRBD_MAJOR and mount.minor in wanted:
                    out.append(f"mounted on {mount.target}")
        except OSError:
            pass
        for pid, target in fd_holders({f"/dev/drbd{m}" for m in wanted}, proc=self.proc):
            p = process(pid)
            out.append(f"process {pid} ({p.name if p else '?'}) has {target} open")
        return out
