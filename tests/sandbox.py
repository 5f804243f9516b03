"""Run a command where a mistake cannot reach the machine's own files.

The command runs chrooted in an overlay of / (writes land in a tmpfs upper
layer, deletions become whiteouts), with its own /dev, /proc, /sys, /run
and /tmp, in private mount, network, PID, UTS and IPC namespaces. The
checkout is visible read-only at /run/pyha-src (argv words under the
checkout are translated). After it exits, `changes` lists every path
the command created, modified or deleted on the overlaid root: a test
asserts it is empty (or exactly what it expects).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = "/run/pyha-src"  # where the sandbox sees the checkout
# The agents the sandbox runs: the checkout's, or an installed package's (PYHA_AGENTS_DIR;
# the sandbox's root is an overlay of the machine's, so the same path works inside).
SANDBOX_AGENTS = os.environ.get("PYHA_AGENTS_DIR") or f"{SRC}/agents"

# Runs as root inside `unshare --mount ...`: every mount below is private to
# that namespace and vanishes with it. $1 is an empty directory to build in.
_SCRIPT = r"""
set -eu
S="$1"; shift
[ -n "$S" ] && [ -d "$S" ] || exit 90
mount -t tmpfs -o size=256m pyha-sandbox "$S"
mkdir "$S/upper" "$S/work" "$S/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$S/upper,workdir=$S/work" "$S/root"
R="$S/root"; export R  # for SANDBOX_SETUP
[ -x "$R/usr/bin/python3" ] || exit 91
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount -t tmpfs -o mode=755 dev "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3
mknod -m 666 "$R/dev/zero" c 1 5
mknod -m 666 "$R/dev/full" c 1 7
mknod -m 666 "$R/dev/random" c 1 8
mknod -m 666 "$R/dev/urandom" c 1 9
mknod -m 666 "$R/dev/tty" c 5 0
ln -s /proc/self/fd "$R/dev/fd"
mkdir "$R/dev/shm" "$R/dev/pts"
mount -t tmpfs -o mode=755 run "$R/run"
mkdir -p "$R/run/resource-agents" "$R/run/lock"
mount -t tmpfs -o mode=1777 tmp "$R/tmp"
mkdir "$R/run/pyha-src"
mount --bind "$CHECKOUT" "$R/run/pyha-src"
mount -o remount,bind,ro "$R/run/pyha-src"
ip link set lo up
if [ -n "$SANDBOX_SETUP" ]; then sh -c "$SANDBOX_SETUP"; fi
set +e
if [ -n "${SANDBOX_INTERACTIVE:-}" ]; then  # talks to the caller over stdin/stdout
    eval "chroot \"\$R\" /usr/bin/env -i $SANDBOX_ENV \"\$@\"" 2>"$S/err"
    : >"$S/out"
else
    eval "chroot \"\$R\" /usr/bin/env -i $SANDBOX_ENV \"\$@\"" >"$S/out" 2>"$S/err" </dev/null
fi
echo $? >"$S/rc"
cd "$S/upper"
find . -mindepth 1 \( -type c -printf 'deleted %P\n' \) -o \( ! -type d -printf 'written %P\n' \) >"$S/changes"
cp "$S/out" "$S/err" "$S/rc" "$S/changes" "$OUT/"
"""


def _unshare(mnt: str, argv: Sequence[str]) -> list[str]:
    """The command that builds the sandbox in mnt and runs argv in it."""
    namespaces = ["--mount", "--net", "--pid", "--fork", "--uts", "--ipc"]
    return [
        "unshare",
        *namespaces,
        "--propagation",
        "private",
        "sh",
        "-c",
        _SCRIPT,
        "sandbox",
        mnt,
        *argv,
    ]


class SandboxResult:
    """Exit code, output and the root file system changes of a sandboxed command."""

    def __init__(self, returncode: int, stdout: str, stderr: str, changes: list[str]) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.changes = changes


def run_sandboxed(
    argv: Sequence[str], env: Mapping[str, str] | None = None, setup: str = ""
) -> SandboxResult:
    """Run argv in the sandbox with exactly env; setup is a shell snippet run as
    root in the sandbox's namespaces before the chroot, with $R the root (e.g. to
    create links or device nodes)."""
    with tempfile.TemporaryDirectory(prefix="pyha-sandbox-") as work:
        mnt = os.path.join(work, "mnt")
        out = os.path.join(work, "out")
        os.mkdir(mnt)
        os.mkdir(out)
        env_words = " ".join(shlex.quote(f"{k}={v}") for k, v in (env or {}).items())
        argv = [SRC + a[len(ROOT) :] if a.startswith(ROOT + "/") else a for a in argv]
        result = subprocess.run(
            _unshare(mnt, argv),
            env={
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                "CHECKOUT": ROOT,
                "OUT": out,
                "SANDBOX_SETUP": setup,
                "SANDBOX_ENV": env_words,
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0 or not os.path.exists(os.path.join(out, "rc")):
            raise RuntimeError(f"sandbox failed (rc {result.returncode}): {result.stderr}")

        def read(name: str) -> str:
            with open(os.path.join(out, name)) as f:
                return f.read()

        return SandboxResult(
            int(read("rc")), read("out"), read("err"), read("changes").splitlines()
        )


class Sandbox:
    """A long-lived sandbox that runs many commands: one overlay root, one set of
    namespaces, a worker (tests/sandbox_worker.py) taking one command at a time.
    close() returns the root file system changes of all of them together."""

    def __init__(self, setup: str = "") -> None:
        self._work = tempfile.TemporaryDirectory(prefix="pyha-sandbox-")
        work = self._work.name
        self._out = os.path.join(work, "out")
        mnt = os.path.join(work, "mnt")
        os.mkdir(mnt)
        os.mkdir(self._out)
        self._proc = subprocess.Popen(
            _unshare(mnt, ["/usr/bin/python3", "-I", f"{SRC}/tests/sandbox_worker.py"]),
            env={
                "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                "CHECKOUT": ROOT,
                "OUT": self._out,
                "SANDBOX_SETUP": setup,
                "SANDBOX_ENV": "",
                "SANDBOX_INTERACTIVE": "1",
            },
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def run(
        self, argv: Sequence[str], env: Mapping[str, str], timeout: float = 60
    ) -> SandboxResult:
        """Run argv with exactly env inside the sandbox (changes: always [] here)."""
        import json

        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(
            json.dumps({"argv": list(argv), "env": dict(env), "timeout": timeout}) + "\n"
        )
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox worker ended")
        got = json.loads(line)
        return SandboxResult(got["rc"], got["stdout"], got["stderr"], [])

    def close(self) -> list[str]:
        """End the worker; the paths it and its commands changed in the root."""
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait(timeout=60)
        try:
            with open(os.path.join(self._out, "changes")) as f:
                return f.read().splitlines()
        finally:
            self._work.cleanup()
