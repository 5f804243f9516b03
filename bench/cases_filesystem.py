"""Filesystem-py vs ocf:heartbeat:Filesystem: the same loop device, mount point and run.

The bench process moves itself into a private mount namespace (unshare), so
every mount stays there; the loop device is attached for the run and
detached at the end.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import tempfile
from collections.abc import Iterator

from bench.bench import ROOT, Case, Side, Step

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/Filesystem"
PYHA = os.path.join(ROOT, "agents", "Filesystem-py")
CLONE_NEWNS = 0x00020000
MS_REC, MS_PRIVATE = 0x4000, 0x40000
MNT = "/mnt/pyha-bench"


def private_mount_namespace() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNS)")
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        raise OSError(ctypes.get_errno(), "mount --make-rprivate /")
    subprocess.run(["mount", "-t", "tmpfs", "pyha-bench-mnt", "/mnt"], check=True)


@contextlib.contextmanager
def cases() -> Iterator[list[Case]]:
    with tempfile.TemporaryDirectory(prefix="pyha-bench-", dir="/var/tmp") as work:
        image = os.path.join(work, "disk.img")
        with open(image, "wb") as f:
            f.truncate(128 * 1024 * 1024)
        device = subprocess.run(
            ["losetup", "-f", "--show", image], capture_output=True, text=True, check=True
        ).stdout.strip()
        try:
            subprocess.run(["mkfs.ext4", "-q", "-F", device], check=True)
            # A child process would be simpler, but then the agents would run in
            # another namespace than the mounts they check: do it in this process.
            private_mount_namespace()

            def env(level: int, interval: int) -> dict[str, str]:
                return {
                    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                    "OCF_ROOT": "/usr/lib/ocf",
                    "OCF_RESOURCE_INSTANCE": "bench_fs",
                    "OCF_RESKEY_device": device,
                    "OCF_RESKEY_directory": MNT,
                    "OCF_RESKEY_fstype": "ext4",
                    "OCF_RESKEY_CRM_meta_timeout": "60000",
                    "OCF_RESKEY_CRM_meta_interval": str(interval),
                    "OCF_CHECK_LEVEL": str(level),
                }

            def monitor(agent: str, level: int) -> Side:
                e = env(level, 20000)
                return Side(os.path.basename(agent), lambda: [Step([agent, "monitor"], e)])

            def start(agent: str) -> Side:
                e = env(0, 0)
                return Side(
                    os.path.basename(agent),
                    lambda: [Step([agent, "start"], e), Step([agent, "stop"], e, timed=False)],
                )

            def stop(agent: str) -> Side:
                e = env(0, 0)
                return Side(
                    os.path.basename(agent),
                    lambda: [Step([agent, "start"], e, timed=False), Step([agent, "stop"], e)],
                )

            def mounted() -> None:
                subprocess.run([PYHA, "start"], env=env(0, 0), check=True, capture_output=True)

            def unmounted() -> None:
                subprocess.run([PYHA, "stop"], env=env(0, 0), check=True, capture_output=True)

            yield [
                Case(
                    "monitor depth 0 (mounted)",
                    monitor(PYHA, 0),
                    monitor(REFERENCE, 0),
                    before=mounted,
                ),
                Case(
                    "monitor depth 20 (mounted)",
                    monitor(PYHA, 20),
                    monitor(REFERENCE, 20),
                    note="write, sync and read back the status file",
                ),
                Case("start (ext4, 128 MiB)", start(PYHA), start(REFERENCE), before=unmounted),
                Case("stop (ext4, idle)", stop(PYHA), stop(REFERENCE)),
            ]
        finally:
            subprocess.run(["umount", MNT], capture_output=True, check=False)
            subprocess.run(["losetup", "-d", device], capture_output=True, check=False)
