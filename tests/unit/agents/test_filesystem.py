"""Filesystem-py's exit codes row by row of Filesystem's behaviour, with fakes.

The world is fake (tests/fakes.py): the mount table, device numbers, /proc/filesystems,
the process table, kill(), euid and the forked I/O children; every command
is scripted in the strict fake runner, whose effects change the fake table.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

from ocflib.agents import filesystem
from ocflib.holders import Holder
from ocflib.mounts import Mount
from tests.conftest import Outcome, dispatch
from tests.fakes import FakeHost, FakeMounts, FakeProcesses, FakeRunner, fake_context, ocf_env

AGENT = filesystem.AGENT
DEV = "/dev/pyha-fake0"
OTHER = "/dev/pyha-fake1"
NUMBERS = {DEV: os.makedev(7, 0), OTHER: os.makedev(7, 1)}


class World:
    """The test's world: a fake mount table and block devices (FakeMounts), the
    strict fake process table (procs: holders, the signals sent, the forked I/O
    children's exit codes), the effective uid (FakeHost)."""

    def __init__(self, directory: str) -> None:
        self.dir = directory
        self.mounts = FakeMounts(devices=NUMBERS, filesystems={"ext4", "xfs", "tmpfs"})
        self.next_id = 100
        self.procs = FakeProcesses()
        self.host = FakeHost()

    @property
    def table(self) -> list[Mount]:
        return self.mounts.table_now

    @table.setter
    def table(self, mounts: list[Mount]) -> None:
        self.mounts.table_now = mounts

    @property
    def filesystems(self) -> set[str]:
        return self.mounts.filesystems

    def hold(self, pid: int, name: str, how: list[str]) -> None:
        """A process holding the file system (it dies of TERM or KILL)."""
        self.procs.holders.append(Holder(self.procs.add(pid, name), how, "own"))

    def mount(self, device: str, target: str, fstype: str = "ext4") -> Mount:
        major, minor = os.major(NUMBERS.get(device, 0)), os.minor(NUMBERS.get(device, 0))
        self.next_id += 1
        m = Mount(self.next_id, 1, major, minor, "/", target, "rw", fstype, device, "rw")
        self.table.append(m)
        return m

    def unmount(self, target: str) -> None:
        for m in reversed(self.table):
            if m.target == target:
                self.table.remove(m)
                return


@pytest.fixture
def world(tmp_path: Any) -> Generator[World]:
    w = World(str(tmp_path / "mnt"))
    WORLDS.append(w)
    yield w
    WORLDS.remove(w)


WORLDS: list[World] = []


def env(
    world: World,
    interval: int | None = None,
    level: int | None = None,
    timeout_ms: int = 20000,
    meta: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    **more: str,
) -> dict[str, str]:
    values = {"device": DEV, "directory": world.dir, "fstype": "ext4", **(params or {}), **more}
    e = ocf_env(interval_ms=interval, timeout_ms=timeout_ms, meta=meta, params=values)
    if level is not None:
        e["OCF_CHECK_LEVEL"] = str(level)
    return e


def run(action: str, fake: FakeRunner, e: dict[str, str]) -> Outcome:
    """Dispatch in the current test's world (its strict process table), on a fake
    clock: the agent's pauses take no time."""
    if not WORLDS:
        return dispatch(AGENT, action, e, fake)
    w = WORLDS[-1]
    return dispatch(AGENT, action, e, fake, procs=w.procs, mounts=w.mounts, host=w.host)


# --- start -------------------------------------------------------------------------


def test_start_mounts_after_creating_the_mount_point(fake: FakeRunner, world: World) -> None:
    fake.expect(
        ["mount", "-t", "ext4", "-o", "noatime", "--", DEV, world.dir],
        effect=lambda: world.mount(DEV, world.dir),
    )
    out = run("start", fake, env(world, options="noatime"))
    assert (out.rc, out.reasons) == (0, [])
    assert os.path.isdir(world.dir)


def test_start_when_already_mounted_is_0(fake: FakeRunner, world: World) -> None:
    os.makedirs(world.dir)
    world.mount(DEV, world.dir)
    assert run("start", fake, env(world)).rc == 0


def test_start_refuses_a_different_device_and_submounts(fake: FakeRunner, world: World) -> None:
    os.makedirs(world.dir)
    world.mount(OTHER, world.dir)
    out = run("start", fake, env(world))
    assert out.rc == 1
    assert (
        out.reason == f"{OTHER} (ext4) is already mounted on {world.dir}; refusing to mount over it"
    )
    world.table.clear()
    world.mount("tmpfs", world.dir + "/sub", "tmpfs")
    out = run("start", fake, env(world))
    assert out.rc == 6 and out.reason.startswith(
        f"There is one or more mounts mounted under {world.dir}"
    )


def test_start_unsupported_fstype_tries_modprobe_then_5(fake: FakeRunner, world: World) -> None:
    fake.expect(["modprobe", "gfs2"], returncode=1)
    out = run("start", fake, env(world, fstype="gfs2"))
    assert out.rc == 5 and out.reason.startswith(
        "Couldn't find filesystem gfs2 in /proc/filesystems"
    )


def test_start_missing_device_is_5(fake: FakeRunner, world: World) -> None:
    out = run("start", fake, env(world, device="/dev/pyha-nothing", timeout_ms=2000))
    assert out.rc == 5
    assert (
        out.reason
        == "Couldn't find device [/dev/pyha-nothing]. Expected /dev/??? to exist (and be a block device)"
    )


def test_start_runs_fsck_where_needed(fake: FakeRunner, world: World) -> None:
    world.filesystems.add("ext2")
    fake.expect(["fsck", "-t", "ext2", "-p", DEV], returncode=1)  # errors corrected: go on
    fake.expect(
        ["mount", "-t", "ext2", "--", DEV, world.dir],
        effect=lambda: world.mount(DEV, world.dir, "ext2"),
    )
    assert run("start", fake, env(world, fstype="ext2")).rc == 0
    world.table.clear()
    fake.expect(["fsck", "-t", "ext2", "-p", DEV], returncode=4)
    out = run("start", fake, env(world, fstype="ext2"))
    assert (
        out.rc == 1
        and out.reason == f"Couldn't successfully fsck filesystem for {DEV} (fsck returned 4)"
    )
    fake.expect(["fsck", "-t", "ext4", "-p", DEV])
    fake.expect(
        ["mount", "-t", "ext4", "--", DEV, world.dir], effect=lambda: world.mount(DEV, world.dir)
    )
    assert run("start", fake, env(world, run_fsck="force")).rc == 0


def test_invalid_run_fsck_warns_and_means_auto(fake: FakeRunner, world: World) -> None:
    fake.expect(
        ["mount", "-t", "ext4", "--", DEV, world.dir], effect=lambda: world.mount(DEV, world.dir)
    )
    out = run("start", fake, env(world, run_fsck="sometimes"))
    assert out.rc == 0
    assert (
        "parameter run_fsck='sometimes' is not one of 'auto', 'force', 'no'; 'auto' is used, "
        "as the shell agent does" in out.logged("warning")
    )


def test_start_mount_failure_and_a_mount_that_does_not_show(fake: FakeRunner, world: World) -> None:
    fake.expect(
        ["mount", "-t", "ext4", "--", DEV, world.dir],
        returncode=32,
        stderr="mount: wrong fs type, bad option, bad superblock",
    )
    out = run("start", fake, env(world))
    assert out.rc == 1
    assert out.reason == (
        f"Couldn't mount device [{DEV}] as {world.dir}: mount returned 32: "
        "mount: wrong fs type, bad option, bad superblock"
    )
    fake.expect(["mount", "-t", "ext4", "--", DEV, world.dir])
    out = run("start", fake, env(world))
    assert out.rc == 1 and out.reason.endswith("the mount table does not show it")


def test_uuid_device_is_resolved_with_blkid(fake: FakeRunner, world: World) -> None:
    blkid = ["blkid", "-t", "UUID=abcd", "-o", "device"]
    fake.expect(blkid, stdout=f"{DEV}\n")
    fake.expect(
        ["mount", "-t", "ext4", "--", DEV, world.dir], effect=lambda: world.mount(DEV, world.dir)
    )
    fake.expect(blkid, stdout=f"{DEV}\n")  # the mount is checked to be ours
    assert run("start", fake, env(world, device="-U abcd")).rc == 0
    world.table.clear()
    fake.expect(["blkid", "-t", "LABEL=gone", "-o", "device"], returncode=2)
    out = run("start", fake, env(world, device="--label=gone"))
    assert out.rc == 5
    assert out.reason == "Couldn't find device [LABEL=gone]: no block device carries it (blkid)"


def test_clone_safety(fake: FakeRunner, world: World) -> None:
    meta = {"clone_max": "2", "clone": "0"}
    out = run("start", fake, env(world, meta=meta))
    assert out.rc == 6 and out.reason.startswith(f"DANGER! ext4 on {DEV} is NOT cluster-aware!")
    fake.expect(
        ["mount", "-t", "ext4", "--", DEV, world.dir], effect=lambda: world.mount(DEV, world.dir)
    )
    assert run("start", fake, env(world, meta=meta, force_clones="true")).rc == 0


# --- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"device": ""}, "required parameter device is not set"),
        (
            {"directory": "/"},
            "directory must not be / (the root file system is never mounted or unmounted by a cluster)",
        ),
        (
            {"directory": "relative/dir"},
            "parameter directory='relative/dir' must be an absolute path",
        ),
        (
            {"statusfile_prefix": "../../etc/"},
            "statusfile_prefix [../../etc/] must stay inside the mount point (relative, no '..')",
        ),
        ({"signal_delay": "soon"}, "parameter signal_delay='soon' must be a number of seconds"),
        ({"signal_delay": "61"}, "parameter signal_delay='61' must be a number of seconds (0-60)"),
        (
            {"kill_signals": "TERM,BOGUS"},
            "parameter kill_signals='TERM,BOGUS' has an unknown signal 'BOGUS'",
        ),
        (
            {"options": "ro noatime"},
            "parameter options='ro noatime' contains forbidden characters ' '",
        ),
    ],
)
def test_configuration_errors(
    fake: FakeRunner, world: World, params: dict[str, str], reason: str
) -> None:
    e = env(world, params=params)
    if params.get("device") == "":
        del e["OCF_RESKEY_device"]
    for action in ("start", "validate-all"):
        out = run(action, fake, e)
        assert (out.rc, out.reason) == (6, reason), action
    assert run("stop", fake, e).rc == 0
    e["OCF_RESKEY_CRM_meta_interval"] = "0"
    assert run("monitor", fake, e).rc == 7


