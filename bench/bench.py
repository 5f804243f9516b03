#!/usr/bin/python3
"""Time pyha agents against the reference agents, side by side, in one run.

Each case names a pair of commands (pyha, reference) doing the same action on
the same real resource. Runs are interleaved (A B A B ...) after a warm-up so
that caches and load affect both alike; the table gives median, min and max
wall time, the ratio of the medians and the peak RSS of each side.

    bench/bench.py [--runs N] [--warmup N] [--case NAME]... [--write BENCHMARKS.md]

Cases live in bench/cases_*.py (one module per agent) and need root: they
build their own network namespaces, loop devices or servers and remove them.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)  # case modules import bench.bench


@dataclass
class Step:
    """One command of a measured action (an action may be several: start+stop)."""

    argv: Sequence[str]
    env: Mapping[str, str]
    expect_rc: int = 0
    timed: bool = True  # False: a step that only restores the state (stop after start)
    # Run somewhere else (a lab guest): returns (rc, seconds measured there, stdout).
    remote: Callable[[Sequence[str], Mapping[str, str]], tuple[int, float, str]] | None = None


@dataclass
class Side:
    """One agent's way of doing the measured action."""

    label: str
    steps: Callable[[], Sequence[Step]]
    samples: list[float] = field(default_factory=list)
    peak_rss_kb: int = 0


@dataclass
class Case:
    """A measured action: the pyha side and the reference side."""

    name: str
    pyha: Side
    reference: Side
    note: str = ""
    before: Callable[[], object] | None = None  # puts the resource in the state the case needs


def _spawn(argv: Sequence[str], env: Mapping[str, str]) -> tuple[int, int]:
    pid = os.posix_spawn(
        argv[0],
        list(argv),
        dict(env),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        ],
    )
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss


def run_steps(side: Side) -> float:
    """Run a side's steps once; return the wall time in seconds."""
    total = 0.0
    for step in side.steps():
        if step.remote is not None:
            rc, seconds, _ = step.remote(step.argv, step.env)
        else:
            start = time.perf_counter()
            rc, _ = _spawn(step.argv, step.env)
            seconds = time.perf_counter() - start
        if step.timed:
            total += seconds
        if rc != step.expect_rc:
            raise SystemExit(
                f"{side.label}: {' '.join(step.argv)} returned {rc}, expected {step.expect_rc}"
            )
    return total


def peak_rss(side: Side) -> None:
    """Peak RSS of the action's process tree, from an untimed run.

    GNU time forks the agent and reports the largest resident set among it
    and its reaped children (wait4). Spawning straight from this Python
    process would report this process's own high-water mark instead, which
    exec carries over.
    """
    for step in side.steps():
        out = os.path.join("/var/tmp", f"pyha-bench-rss-{os.getpid()}")
        if step.remote is not None:
            step.remote(["/usr/bin/time", "-q", "-o", out, "-f", "%M", *step.argv], step.env)
            _, _, text = step.remote(["cat", out], {})
            side.peak_rss_kb = max(side.peak_rss_kb, int(text.split()[-1]))
            continue
        _spawn(["/usr/bin/time", "-q", "-o", out, "-f", "%M", *step.argv], step.env)
        with open(out) as f:
            side.peak_rss_kb = max(side.peak_rss_kb, int(f.read().split()[-1]))
        os.unlink(out)


def measure(case: Case, runs: int, warmup: int) -> None:
    """Interleave the two sides: warm-up runs first, then `runs` samples each."""
    for _ in range(warmup):
        run_steps(case.pyha)
        run_steps(case.reference)
    for i in range(runs):
        first, second = (case.pyha, case.reference) if i % 2 == 0 else (case.reference, case.pyha)
        first.samples.append(run_steps(first))
        second.samples.append(run_steps(second))
    peak_rss(case.pyha)
    peak_rss(case.reference)


def ms(value: float) -> str:
    return f"{value * 1000:.1f}"


def table(cases: Sequence[Case], runs: int, warmup: int) -> str:
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
        f"{platform.node() and 'this machine'} ({os.cpu_count()} cores, Linux "
        f"{platform.release()}, Python {platform.python_version()}); {runs} interleaved "
        f"runs per side after {warmup} warm-up runs. Times in ms (wall clock).",
        "",
        "| case | pyha median (min-max) | reference median (min-max) | ratio | difference "
        "| peak RSS pyha / ref (MiB, largest process of the action) |",
        "|---|---|---|---|---|---|",
    ]
    for case in cases:
        a, b = case.pyha, case.reference
        ma, mb = statistics.median(a.samples), statistics.median(b.samples)
        lines.append(
            f"| {case.name} | {ms(ma)} ({ms(min(a.samples))}-{ms(max(a.samples))}) "
            f"| {ms(mb)} ({ms(min(b.samples))}-{ms(max(b.samples))}) | "
            f"**{ma / mb:.2f}** | {(ma - mb) * 1000:+.0f} ms "
            f"| {a.peak_rss_kb / 1024:.1f} / {b.peak_rss_kb / 1024:.1f} |"
        )
    notes = [f"- {c.name}: {c.note}" for c in cases if c.note]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def load_case_modules(
    wanted: Sequence[str] | None = None,
) -> dict[str, Callable[[], AbstractContextManager[list[Case]]]]:
    """Every bench/cases_*.py exposes cases(): a context manager yielding Cases.
    Only the wanted ones are imported (a case module may need the lab or the tests)."""
    found: dict[str, Callable[[], AbstractContextManager[list[Case]]]] = {}
    for name in sorted(os.listdir(HERE)):
        if name.startswith("cases_") and name.endswith(".py"):
            if wanted and name[6:-3] not in wanted:
                found[name[6:-3]] = _unloaded
                continue
            spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(HERE, name))
            assert spec and spec.loader
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            found[name[6:-3]] = module.cases
    return found


def _unloaded() -> AbstractContextManager[list[Case]]:
    raise AssertionError("a case module that was not asked for")


def write_section(path: str, title: str, body: str) -> None:
    """Replace (or append) the section `## title` of path with body."""
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    head = f"## {title}\n"
    start = text.find(head)
    if start < 0:
        text = text.rstrip("\n") + f"\n\n{head}\n{body}"
    else:
        end = text.find("\n## ", start + len(head))
        text = text[:start] + f"{head}\n{body}" + (text[end:] if end >= 0 else "")
    with open(path, "w") as f:
        f.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--case", action="append", help="case module (e.g. ipaddr2)")
    parser.add_argument("--write", metavar="FILE", help="update this Markdown file")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("bench: the cases build namespaces and devices: run as root")
    modules = load_case_modules(args.case)
    for name in args.case or sorted(modules):
        if name not in modules:
            raise SystemExit(f"bench: no case module {name!r} (have {', '.join(modules)})")
        with modules[name]() as cases:
            for case in cases:
                print(f"bench: {case.name} ...", file=sys.stderr, flush=True)
                if case.before is not None:
                    case.before()
                measure(case, args.runs, args.warmup)
            body = table(cases, args.runs, args.warmup)
        print(f"\n## {name}\n\n{body}")
        if args.write:
            write_section(args.write, name, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
