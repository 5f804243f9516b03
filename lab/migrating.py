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


def procedure(index: int) -> list[str]:
    """The index-th by-hand procedure of docs/MIGRATING.md (0: crmsh, 1: pcs): its
    lines, comments kept (a comment-only line is a step done by hand)."""
    import os

    from lab.examples import ROOT, fenced_blocks

    blocks = fenced_blocks(os.path.join(ROOT, "docs", "MIGRATING.md"))
    return [lines for tag, lines in blocks if tag == "procedure"][index]


def by_hand(
    lab: ClusterOps,
    node: str,
    lines: Sequence[str],
    rid: str,
    old: tuple[str, str],
    new: tuple[str, str],
    scratch: str,
    ids: Sequence[str],
) -> list[str]:
    """Run a procedure of docs/MIGRATING.md on node as an administrator would, switching
    primitive rid from old to new (provider, type); what the guide leaves to the
    administrator is done here: the editor's change, waiting for the probes, the
    copy's is-managed=false deleted. /root/ becomes scratch (a directory the nodes
    see). Returns the lines run, each with its exit status; raises on a failure or
    when crm_simulate plans an action for ids."""
    import shlex

    from ocflib.admin import migrate as M

    done = []
    for line in lines:
        command = line.split("#", 1)[0].strip().replace("/root/", f"{scratch}/")
        if not command:  # a step by hand: the type in the saved resources section
            if f'id="{rid}"' in line:
                path = f"{scratch}/resources.xml"
                with open(path) as f:
                    text = f.read()
                pattern = (
                    rf'(<primitive id="{re.escape(rid)}" class="ocf" )'
                    rf'provider="{old[0]}" type="{old[1]}"'
                )
                text, count = re.subn(pattern, rf'\1provider="{new[0]}" type="{new[1]}"', text)
                if count != 1:
                    raise LabError(f"{rid} of {old} not found in {path}")
                with open(path, "w") as f:
                    f.write(text)
            continue
        argv, answer = ["sh", "-c", command], None
        if command.startswith("crm configure edit"):
            # the administrator's editor: the agent's type changed, nothing else
            # (crmsh shows ocf:heartbeat:X as X: the type is the word after the id)
            sed = f"s/^\\(primitive {rid} \\)[^ ]*/\\1ocf:{new[0]}:{new[1]}/"
            env = f"EDITOR={shlex.quote(f'sed -i {shlex.quote(sed)}')} "
            # crmsh edits only in a terminal ("edit not allowed in batch mode"): one
            # from script(1); a question it would ask is answered no (then this fails).
            argv, answer = ["script", "-qec", env + command, "/dev/null"], "n\n"
        rc, out, err = lab._exec(node, argv, answer, 120)
        done.append(f"{rc} {command}")
        if rc != 0:
            raise LabError(f"{command}: exit status {rc}: {err.strip()[-300:]}")
        if command.startswith("cibadmin --query >"):
            # "then delete is-managed=false from that copy"
            path = command.split(">", 1)[1].strip()
            with open(path) as f:
                text = f.read()
            text = re.sub(r'<nvpair[^>]*name="is-managed" value="false"[^>]*/>', "", text)
            with open(path, "w") as f:
                f.write(text)
        if command.startswith("crm_simulate"):
            planned = M.planned_actions(out, list(ids))
            if planned:
                raise LabError(f"{command} plans {planned}")
        if command.startswith(("crm_mon", "pcs status")):
            # "wait": every probe done and the cluster settled
            rc, _, err = lab._exec(node, ["crm_resource", "--wait", "--timeout", "60"], None, 90)
            if rc != 0:
                raise LabError(f"the cluster did not settle after the probes: {err.strip()}")
    return done
