#!/usr/bin/python3
"""Failover of the classic stack, pyha agents against the reference agents, same lab.

    bench/failover.py [--kind uml|namespaces]... [--failovers N] [--write BENCHMARKS.md]

For each kind of lab (namespace nodes with a shared disk; UML nodes with real
DRBD) and each agent set (ocf:pyha:*; ocf:heartbeat:* with ocf:linbit:drbd),
the same stack is brought up in a fresh lab, a client commits rows through the
VIP, and the node holding the stack is powered off hard N times (the dead node
rejoins after each). Two times per failover, from the kill: the first commit
the client gets acknowledged by the survivor, and the moment Pacemaker shows
the whole stack started there. Every acknowledged commit is checked each time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.bench import write_section  # noqa: E402
from bench.soak import run  # noqa: E402
from lab.scenario import Failover  # noqa: E402

KINDS = {
    "namespaces": "namespace nodes (token 1000 ms), shared loop disk",
    "uml": "UML nodes (token 3000 ms), DRBD 8.4",
}


def cell(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def table(results: dict[tuple[str, str], list[Failover]], count: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this machine "
        f"({os.cpu_count()} cores, Linux {platform.release()}); {count} hard failovers per "
        "row, the dead node rejoining after each, every acknowledged commit checked (none "
        "lost). Seconds from the kill, median (min-max). *Fenced*: the cluster's own part "
        "(token lost, new membership, fencing confirmed), before any agent acts. *After "
        "fencing*: from then until the survivor's log shows MySQL started (the agents' "
        "actions and Pacemaker's bookkeeping between them). *Started*: the sum, read from "
        "the survivor's log.",
        "",
        "| lab | agents | first commit on the survivor | fenced | after fencing "
        "| stack started | ratio, first commit | ratio, after fencing | ratio, started |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, label in KINDS.items():
        mine, ref = results.get((kind, "pyha")), results.get((kind, "reference"))
        for agents, done in (("pyha", mine), ("reference", ref)):
            if not done:
                continue
            columns = {
                "first": [f.first_commit for f in done],
                "fenced": [f.fenced for f in done if f.fenced is not None],
                "after": [f.running - f.fenced for f in done if f.fenced is not None],
                "running": [f.running for f in done],
            }
            ratios = ["", "", ""]
            if agents == "pyha" and ref:
                theirs = {
                    "first": [f.first_commit for f in ref],
                    "after": [f.running - f.fenced for f in ref if f.fenced is not None],
                    "running": [f.running for f in ref],
                }
                ratios = [
                    f"**{statistics.median(columns[k]) / statistics.median(theirs[k]):.2f}**"
                    if columns[k] and theirs[k]
                    else ""
                    for k in ("first", "after", "running")
                ]
            cells = [cell(columns[k]) if columns[k] else "" for k in columns]
            row = [label, agents, *cells, *ratios]
            lines.append(f"| {' | '.join(row)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", action="append", choices=list(KINDS))
    parser.add_argument("--failovers", type=int, default=3)
    parser.add_argument("--write", metavar="FILE")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("failover: needs root (it builds namespaces and runs clusters)")
    for kind in args.kind or list(KINDS):
        results = {
            (kind, agents): run(kind, agents, args.failovers) for agents in ("pyha", "reference")
        }
        body = table(results, args.failovers)
        print(f"\n## failover: {kind}\n\n{body}", flush=True)
        if args.write:
            write_section(args.write, f"failover: {kind}", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
