"""Filesystem-py against real loop devices, in a private mount namespace per test."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.conftest import AGENTS_DIR, need
from tests.mntns import LoopDevice, MountNamespace, loop_devices

pytestmark = pytest.mark.integration
AGENT = os.path.join(AGENTS_DIR, "Filesystem-py")
MNT = "/mnt/pyha-fs-test"
MMAP_HOLDER = os.path.join(os.path.dirname(__file__), "mmap_holder.py")
EXT4 = ["mkfs.ext4", "-q", "-F"]


@pytest.fixture
def ns() -> Iterator[MountNamespace]:
    need("unshare", "nsenter", "losetup", "mkfs.ext4", root=True)
    space = MountNamespace()
    yield space
    space.close()


@pytest.fixture
def disk(ns: MountNamespace) -> Iterator[LoopDevice]:
    with loop_devices((64, EXT4)) as (dev,):
        yield dev
        ns.close()  # unmount everything before the loop device is detached


def agent(
    ns: MountNamespace,
    action: str,
    *,
    interval: int | str = 0,
    level: int | str | None = None,
    timeout_ms: int | str = 20000,
    **params: str,
) -> subprocess.CompletedProcess[str]:
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "fs",
        "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
        "OCF_RESKEY_CRM_meta_interval": str(interval),
    }
    if level is not None:
        env["OCF_CHECK_LEVEL"] = str(level)
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    return ns.run([AGENT, action], env)


def reason(result: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("ocf-exit-reason:")]
    assert len(lines) == 1, result.stderr
    return lines[0][len("ocf-exit-reason:") :]


def params(disk: LoopDevice, **extra: str) -> dict[str, str]:
    return {"device": disk.device, "directory": MNT, "fstype": "ext4", **extra}


def test_lifecycle_is_idempotent(ns: MountNamespace, disk: LoopDevice) -> None:
    p = params(disk)
    assert agent(ns, "monitor", **p).returncode == 7  # probe
    assert agent(ns, "start", **p).returncode == 0
    (mount,) = ns.mounted(MNT)
    assert (mount.fstype, mount.dev) == ("ext4", os.stat(disk.device).st_rdev)
    assert agent(ns, "start", **p).returncode == 0
    assert len(ns.mounted(MNT)) == 1  # not mounted twice
    assert agent(ns, "monitor", interval=20000, **p).returncode == 0
    assert agent(ns, "stop", **p).returncode == 0
    assert ns.mounted(MNT) == []
    assert agent(ns, "stop", **p).returncode == 0
    assert agent(ns, "monitor", interval=20000, **p).returncode == 7


def test_xfs_on_300_mib(ns: MountNamespace) -> None:
    need("mkfs.xfs")
    with loop_devices((300, ["mkfs.xfs", "-q", "-f"])) as (dev,):
        p = {"device": dev.device, "directory": MNT, "fstype": "xfs"}
        assert agent(ns, "start", **p).returncode == 0
        assert ns.mounted(MNT)[0].fstype == "xfs"
        assert agent(ns, "monitor", interval=20000, level=20, **p).returncode == 0
        assert agent(ns, "stop", **p).returncode == 0
        assert ns.mounted(MNT) == []
        ns.close()


def test_depth_10_and_20_and_a_read_only_remount(ns: MountNamespace, disk: LoopDevice) -> None:
    p = params(disk)
    assert agent(ns, "start", **p).returncode == 0
    assert agent(ns, "monitor", interval=20000, level=10, **p).returncode == 0
    assert agent(ns, "monitor", interval=20000, level=20, **p).returncode == 0
    status = ns.sh(f"cat {MNT}/.Filesystem_status/fs_$(uname -n)").stdout
    assert status.rstrip("\0") == "fs\n"
    # OCF_CHECK_LEVEL 15 is not implemented: the next lower level (10) runs.
    assert agent(ns, "monitor", interval=20000, level=15, **p).returncode == 0
    assert ns.sh(f"mount -o remount,ro {MNT}").returncode == 0
    ro = agent(ns, "monitor", interval=20000, level=20, **p)
    assert ro.returncode == 1 and reason(ro).endswith(": read-only file system")
    assert agent(ns, "monitor", interval=20000, level=0, **p).returncode == 0
    assert agent(ns, "stop", **p).returncode == 0


def test_backing_device_gone_fails_depth_10(ns: MountNamespace, disk: LoopDevice) -> None:
    p = params(disk)
    assert agent(ns, "start", **p).returncode == 0
    with open(disk.image, "r+b") as f:  # the disk disappears under the mount
        f.truncate(0)
    subprocess.run(["losetup", "-c", disk.device], check=True)
    gone = agent(ns, "monitor", interval=20000, level=10, **p)
    assert gone.returncode == 1
    assert (
        reason(gone)
        == f"Failed to read device {disk.device}: short read: the device is gone or empty"
    )


def test_busy_mount_is_cleared_and_unrelated_processes_survive(
    ns: MountNamespace, disk: LoopDevice
) -> None:
    p = params(disk)
    assert agent(ns, "start", **p).returncode == 0
    assert ns.sh(f"dd if=/dev/zero of={MNT}/data bs=4k count=4 2>/dev/null").returncode == 0
    ns.sh("mkdir -p /mnt/pyha-other && mount -t tmpfs other /mnt/pyha-other")
    in_cwd = ns.spawn(f"cd {MNT} && exec sleep 300")
    open_file = ns.spawn(f"exec 3<{MNT}/data; cd /; exec sleep 300")
    mapped = ns.spawn(f"cd / && exec /usr/bin/python3 {MMAP_HOLDER} {MNT}/data")
    unrelated = ns.spawn("cd /mnt/pyha-other && exec sleep 300")
    time.sleep(0.5)
    stopped = agent(ns, "stop", **p)
    assert stopped.returncode == 0, stopped.stderr
    assert ns.mounted(MNT) == []
    for proc in (in_cwd, open_file, mapped):
        assert proc.wait(timeout=10) != 0  # terminated by a signal
    assert unrelated.poll() is None, "a process on another mount was signalled"
    log = stopped.stderr
    assert f"(cwd) holding {MNT}" in log, log
    assert f"(fd 3 {MNT}/data) holding" in log, log
    assert f"(mmap {MNT}/data) holding" in log, log


def test_busy_mount_without_force_unmount_fails_within_the_deadline(
    ns: MountNamespace, disk: LoopDevice
) -> None:
    p = params(disk, force_unmount="false")
    assert agent(ns, "start", **p).returncode == 0
    holder = ns.spawn(f"cd {MNT} && exec sleep 300")
    time.sleep(0.3)
    began = time.monotonic()
    stopped = agent(ns, "stop", timeout_ms=4000, **p)
    assert time.monotonic() - began < 4.0
    assert stopped.returncode == 1
    assert reason(stopped).startswith(f"Couldn't unmount {MNT}, giving up")
    assert holder.poll() is None and len(ns.mounted(MNT)) == 1


def test_bind_mount_whose_source_is_on_root(ns: MountNamespace) -> None:
    source = "/var/tmp/pyha-bind-src"
    os.makedirs(source, exist_ok=True)
    try:
        p = {"device": source, "directory": MNT, "fstype": "none", "options": "bind,ro"}
        assert agent(ns, "start", **p).returncode == 0
        (bind,) = ns.mounted(MNT)
        assert bind.read_only
        assert agent(ns, "monitor", interval=20000, **p).returncode == 0
        on_root = ns.spawn("cd /var/tmp && exec sleep 300")  # same file system, not the mount
        inside = ns.spawn(f"cd {MNT} && exec sleep 300")
        time.sleep(0.3)
        assert agent(ns, "stop", **p).returncode == 0
        assert inside.wait(timeout=10) != 0
        assert on_root.poll() is None, "#1304: a process on / was signalled"
        assert ns.mounted(MNT) == []
    finally:
        ns.close()
        os.rmdir(source)


def test_uuid_and_label_devices(ns: MountNamespace) -> None:
    uuid = "3d1f6a2e-5c1b-4f0e-9a7d-2b8c4e6f0a11"
    with loop_devices((64, [*EXT4, "-U", uuid, "-L", "pyhatest"])) as (dev,):
        for device in (f"UUID={uuid}", "-L pyhatest", f"--uuid={uuid}", "LABEL=pyhatest"):
            p = {"device": device, "directory": MNT, "fstype": "ext4"}
            assert agent(ns, "start", **p).returncode == 0, device
            assert ns.mounted(MNT)[0].dev == os.stat(dev.device).st_rdev
            assert agent(ns, "monitor", interval=20000, **p).returncode == 0
            assert agent(ns, "stop", **p).returncode == 0
        missing = agent(
            ns,
            "start",
            device="UUID=00000000-0000-0000-0000-000000000000",
            directory=MNT,
            fstype="ext4",
        )
        assert missing.returncode == 5 and "no block device carries it" in reason(missing)
        ns.close()


def test_fsck_of_a_dirty_and_of_a_broken_file_system(ns: MountNamespace) -> None:
    need("debugfs", "mkfs.ext2")
    with loop_devices((64, ["mkfs.ext2", "-q", "-F"]), (64, ["mkfs.ext2", "-q", "-F"])) as (
        dirty,
        broken,
    ):
        # Mark the file system "not clean": fsck -p repairs it and the mount goes on.
        subprocess.run(
            ["debugfs", "-w", "-R", "ssv state 0", dirty.device], check=True, capture_output=True
        )
        p = {"device": dirty.device, "directory": MNT, "fstype": "ext2"}
        started = agent(ns, "start", **p)
        assert started.returncode == 0, started.stderr
        assert "Starting filesystem check" in started.stderr
        assert agent(ns, "stop", **p).returncode == 0
        # A destroyed superblock: fsck cannot repair it, start fails before mounting.
        with open(broken.image, "r+b") as f:
            f.seek(1024)
            f.write(b"\xff" * 1024)
        failed = agent(ns, "start", device=broken.device, directory=MNT, fstype="ext2")
        assert failed.returncode == 1
        assert reason(failed).startswith(
            f"Couldn't successfully fsck filesystem for {broken.device}"
        )
        assert ns.mounted(MNT) == []
        ns.close()


def test_a_different_device_on_the_mount_point_is_reported_and_never_unmounted(
    ns: MountNamespace,
) -> None:
    with loop_devices((64, EXT4), (64, EXT4)) as (ours, other):
        ns.sh(f"mkdir -p {MNT} && mount {other.device} {MNT}")
        p = {"device": ours.device, "directory": MNT, "fstype": "ext4"}
        mon = agent(ns, "monitor", interval=20000, **p)
        assert mon.returncode == 1
        assert reason(mon) == f"{other.device} (ext4) is mounted on {MNT}, not {ours.device}"
        assert agent(ns, "stop", **p).returncode == 0
        assert ns.mounted(MNT)[0].dev == os.stat(other.device).st_rdev  # untouched
        refused = agent(ns, "start", **p)
        assert refused.returncode == 1 and "refusing to mount over it" in reason(refused)
        ns.close()


def test_something_mounted_under_the_mount_point(ns: MountNamespace, disk: LoopDevice) -> None:
    ns.sh(f"mkdir -p {MNT}/sub && mount -t tmpfs under {MNT}/sub")
    out = agent(ns, "start", **params(disk))
    assert out.returncode == 6 and reason(out).startswith(
        "There is one or more mounts mounted under"
    )


def test_missing_device_and_unsupported_fstype(ns: MountNamespace) -> None:
    missing = agent(
        ns, "start", device="/dev/pyha-no-such-disk", directory=MNT, fstype="ext4", timeout_ms=4000
    )
    assert missing.returncode == 5 and "Couldn't find device [/dev/pyha-no-such-disk]" in reason(
        missing
    )
    assert (
        agent(
            ns, "monitor", device="/dev/pyha-no-such-disk", directory=MNT, fstype="ext4"
        ).returncode
        == 7
    )
    bogus = agent(ns, "start", device="/dev/null", directory=MNT, fstype="pyhafs")
    assert bogus.returncode == 5 and "Couldn't find filesystem pyhafs" in reason(bogus)


def test_symlinked_device_and_a_mount_point_with_spaces(
    ns: MountNamespace, disk: LoopDevice
) -> None:
    link = os.path.join(os.path.dirname(disk.image), "by-name-disk")
    os.symlink(disk.device, link)  # as /dev/mapper or /dev/disk/by-* names are
    spaced = "/mnt/pyha data dir"
    p = {"device": link, "directory": spaced, "fstype": "ext4"}
    assert agent(ns, "start", **p).returncode == 0
    (mount,) = ns.mounted(spaced)  # mountinfo says /mnt/pyha\040data\040dir
    assert mount.source == disk.device
    assert agent(ns, "monitor", interval=20000, **p).returncode == 0
    assert agent(ns, "monitor", interval=20000, level=20, **p).returncode == 0
    assert agent(ns, "monitor", interval=20000, **{**p, "device": disk.device}).returncode == 0
    assert agent(ns, "stop", **p).returncode == 0
    assert ns.mounted(spaced) == []