def test_local_problems(world: World) -> None:
    fake = FakeRunner(installed={"umount"})
    out = run("start", fake, env(world))
    assert out.rc == 5 and out.reason == "Setup problem: couldn't find command: mount"
    assert run("monitor", fake, env(world, interval=0)).rc == 7
    world.host.uid = 1000
    out = run("stop", FakeRunner(), env(world))
    assert out.rc == 4 and out.reason == "You must be root for stop operation."


# --- monitor -----------------------------------------------------------------------------


def test_monitor_states(fake: FakeRunner, world: World) -> None:
    os.makedirs(world.dir)
    assert run("monitor", fake, env(world, interval=20000)).rc == 7
    world.mount(DEV, world.dir)
    assert run("monitor", fake, env(world, interval=20000)).rc == 0
    world.mount(OTHER, world.dir)  # something mounted over ours
    out = run("monitor", fake, env(world, interval=20000))
    assert out.rc == 1 and out.reason == f"{OTHER} (ext4) is mounted over {world.dir}, hiding {DEV}"
    world.table = [m for m in world.table if m.source == OTHER]
    out = run("monitor", fake, env(world, interval=20000))
    assert out.rc == 1 and out.reason == f"{OTHER} (ext4) is mounted on {world.dir}, not {DEV}"


