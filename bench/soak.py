#!/usr/bin/python3
"""Hard failovers in a row, every acknowledged commit checked after each one.

    bench/soak.py [--kind uml|namespaces] [--agents pyha|reference] [--failovers N]

The classic stack (VIP, file system, MariaDB; on DRBD in UML nodes, on a shared
loop device in namespace nodes) runs in a lab cluster while a client commits
rows through the VIP; the node holding it is powered off hard, the survivor
takes over, the dead node is powered on again and rejoins (DRBD resyncs), and
so on. Exits 1 at the first lost commit or failed failover, keeping the logs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lab.ops import LabError  # noqa: E402
from lab.scenario import DrbdStack, Failover, SharedStack, Stack  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def make_stack(kind: str, agents: str, keep: bool = False) -> Stack:
    return DrbdStack(agents, keep=keep) if kind == "uml" else SharedStack(agents, keep=keep)


def run(kind: str, agents: str, count: int, keep: bool = False) -> list[Failover]:
    """Bring the stack up, then count hard failovers; the list of them."""
    started = time.monotonic()
    with make_stack(kind, agents, keep) as st:
        st.prepare()
        holder = st.configure()
        print(
            f"soak: {kind}/{agents}: stack running on {holder} after "
            f"{time.monotonic() - started:.0f} s",
            flush=True,
        )
        return st.soak(holder, count, report=lambda f: print(f"soak: {f}", flush=True))


def record(path: str, kind: str, agents: str, done: list[Failover]) -> None:
    """Write the soak's result as the section `soak: KIND` of a Markdown file."""
    from bench.bench import write_section

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    lab = {
        "uml": "UML nodes (token 3000 ms), DRBD 8.4",
        "namespaces": "namespace nodes (token 1000 ms), shared loop disk",
    }[kind]
    fenced = [f.fenced for f in done if f.fenced is not None]
    body = (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on this machine with "
        f"`bench/soak.py --kind {kind} --agents {agents} --failovers {len(done)}` (`make soak "
        f"SOAK_ARGS=...`): {len(done)} consecutive hard failovers of the classic stack, the "
        "dead node powered on again and rejoining after each; after each one every "
        "acknowledged commit is checked and crm_mon must show every resource running and "
        "no failed action. Seconds from the kill, median (min-max).\n\n"
        "| lab | agents | failovers | acknowledged commits | lost | resources left stopped or "
        "failed | first commit on the survivor | stack started | fenced |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
        f"| {lab} | {agents} | {len(done)} | {sum(f.acked for f in done)} | "
        f"{sum(len(f.lost) for f in done)} | 0 | {spread([f.first_commit for f in done])} | "
        f"{spread([f.running for f in done])} | {spread(fenced) if fenced else '-'} |\n"
    )
    write_section(path, f"soak: {kind}", body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=("uml", "namespaces"), default="uml")
    parser.add_argument("--agents", choices=("pyha", "reference"), default="pyha")
    parser.add_argument("--failovers", type=int, default=10)
    parser.add_argument("--keep", action="store_true", help="keep the lab's files (logs)")
    parser.add_argument("--write", metavar="FILE", help="record the result in this Markdown file")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("soak: needs root (it builds namespaces and runs a cluster)", file=sys.stderr)
        return 1
    try:
        done = run(args.kind, args.agents, args.failovers, args.keep)
    except (LabError, KeyboardInterrupt) as err:
        print(f"soak: FAILED: {err}", file=sys.stderr)
        return 1
    times = [f.first_commit for f in done]
    acked = sum(f.acked for f in done)
    if args.write:
        record(args.write, args.kind, args.agents, done)
    print(
        f"soak: {len(done)} hard failovers, every acknowledged commit present ({acked} in "
        f"all); first commit after the kill: median {statistics.median(times):.2f} s "
        f"(min {min(times):.2f}, max {max(times):.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
