"""A private mount namespace that lives for a test (and lab.disks' loop devices).

Every mount made inside the namespace stays inside it and vanishes with it;
loop devices (machine-wide) are always `losetup -f` and always detached.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence

from lab.disks import LoopDevice, loop_devices
from ocflib.mounts import Mount, parse_mountinfo

__all__ = ["MountNamespace", "LoopDevice", "loop_devices"]


class MountNamespace:
    """`unshare --mount --propagation private` kept alive by a sleeping process,
    with its own tmpfs on /mnt."""

    def __init__(self) -> None:
        self.launcher = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "--fork", "sleep", "3600"],
            start_new_session=True,
        )
        self.pid = 0
        for _ in range(500):
            try:
                with open(f"/proc/{self.launcher.pid}/task/{self.launcher.pid}/children") as f:
                    children = f.read().split()
            except OSError:
                children = []
            if children:
                self.pid = int(children[0])
                break
            time.sleep(0.01)
        else:
            self.close()
            raise RuntimeError("the mount namespace did not start")
        self.extra: list[subprocess.Popen[bytes]] = []
        # Mount points the tests create go to a tmpfs of this namespace, never
        # to the machine's own /mnt.
        if self.sh("mount -t tmpfs pyha-mnt /mnt").returncode != 0:
            self.close()
            raise RuntimeError("cannot mount a tmpfs on /mnt in the namespace")

    def argv(self, argv: Sequence[str]) -> list[str]:
        # --root/--wd: the helper's root and directory, so a run from a chroot (the
        # platform matrix's root trees) stays inside it; on the machine itself both are /.
        return ["nsenter", "-t", str(self.pid), "--mount", "--root", "--wd", "--", *argv]

    def run(
        self, argv: Sequence[str], env: Mapping[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(argv),
            env=dict(env) if env is not None else None,
            text=True,
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    def sh(self, script: str) -> subprocess.CompletedProcess[str]:
        return self.run(["sh", "-c", script])

    def spawn(self, script: str) -> subprocess.Popen[bytes]:
        """A background process inside the namespace (killed at close)."""
        proc = subprocess.Popen(
            self.argv(["sh", "-c", script]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.extra.append(proc)
        return proc

    def mounts(self) -> list[Mount]:
        with open(f"/proc/{self.pid}/mountinfo") as f:
            return parse_mountinfo(f.read())

    def mounted(self, target: str) -> list[Mount]:
        return [m for m in self.mounts() if m.target == target]

    def close(self) -> None:
        for proc in self.extra:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.launcher.pid, signal.SIGKILL)
        self.launcher.wait()