def test_monitor_depths(fake: FakeRunner, world: World) -> None:
    os.makedirs(world.dir)
    world.mount(DEV, world.dir)
    assert run("monitor", fake, env(world, interval=20000, level=10)).rc == 0
    assert run("monitor", fake, env(world, interval=20000, level=20)).rc == 0
    world.procs.child_code = 71
    out = run("monitor", fake, env(world, interval=20000, level=10))
    assert (
        out.rc == 1
        and out.reason == f"Failed to read device {DEV}: short read: the device is gone or empty"
    )
    out = run("monitor", fake, env(world, interval=20000, level=15))  # falls back to 10
    assert out.rc == 1
    world.procs.child_code = 30
    out = run("monitor", fake, env(world, interval=20000, level=20))
    assert out.rc == 1 and out.reason.endswith(f"test_{os.uname().nodename}: read-only file system")
    world.procs.child_code = None  # the child hangs: given up at the deadline, killed, left
    out = run("monitor", fake, env(world, interval=20000, level=20, timeout_ms=2000))
    assert out.rc == 1 and out.reason.endswith("did not complete in time: the file system hangs")
    assert len(world.procs.killed_children) == 1
    assert run("monitor", fake, env(world, interval=20000, level=5)).rc == 0  # level 0


def test_status_file_name_per_clone_and_node() -> None:
    from ocflib.env import OcfEnv
    from ocflib.params import parse_params

    cfg, _ = parse_params(
        filesystem.PARAMS,
        {"device": DEV, "directory": "/m", "fstype": "ext4", "statusfile_prefix": "a/b/st-"},
    )
    environ = {"OCF_RESOURCE_INSTANCE": "fs:1", "OCF_RESKEY_CRM_meta_clone": "1"}
    ctx = fake_context(AGENT, OcfEnv("monitor", environ))
    assert filesystem.status_file(cfg, ctx) == (["a", "b"], f"st-fs:1_1_{os.uname().nodename}")


