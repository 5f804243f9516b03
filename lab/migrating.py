"""pyha migrate and pyha check in a running lab cluster (namespace or UML): the
installed command run on a node, what it printed and how long it took, and whether
Pacemaker started, stopped, promoted or demoted anything meanwhile (its own log)."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from lab.ops import ClusterOps, LabError, _stamped

OPERATED = r"Result of (start|stop|promote|demote) operation for ({ids})(:\d+)? "


def operated_since(lab: ClusterOps, ids: Sequence[str], since: float) -> list[str]:
    """Every start/stop/promote/demote of these resources that a live node's
    Pacemaker logged at or after since (wall clock)."""
    regex = re.compile(OPERATED.format(ids="|".join(re.escape(i) for i in ids)))
    found = []
    for name in lab.live_nodes():
        log = lab.log(name, "pacemaker")
        stamped = list(_stamped(log, since))
        if not stamped:  # nothing logged since, or lines this parser does not read
            raise LabError(f"{name}: no time-stamped pacemaker log line after {since}")
        found += [line.strip() for _, line in stamped if regex.search(line)]
    return found


def pyha(
    lab: ClusterOps, node: str, command: str, args: Sequence[str], timeout: float = 300
) -> tuple[int, str, float]:
    """`pyha <args>` on node (command: where the lab installed it): exit code, what it
    printed (stdout and stderr), seconds."""
    at = time.monotonic()
    rc, out, err = lab._exec(node, [command, *args], None, timeout)
    return rc, out + err, time.monotonic() - at


def providers(lab: ClusterOps, node: str, ids: Sequence[str]) -> set[str]:
    """The providers of these primitives' agents in the CIB (heartbeat, linbit, pyha)."""
    out = lab.sh(node, ["cibadmin", "--query", "--scope", "resources"])
    found = set()
    for rid in ids:
        m = re.search(rf'<primitive id="{re.escape(rid)}" class="ocf" provider="(\w+)"', out)
        if m is None:
            raise LabError(f"no primitive {rid} in the CIB")
        found.add(m.group(1))
    return found


def switch(
    lab: ClusterOps,
    node: str,
    command: str,
    to: str,
    ids: Sequence[str],
    extra: Sequence[str] = (),
) -> float:
    """pyha migrate --to `to` of everything it finds; it must succeed and leave these
    primitives on the target's agents. Seconds it took."""
    rc, out, seconds = pyha(lab, node, command, ["migrate", "--to", to, *extra])
    print(out)
    if rc != 0:
        raise AssertionError(f"pyha migrate --to {to} returned {rc}: {out}")
    wanted = {"pyha"} if to == "pyha" else {"heartbeat", "linbit"}
    got = providers(lab, node, ids)
    if not got <= wanted:
        raise AssertionError(f"after pyha migrate --to {to}: providers {got}")
    return seconds


__all__ = ["operated_since", "pyha", "providers", "switch"]
