"""`make matrix`: pyha's tests on other Debian releases' Python, Pacemaker, resource-agents
and MariaDB, each from a cached root tree (lab/roots.py) on this machine's kernel.

    python3 lab/matrix.py [--release bullseye] [--release trixie] [--tier tests/unit ...]
                          [--host-log build/matrix/bookworm.log] [--installed]
                          [--host-tiers]

For each release: the test tiers named in lab/roots.py's RELEASES, run by that release's
python3 against its own tools, from pyha's release tarball (a DeprecationWarning from
ocflib is an error, setup.cfg); and the release's cluster tests, run here against a
namespace lab whose nodes run from the root (that release's Pacemaker and Corosync,
PYHA_LAB_RELEASE). With --host-tiers, also this machine's unit, property, contract and
integration tiers (but the UML tests); with --installed, this machine's .deb installed
with apt and tested (.ci/installed). All of these run side by side (run_all). With
--host-log, first this machine's line (Debian 12, from `make test`'s output). Prints one
line per run, keeps the whole output in build/matrix/<release>.log (and
<release>-cluster.log, bookworm-tiers.log, installed.log), and exits non-zero if any
failed.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lab import roots  # noqa: E402

# Left out in every root: the package builds and their manual pages need the build
# machine's tooling (they run on Debian 12 in CI); DRBD needs User-Mode-Linux. The lab
# tests are not a tier inside a root: they run here, on a cluster whose nodes run from
# it (run_cluster).
LEAVE_OUT = (
    "tests/contract/test_packages.py",
    "tests/contract/test_manpages.py",  # the pages are built (and rendered) with the packages
    "tests/integration/test_drbd_real.py",  # User-Mode-Linux: the machine's own kernel build
    "tests/integration/test_uml_host.py",  # User-Mode-Linux too
)


def run_release(
    name: str, tarball: str, tiers: Sequence[str], extra: list[str], logs: str
) -> tuple[bool, str]:
    started = time.monotonic()
    root = roots.ensure(name)
    release = roots.RELEASES[name]
    version = roots.run_in_root(
        root, ["python3", "-c", "import sys; print(sys.version.split()[0])"]
    )
    pacemaker = roots.run_in_root(root, ["pacemakerd", "--version"])
    argv = [
        "python3",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *(f"--ignore={path}" for path in LEAVE_OUT),
        *tiers,
        *extra,
    ]
    # A deprecation warning from pyha's own code is an error (setup.cfg's filterwarnings).
    env = {"OCFLIB_REQUIRE_INTEGRATION": "1"}
    result = roots.run_in_root(root, argv, tarball=tarball, env=env, timeout=3600)
    title = (
        f"{name} (Debian {release.number}): Python {version.stdout.strip()}, "
        f"{pacemaker.stdout.strip().splitlines()[0] if pacemaker.stdout else 'pacemaker ?'}: "
        f"{' '.join(tiers)}"
    )
    return report(result, title, os.path.join(logs, f"{name}.log"), started)


def report(
    result: subprocess.CompletedProcess[str], title: str, log: str, started: float
) -> tuple[bool, str]:
    """Keep the whole output in log; one line of it (with the failures' tail)."""
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as f:
        f.write(result.stdout + result.stderr)
    tail = (result.stdout + result.stderr).strip().splitlines()
    summary = next((line for line in reversed(tail) if re.search(r"\d+ (passed|failed)", line)), "")
    # What the lab tests print of their failovers ("...: 2.71 s").
    measured = [
        line.strip(". ")
        for line in tail
        if re.search(r"\d+\.\d+ s\b", line) and not re.search(r"passed|failed|Error", line)
    ]
    line = f"{title}: {summary or 'no summary'} [{time.monotonic() - started:.0f} s; {log}]"
    line += "".join(f"\n    {m}" for m in measured)
    if result.returncode != 0:
        line += "\n" + "\n".join(tail[-60:])
    return result.returncode == 0, line


def run_cluster(name: str, extra: list[str], logs: str) -> tuple[bool, str]:
    """The release's lab tests, from this checkout, on a cluster of its root's nodes."""
    started = time.monotonic()
    release = roots.RELEASES[name]
    argv = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
    result = _here([*argv, *release.cluster, *extra], PYHA_LAB_RELEASE=name)
    title = f"{name} (Debian {release.number}) cluster: {' '.join(release.cluster)}"
    return report(result, title, os.path.join(logs, f"{name}-cluster.log"), started)


def _here(argv: Sequence[str], **env: str) -> subprocess.CompletedProcess[str]:
    """argv on this machine, in this checkout, integration tests enforced."""
    return subprocess.run(
        argv,
        cwd=roots.ROOT_OF_REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "OCFLIB_REQUIRE_INTEGRATION": "1", **env},
        timeout=3600,
        check=False,
    )


def host_line(log: str, what: str = "the whole suite") -> tuple[bool, str]:
    """Debian 12, this machine: the summary of the `make test` run that wrote log (make
    matrix runs it first, once per make invocation)."""
    if not os.path.exists(log):
        return False, f"this machine: no {log} (run `make test`, or `make matrix`)"
    with open(log, errors="replace") as f:
        tail = f.read().strip().splitlines()
    summary = next((line for line in reversed(tail) if re.search(r"\d+ (passed|failed)", line)), "")
    passed = bool(summary) and not re.search(r"\d+ (failed|error)", summary)
    return passed, (
        f"this machine ({_os_name()}): {_versions()}: {what} (make test): "
        f"{summary or 'no summary'} [{log}]"
    )


