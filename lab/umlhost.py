"""Can this host run User-Mode-Linux guests, and how: the lab's probe.

Debian 12's UML kernel (linux.uml 6.1) saves a guest process's vector state
through ptrace with a buffer of 2696 bytes. The host kernel takes
PTRACE_SETREGSET(NT_X86_XSTATE) only with a buffer of its whole XSAVE size;
on a CPU with AMX that is 11008 bytes, the call fails with EFAULT and every
guest dies at its first user process ("ptrace set fp regs failed, errno =
14"). On other CPUs (up to AVX-512) it works as it is.

probe() boots a small guest whose init is /bin/true (64 MiB, about 1.5 s)
and reads its console: "exitcode=0x00000000" means a user process ran. If
the plain kernel fails, the lab builds lab/xsave/ptrace_xsave.c (an
LD_PRELOAD wrapper that pads that one call to the host's size) and boots
again with it. The verdict names the path the lab then takes for every
guest of the run, or says in one sentence what the host lacks and what to
do. It is computed once per process.

PYHA_UML_XSAVE=plain|wrapper forces a path (auto, the default, probes plain
first): `wrapper` runs the wrapper on any host, which is how its path is
tested where plain UML works.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from lab.ops import LabError

KERNEL = "/usr/bin/linux.uml"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCES = os.path.join(ROOT, "lab", "xsave")
CACHE = "/var/cache/pyha/uml"
# What Debian 12's linux.uml hands PTRACE_SETREGSET (measured on an AMX host).
UML_XSAVE_BYTES = 2696
RAN = "exitcode=0x00000000"
FP_FAILED = "ptrace set fp regs failed"
WHAT_TO_DO = (
    "install gcc and libc6-dev (make setup does) so that the lab can build its ptrace "
    "wrapper, or boot the host with clearcpuid=amx_tile; the namespace lab "
    "(make demo DEMO_ARGS=--namespaces) needs no UML"
)


@dataclass(frozen=True)
class Boot:
    """What a test guest did: did a user process run, the console, the time."""

    ran: bool
    console: str
    seconds: float

    @property
    def fp_failed(self) -> bool:
        return FP_FAILED in self.console

    def last_line(self) -> str:
        for line in reversed(self.console.splitlines()):
            if line.strip() and not line.lstrip().startswith("["):
                return line.strip()
        return "no output"


@dataclass(frozen=True)
class Verdict:
    """The path every guest of this run takes, or why none can run."""

    path: str  # "plain", "wrapper" or "none"
    sentence: str
    env: Mapping[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def usable(self) -> bool:
        return self.path != "none"


def build(name: str, *, shared: bool = False) -> str:
    """Compile lab/xsave/<name>.c with the host's gcc into the cache (once per
    source text); the binary's path. LabError if it cannot be built."""
    source = os.path.join(SOURCES, f"{name}.c")
    with open(source, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    target = os.path.join(CACHE, f"{name}-{digest}" + (".so" if shared else ""))
    if os.path.exists(target):
        return target
    gcc = shutil.which("gcc")
    if gcc is None:
        raise LabError("gcc is not installed")
    os.makedirs(CACHE, exist_ok=True)
    tmp = f"{target}.{os.getpid()}.tmp"
    argv = [gcc, "-O2", "-Wall", "-Wextra", "-Werror", "-o", tmp, source]
    if shared:
        argv[1:1] = ["-shared", "-fPIC"]
        argv.append("-ldl")
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise LabError(f"gcc failed on {name}.c: {lines[-1] if lines else proc.returncode}")
    os.replace(tmp, target)
    return target


def wrapper() -> str:
    """The ptrace wrapper (lab/xsave/ptrace_xsave.c) as a shared object."""
    return build("ptrace_xsave", shared=True)


def boot_true(env: Mapping[str, str], timeout: float = 30) -> Boot:
    """Boot linux.uml with /bin/true as init (64 MiB, its own uml_dir) and read
    the console: the kernel panics either way, and says with which exit code."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pyha-uml-probe-", dir="/dev/shm") as tmp:
        try:
            proc = subprocess.run(
                [
                    KERNEL,
                    "umid=probe",
                    f"uml_dir={tmp}",
                    "mem=64M",
                    "rootfstype=hostfs",
                    "rootflags=/",
                    "ro",
                    "init=/bin/true",
                    "con=null",
                    "con0=fd:0,fd:1",
                    "quiet",
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "TMPDIR": tmp, **env},
                preexec_fn=_no_core,
                check=False,
            )
            console = (proc.stdout + proc.stderr).decode(errors="replace")
        except subprocess.TimeoutExpired as err:
            console = (err.stdout or b"").decode(errors="replace") + f"\n(no answer in {timeout}s)"
    return Boot(RAN in console, console, time.monotonic() - started)


def _no_core() -> None:
    """The probe's kernel always ends in a panic (abort): no core file."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def xsave_bytes() -> int | None:
    """The host's XSAVE area for the features its kernel enabled (CPUID 0xD),
    as the wrapper reads it; None when the wrapper cannot be loaded."""
    import ctypes

    try:
        return int(ctypes.CDLL(wrapper()).pyha_xsave_size())
    except (LabError, OSError, AttributeError):
        return None


def decide(
    *,
    mode: str = "auto",
    kernel: str = KERNEL,
    boot: Callable[[Mapping[str, str]], Boot] = boot_true,
    build_wrapper: Callable[[], str] = wrapper,
    size: Callable[[], int | None] = xsave_bytes,
    keep: Callable[[Boot], str] | None = None,
) -> Verdict:
    """Boot the test guest plain, then (if it failed) with the wrapper; the
    verdict. mode: auto, plain (never the wrapper) or wrapper (only it)."""
    started = time.monotonic()
    if not os.path.exists(kernel):
        return Verdict(
            "none",
            f"UML guests cannot run here: {kernel} is not installed "
            "(apt-get install user-mode-linux; make setup does)",
        )
    if mode not in ("auto", "plain", "wrapper"):
        return Verdict("none", f"PYHA_UML_XSAVE={mode!r}: use auto, plain or wrapper")
    plain = None
    if mode != "wrapper":
        plain = boot({})
        if plain.ran:
            return Verdict(
                "plain",
                f"UML: the plain kernel runs user processes on this host "
                f"(XSAVE area {_bytes(size())}; test guest {plain.seconds:.1f} s)",
                seconds=time.monotonic() - started,
            )
    failed = plain
    why = ""
    if mode != "plain":
        try:
            so = build_wrapper()
        except LabError as err:
            why = f"the lab's ptrace wrapper could not be built ({err})"
        else:
            padded = boot({"LD_PRELOAD": so})
            if padded.ran:
                forced = "forced by PYHA_UML_XSAVE=wrapper" if mode == "wrapper" else "needed"
                return Verdict(
                    "wrapper",
                    f"UML: the kernel runs with the lab's ptrace wrapper ({forced}; "
                    f"XSAVE area {_bytes(size())}, linux.uml saves {UML_XSAVE_BYTES}; "
                    f"test guest {padded.seconds:.1f} s)",
                    env={"LD_PRELOAD": so},
                    seconds=time.monotonic() - started,
                )
            failed = failed or padded
            why = f"the lab's ptrace wrapper did not help ({padded.last_line()})"
    if failed is not None and failed.fp_failed:
        cause = (
            f"its CPU's XSAVE area ({_bytes(size())}) is larger than the {UML_XSAVE_BYTES} "
            f"bytes Debian 12's linux.uml can restore (a CPU with AMX)"
        )
    elif failed is not None:
        cause = f"the test guest did not run /bin/true ({failed.last_line()})"
    else:
        cause = "the plain kernel was not tried (PYHA_UML_XSAVE=wrapper)"
    kept = f"; console kept in {keep(failed)}" if keep is not None and failed is not None else ""
    todo = WHAT_TO_DO if mode != "plain" else "unset PYHA_UML_XSAVE to let the lab try its wrapper"
    return Verdict(
        "none",
        f"UML guests cannot run a user process on this host: {cause}"
        + (f"; {why}" if why else "")
        + f". What to do: {todo}{kept}",
        seconds=time.monotonic() - started,
    )


def _bytes(size: int | None) -> str:
    return "unknown size" if size is None else f"{size} bytes"


def keep_console(failed: Boot) -> str:
    """Write a failed test guest's console where it outlives the run."""
    directory = tempfile.mkdtemp(prefix="pyha-uml-probe-", dir="/var/tmp")
    path = os.path.join(directory, "console.log")
    with open(path, "w") as f:
        f.write(failed.console)
    return path


_verdicts: dict[str, Verdict] = {}


def probe(*, say: bool = True) -> Verdict:
    """The verdict for this process (probed once), logged on stderr once unless
    the caller says it itself."""
    if "run" not in _verdicts:
        verdict = decide(mode=os.environ.get("PYHA_UML_XSAVE", "auto"), keep=keep_console)
        _verdicts["run"] = verdict
        if say:
            print(f"lab: {verdict.sentence}", file=sys.stderr, flush=True)
    return _verdicts["run"]


def probed() -> Verdict | None:
    """The verdict if this process has probed, else None (no probe is run)."""
    return _verdicts.get("run")
