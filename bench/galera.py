#!/usr/bin/python3
"""galera-py against ocf:heartbeat:galera, side by side, in the same three-node lab.

    bench/galera.py [--rounds N] [--runs N] [--write BENCHMARKS.md]

Two parts. The monitor: on a Promoted node of a running lab cluster, both
agents' Promoted monitor of the same server, as Pacemaker runs it (same
environment), timed inside the node, interleaved, `--runs` each. The cluster:
for each agent set a fresh lab (lab/galera.py) goes through a cold start, a
full hard outage and a one-node kill (lab/galera_scenarios.py), `--rounds`
times, every acknowledged commit checked; the table gives the times and their
ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench.bench import write_section  # noqa: E402
from lab import galera_scenarios as S  # noqa: E402
from lab.galera import GaleraLab  # noqa: E402

AGENT_PATH = {
    "pyha": "/usr/lib/ocf/resource.d/pyha/galera-py",
    "reference": "/usr/lib/ocf/resource.d/heartbeat/galera",
}
# Runs inside a node: each command once per round, alternating, wall time in ms.
TIMER = """
import os, sys, time, json
cmds = json.loads(sys.argv[1]); runs = int(sys.argv[2]); env = dict(os.environ)
out = {c[0]: [] for c in cmds}
def once(argv):
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)])
    _, status = os.waitpid(pid, 0)
    return (time.perf_counter() - t) * 1000, os.waitstatus_to_exitcode(status)
for c in cmds:
    once(c[1])
for i in range(runs):
    for c in (cmds if i % 2 == 0 else cmds[::-1]):
        ms, rc = once(c[1])
        if rc != 8:
            raise SystemExit(f"{c[0]}: monitor returned {rc}")
        out[c[0]].append(ms)
print(json.dumps(out))
"""


def monitor_env(lab: GaleraLab, node: str) -> dict[str, str]:
    params = lab.galera_params()
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "p_galera",
        "OCF_RESOURCE_PROVIDER": "pyha",
        "OCF_RA_VERSION_MAJOR": "1",
        "OCF_RA_VERSION_MINOR": "1",
        "OCF_RESKEY_CRM_meta_interval": "10000",
        "OCF_RESKEY_CRM_meta_timeout": "30000",
        "OCF_RESKEY_CRM_meta_on_node": node,
        "OCF_RESKEY_CRM_meta_promotable": "true",
        "OCF_RESKEY_CRM_meta_promoted_max": "3",
        "OCF_RESKEY_crm_feature_set": "3.16.2",
        "HA_RSCTMP": "/run/resource-agents",
    }
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    return env


def time_monitors(lab: GaleraLab, runs: int) -> dict[str, list[float]]:
    """Both agents' Promoted monitor on node1's running server, timed in the node."""
    import json

    node = "node1"
    env = monitor_env(lab, node)
    cmds = [[agents, [path, "monitor"]] for agents, path in AGENT_PATH.items()]
    argv = ["env", "-i", *(f"{k}={v}" for k, v in env.items())]
    argv += ["/usr/bin/python3", "-c", TIMER, json.dumps(cmds), str(runs)]
    out = lab.run(node, argv, timeout=600).stdout
    result: dict[str, list[float]] = json.loads(out)
    return result


def cell(values: list[float], digits: int = 1) -> str:
    return (
        f"{statistics.median(values):.{digits}f} "
        f"({min(values):.{digits}f}-{max(values):.{digits}f})"
    )


def run(rounds: int, runs: int, data_mb: int) -> str:
    monitors: dict[str, list[float]] = {}
    times: dict[str, dict[str, list[float]]] = {"pyha": {}, "reference": {}}
    lost = 0
    for agents in ("pyha", "reference"):
        for _ in range(rounds):
            with GaleraLab(agents) as lab:
                for r in (S.cold_start(lab), S.full_outage(lab), S.kill_one(lab, "node3")):
                    print(r, flush=True)
                    lost += len(r.lost)
                    for key, value in r.seconds.items():
                        times[agents].setdefault(f"{r.name}: {key}", []).append(value)
                if agents == "pyha":  # both agents' monitor of the same running server
                    for k, v in time_monitors(lab, runs).items():
                        monitors.setdefault(k, []).extend(v)
        if not data_mb:
            continue
        # A datadir of some size, once per agent set: a full state transfer costs its size.
        with GaleraLab(agents, data_mb=data_mb) as lab:
            S.cold_start(lab)
            r = S.kill_one(lab, "node3")
            print(f"{data_mb} MB: {r}", flush=True)
            lost += len(r.lost)
            for key, value in r.seconds.items():
                if key in ("power on to Promoted", "first probe to all Promoted"):
                    name = f"kill node3, {data_mb} MB of data: {key} ({r.notes['rejoined by']})"
                    times[agents].setdefault(name, []).append(value)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Measured {stamp} on this machine ({os.cpu_count()} cores, Linux "
        f"{platform.release()}), `bench/galera.py --rounds {rounds} --runs {runs} "
        f"--data-mb {data_mb}`. "
        "Three namespace nodes (token 1000 ms, fence_dummy powering nodes off), MariaDB "
        "10.11 + galera-4, writers committing on every node; every acknowledged commit "
        f"checked: {lost} lost.",
        "",
    ]
    if monitors:
        lines += [
            "| monitor, Promoted (ms, median (min-max)) | galera-py | galera | ratio |",
            "|---|---|---|---|",
        ]
    mine, ref = monitors.get("pyha", []), monitors.get("reference", [])
    if mine and ref:  # (none with --rounds 0)
        ratio = statistics.median(mine) / statistics.median(ref)
        lines.append(f"| one run, in the node | {cell(mine)} | {cell(ref)} | **{ratio:.2f}** |")
    lines += ["", "| seconds, median (min-max) | galera-py | galera | ratio |", "|---|---|---|---|"]
    for key, values in times["pyha"].items():
        base = key.split(" (")[0]
        match = [(k, v) for k, v in times["reference"].items() if k.split(" (")[0] == base]
        if not match:
            continue
        their_key, theirs = match[0]
        label = key
        if " (" in key:  # the state transfer each agent's rejoin used
            label = f"{base} (galera-py: {key.split(' (')[1][:-1]}, galera: "
            label += f"{their_key.split(' (')[1][:-1]})"
        ratio = statistics.median(values) / statistics.median(theirs)
        lines.append(f"| {label} | {cell(values)} | {cell(theirs)} | **{ratio:.2f}** |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--data-mb", type=int, default=1000, help="datadir size for a second kill (0: none)"
    )
    parser.add_argument("--write", metavar="FILE")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("galera: needs root (it builds namespaces and runs clusters)")
    body = run(args.rounds, args.runs, args.data_mb)
    # --rounds 0: only the kill with a datadir of some size, in a section of its own
    title = "galera" if args.rounds else f"galera: {args.data_mb} MB of data"
    print(f"\n## {title}\n\n{body}", flush=True)
    if args.write:
        write_section(args.write, title, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