def _os_name() -> str:
    try:
        with open("/etc/os-release") as f:
            fields = dict(line.rstrip().split("=", 1) for line in f if "=" in line)
    except OSError:
        return "?"
    return fields.get("PRETTY_NAME", "?").strip('"')


# This machine's tiers that run side by side with the rest (--host-tiers); `make check`
# runs the lab and the UML integration tests before, alone (the Makefile's SERIAL_TESTS).
HOST_TIERS = ("tests/unit", "tests/property", "tests/contract", "tests/integration")
HOST_SERIAL = ("tests/integration/test_drbd_real.py", "tests/integration/test_uml_host.py")


def run_host_tiers(extra: list[str], logs: str) -> tuple[bool, str]:
    """This machine's unit, property, contract and integration tiers, from this
    checkout (the UML tests left out: they ran with the lab)."""
    started = time.monotonic()
    argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=10"]
    result = _here([*argv, *(f"--ignore={path}" for path in HOST_SERIAL), *HOST_TIERS, *extra])
    title = f"this machine ({_os_name()}): {_versions()}: {' '.join(HOST_TIERS)}"
    return report(result, title, os.path.join(logs, "bookworm-tiers.log"), started)


def _versions() -> str:
    version = ".".join(str(n) for n in sys.version_info[:3])
    pacemaker = subprocess.run(
        ["pacemakerd", "--version"], capture_output=True, text=True, check=False
    ).stdout.split("\n", 1)[0]
    return f"Python {version}, {pacemaker or 'pacemaker ?'}"


def run_installed(logs: str) -> tuple[bool, str]:
    """This machine's .deb (make deb), installed with apt: .ci/installed's tests against
    the installed agents, then the package purged."""
    started = time.monotonic()
    result = _here(["bash", os.path.join(roots.ROOT_OF_REPO, ".ci", "installed")])
    title = f"this machine ({_os_name()}), the .deb installed with apt"
    return report(result, title, os.path.join(logs, "installed.log"), started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", action="append", choices=sorted(roots.RELEASES))
    parser.add_argument("--pytest-args", default="", help="more pytest arguments (one string)")
    parser.add_argument(
        "--tier", action="append", help="a test directory to run (default: the release's tiers)"
    )
    parser.add_argument(
        "--no-cluster", action="store_true", help="leave out the releases' cluster tests"
    )
    parser.add_argument(
        "--host-log", help="the `make test` output to report as this machine's line"
    )
    parser.add_argument(
        "--installed",
        action="store_true",
        help="also run .ci/installed (the .deb make deb built) beside the releases",
    )
    parser.add_argument(
        "--host-tiers",
        action="store_true",
        help="also run this machine's unit, property, contract and integration tiers "
        "(but the UML tests) beside the releases",
    )
    parser.add_argument("--logs", default=os.path.join(roots.ROOT_OF_REPO, "build", "matrix"))
    args = parser.parse_args()
    releases = args.release or sorted(roots.RELEASES)
    root_of_repo = roots.ROOT_OF_REPO
    with tempfile.TemporaryDirectory(prefix="pyha-matrix-") as tmp:
        subprocess.run(
            ["make", "-s", "-C", root_of_repo, "dist", f"DIST_DIR={tmp}"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        (tarball,) = [os.path.join(tmp, n) for n in os.listdir(tmp) if n.endswith(".tar.gz")]
        ok = True
        if args.host_log:
            what = "the lab and the UML tests" if args.host_tiers else "the whole suite"
            ok, line = host_line(args.host_log, what)
            print(line, flush=True)
        for passed, line in run_all(releases, tarball, args):
            print(line, flush=True)
            ok = ok and passed
    return 0 if ok else 1


def run_all(
    releases: Sequence[str], tarball: str, args: argparse.Namespace
) -> list[tuple[bool, str]]:
    """Every run side by side, reported in a fixed order (this machine's tiers, the
    installed .deb, then each release's tiers and cluster). Most of their time goes to
    waiting for processes (a tier run keeps about a third of one core busy), not to the
    two cores, and each runs in namespaces of its own: the tiers in their root's, the
    clusters' nodes on overlays of it (the tiers write nothing into the root but crmsh's
    log). A release's root is built (or found current) once, before its runs start; this
    machine's runs go on meanwhile."""
    extra = args.pytest_args.split()
    jobs: list[Callable[[], tuple[bool, str]]] = []
    if args.host_tiers:
        jobs.append(lambda: run_host_tiers(extra, args.logs))
    if args.installed:
        jobs.append(lambda: run_installed(args.logs))
    ready = {name: threading.Lock() for name in releases}

    def in_root(name: str, run: Callable[[], tuple[bool, str]]) -> Callable[[], tuple[bool, str]]:
        def job() -> tuple[bool, str]:
            with ready[name]:
                roots.ensure(name)
            return run()

        return job

    for name in releases:
        tiers = args.tier or roots.RELEASES[name].tiers
        jobs.append(
            in_root(name, functools.partial(run_release, name, tarball, tiers, extra, args.logs))
        )
        if roots.RELEASES[name].cluster and not args.no_cluster:
            jobs.append(in_root(name, functools.partial(run_cluster, name, extra, args.logs)))
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        runs = [pool.submit(job) for job in jobs]
        return [run.result() for run in runs]


if __name__ == "__main__":
    raise SystemExit(main())