# --- stop --------------------------------------------------------------------------------


def test_stop_unmounts_submounts_and_other_mounts_of_the_device_first(
    fake: FakeRunner, world: World
) -> None:
    os.makedirs(world.dir)
    world.mount(DEV, world.dir)
    world.mount("tmpfs", world.dir + "/a", "tmpfs")
    world.mount("tmpfs", world.dir + "/a/b", "tmpfs")
    world.mount(DEV, "/srv/elsewhere")
    for target in (world.dir + "/a/b", world.dir + "/a", "/srv/elsewhere", world.dir):
        fake.expect(["umount", "--", target], effect=lambda t=target: world.unmount(t))
    assert run("stop", fake, env(world)).rc == 0
    assert world.table == []


def test_stop_when_not_mounted_or_foreign(fake: FakeRunner, world: World) -> None:
    assert run("stop", fake, env(world)).rc == 0
    os.makedirs(world.dir)
    world.mount(OTHER, world.dir)
    out = run("stop", fake, env(world))  # never unmounts a device that is not ours
    assert out.rc == 0 and len(world.table) == 1
    world.table.clear()
    world.mount(DEV, world.dir)
    world.mount(OTHER, world.dir)  # mounted over ours: unmounting ours would need it gone
    out = run("stop", fake, env(world))
    assert out.rc == 1 and "is mounted over" in out.reason and "it is not ours" in out.reason


def test_stop_signals_the_holders_then_unmounts(fake: FakeRunner, world: World) -> None:
    os.makedirs(world.dir)
    world.mount(DEV, world.dir)
    world.hold(4242, "sleep", ["cwd"])
    world.hold(4343, "app", ["fd 3 /x"])
    fake.expect(["umount", "--", world.dir], returncode=32, stderr="umount: target is busy.")
    fake.expect(["umount", "--", world.dir], effect=lambda: world.unmount(world.dir))
    out = run("stop", fake, env(world, signal_delay="0", term_signals="HUP,TERM"))
    assert out.rc == 0
    assert world.procs.signals == [(4242, 1), (4242, 15), (4343, 1), (4343, 15)]


def test_stop_busy_without_force_unmount_gives_up(fake: FakeRunner, world: World) -> None:
    os.makedirs(world.dir)
    world.mount(DEV, world.dir)
    world.hold(4242, "sleep", ["cwd"])
    for _ in range(20):
        fake.expect(["umount", "--", world.dir], returncode=32, stderr="umount: target is busy.")
    out = run("stop", fake, env(world, force_unmount="false", timeout_ms=2500))
    assert out.rc == 1
    assert out.reason == f"Couldn't unmount {world.dir}, giving up: umount: target is busy."
    assert world.procs.signals == []
    attempts = 20 - len(fake.expected)
    assert 3 <= attempts <= 8, attempts  # retried about every 0.2 s for 1 s, no busy loop
    fake.expected.clear()


def test_bind_mounts_are_matched_without_touching_either_path(
    fake: FakeRunner, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bind mount is recognised from the mount table alone (device and root): stat()
    of the source or the mount point would hang monitor and stop on a dead NFS server."""
    os.makedirs(world.dir)
    nfs = Mount(50, 1, 0, 77, "/exports", "/net/data", "rw", "nfs4", "srv:/exports", "rw")
    bind = Mount(51, 1, 0, 77, "/exports/db", world.dir, "rw", "nfs4", "srv:/exports", "rw")
    other = Mount(52, 1, 0, 77, "/exports/other", world.dir + "2", "rw", "nfs4", "s:/x", "rw")
    world.table += [nfs, bind, other]
    real_stat = os.stat

    def no_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if str(path).startswith(("/net/data", world.dir)):
            raise AssertionError(f"stat({path}) on the mounted file system")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", no_stat)
    bind_env = env(world, interval=20000, device="/net/data/db", fstype="none", options="bind")
    assert run("monitor", fake, bind_env).rc == 0
    wrong = env(world, interval=20000, device="/net/data/other", fstype="none", options="bind")
    world.procs.child_code = 1  # the bounded child's answer when the lexical match fails
    assert run("monitor", fake, wrong).rc == 1  # another directory is mounted there


@pytest.mark.parametrize(
    ("device", "rc"),
    [("-o", 6), ("--bind", 6), ("-U 1234", 0), ("--label=data", 0), ("LABEL=data", 0)],
)
def test_a_device_that_mount_would_read_as_an_option_is_refused(
    fake: FakeRunner, world: World, device: str, rc: int
) -> None:
    out = run("validate-all", fake, env(world, device=device))
    assert out.rc == rc
    if rc:
        assert "must not begin with '-'" in out.reason
