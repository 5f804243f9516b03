"""Filesystem-py fed hostile parameters, in the overlay sandbox.

Shell syntax, paths that try to leave the mount point, a symlink planted
where the status file goes (to make root overwrite /etc/passwd), a request
to unmount /: the agent refuses or treats the text as data, and the
machine's files stay untouched.
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import AGENTS_DIR, need
from tests.sandbox import SANDBOX_AGENTS, run_sandboxed

pytestmark = pytest.mark.integration
AGENT = os.path.join(AGENTS_DIR, "Filesystem-py")


@pytest.fixture(autouse=True)
def _tools() -> None:
    need("unshare", "chroot", root=True)


def env(**params: str) -> dict[str, str]:
    return {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "fs",
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        "OCF_RESKEY_CRM_meta_interval": "20000",
        **{f"OCF_RESKEY_{k}": v for k, v in params.items()},
    }


@pytest.mark.parametrize(
    ("action", "params", "rc", "reason"),
    [
        ("start", {"device": "tmpfs; rm -rf /", "directory": "/tmp/m", "fstype": "tmpfs"}, 0, None),
        (
            "start",
            {"device": "x", "directory": "/", "fstype": "tmpfs"},
            6,
            "directory must not be /",
        ),
        ("stop", {"device": "/dev/vda", "directory": "/", "fstype": "ext4"}, 0, None),
        (
            "start",
            {"device": "x", "directory": "/tmp/../etc", "fstype": "tmpfs"},
            6,
            "must not contain '..'",
        ),
        (
            "start",
            {"device": "x", "directory": "/tmp/m", "fstype": "tmpfs$(reboot)"},
            6,
            "forbidden characters",
        ),
        (
            "start",
            {
                "device": "x",
                "directory": "/tmp/m",
                "fstype": "tmpfs",
                "options": "size=1m,exec;reboot",
            },
            1,
            "Couldn't mount device",
        ),
        (
            "start",
            {
                "device": "x",
                "directory": "/tmp/m",
                "fstype": "tmpfs",
                "statusfile_prefix": "../../etc/",
            },
            6,
            "must stay inside the mount point",
        ),
        (
            "start",
            {
                "device": "x",
                "directory": "/tmp/m",
                "fstype": "tmpfs",
                "statusfile_prefix": "/etc/passwd",
            },
            6,
            "must stay inside the mount point",
        ),
    ],
)
def test_hostile_parameters_change_nothing(
    action: str, params: dict[str, str], rc: int, reason: str | None
) -> None:
    result = run_sandboxed([AGENT, action], env(**params))
    assert result.returncode == rc, result.stderr
    if reason:
        assert "ocf-exit-reason:" in result.stderr and reason in result.stderr, result.stderr
    assert result.changes == [], result.changes


def test_a_symlink_planted_as_the_status_file_is_not_followed() -> None:
    """Depth 20 must never write through a link: /etc/passwd stays as it is."""
    agent = f"{SANDBOX_AGENTS}/Filesystem-py"  # the checkout as the sandbox sees it
    script = (
        f"{agent} start && "
        "mkdir -p /tmp/m/.Filesystem_status && "
        'ln -s /etc/passwd "/tmp/m/.Filesystem_status/fs_$(uname -n)" && '
        f"OCF_CHECK_LEVEL=20 {agent} monitor; echo rc=$?; "
        "rm -r /tmp/m/.Filesystem_status && ln -s /etc /tmp/m/.Filesystem_status && "
        f"OCF_CHECK_LEVEL=20 {agent} monitor; echo rc=$?; {agent} stop"
    )
    result = run_sandboxed(
        ["/bin/sh", "-c", script],
        env(device="pyha", directory="/tmp/m", fstype="tmpfs") | {"PATH": "/usr/bin:/bin"},
    )
    lines = [ln for ln in result.stdout.splitlines() if ln.startswith("rc=")]
    assert lines == ["rc=1", "rc=1"], result.stdout + result.stderr
    assert "a symbolic link or foreign file is in the way" in result.stderr
    assert result.changes == [], result.changes


# A holder of the file system in another mount namespace: a container, or a service
# with PrivateTmp/PrivateMounts. Each line of the script's output is checked.
_ANOTHER_NAMESPACE = r"""
A={agent}
$A start || {{ echo start-failed; exit 0; }}
unshare --mount --propagation {propagation} sh -c '{inside} && : > /tmp/other-ready && exec sleep 1000' &
OTHER=$!
# ready once it is in its own namespace (not before unshare: that would be ours)
for i in $(seq 200); do [ -e /tmp/other-ready ] && break; sleep 0.05; done
[ "$(readlink /proc/$OTHER/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] || echo same-namespace
{before_stop}
OCF_RESKEY_force_unmount={force} OCF_RESKEY_CRM_meta_timeout=6000 $A stop; echo rc=$?
{after_stop}
for p in /proc/[0-9]*; do
    grep -q ' /tmp/m ' $p/mountinfo 2>/dev/null && echo "still-mounted-for ${{p#/proc/}}"
done | sort -u | head -1 | cut -d' ' -f1
kill -0 $OTHER 2>/dev/null && echo other-alive || echo other-gone
kill -9 $OTHER 2>/dev/null; true
"""


@pytest.mark.parametrize(
    ("propagation", "inside", "force", "expected", "reason"),
    [
        # the holder's cwd is in the file system: it is signalled, the copy goes with it
        ("private", "cd /tmp/m", "true", ["rc=0", "other-gone"], None),
        ("slave", "cd /tmp/m", "true", ["rc=0", "other-gone"], None),
        # a process in the namespace that does not use the file system is left alone;
        # the namespace's copy of the mount is unmounted inside it
        ("private", "cd /", "true", ["rc=0", "other-alive"], None),
        # force_unmount=false: the holder is not signalled, and stop does not pretend
        (
            "private",
            "cd /tmp/m",
            "false",
            ["rc=1", "still-mounted-for", "other-alive"],
            "is still mounted in mount namespace",
        ),
    ],
)
def test_stop_clears_the_file_system_from_every_mount_namespace(
    propagation: str, inside: str, force: str, expected: list[str], reason: str | None
) -> None:
    script = _ANOTHER_NAMESPACE.format(
        agent=f"{SANDBOX_AGENTS}/Filesystem-py",
        propagation=propagation,
        inside=inside,
        force=force,
        before_stop="",
        after_stop="",
    )
    result = run_sandboxed(
        ["/bin/sh", "-c", script],
        env(device="pyha", directory="/tmp/m", fstype="tmpfs") | {"PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.split() == expected, result.stdout + result.stderr
    if reason:
        assert reason in result.stderr and "held by sleep[" in result.stderr, result.stderr
    assert result.changes == [], result.changes


def test_a_copy_that_cannot_be_unmounted_fails_stop_with_1_not_5() -> None:
    """Without nsenter the copy in another namespace stays: stop says so (1, the node is
    fenced), never 'not installed' (5), and the process there is left alone."""
    script = _ANOTHER_NAMESPACE.format(
        agent=f"{SANDBOX_AGENTS}/Filesystem-py",
        propagation="private",
        inside="cd /",
        force="true",
        before_stop="mv /usr/bin/nsenter /usr/bin/nsenter.hidden",
        after_stop="mv /usr/bin/nsenter.hidden /usr/bin/nsenter",
    )
    result = run_sandboxed(
        ["/bin/sh", "-c", script],
        env(device="pyha", directory="/tmp/m", fstype="tmpfs") | {"PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.split() == ["rc=1", "still-mounted-for", "other-alive"], (
        result.stdout + result.stderr
    )
    assert "ocf-exit-reason:pyha is still mounted in mount namespace" in result.stderr
    assert "cannot unmount in mnt:" in result.stderr


_HOLDERS_IN_OUR_NAMESPACE = r"""
A={agent}
$A start || {{ echo start-failed; exit 0; }}
echo data > /tmp/m/f
(cd /tmp/m && exec sleep 1000) &
CWD=$!
sleep 1000 < /tmp/m/f &
FD=$!
sleep 0.2
OCF_RESKEY_force_unmount=true OCF_RESKEY_CRM_meta_timeout=8000 $A stop; echo rc=$?
grep -q ' /tmp/m ' /proc/self/mountinfo && echo still-mounted || echo unmounted
kill -0 $CWD 2>/dev/null && echo cwd-holder-alive || echo cwd-holder-gone
kill -0 $FD 2>/dev/null && echo fd-holder-alive || echo fd-holder-gone
kill -9 $CWD $FD 2>/dev/null; true
"""


@pytest.mark.parametrize(
    "agent",
    [f"{SANDBOX_AGENTS}/Filesystem-py", "/usr/lib/ocf/resource.d/heartbeat/Filesystem"],
    ids=["pyha", "reference"],
)
def test_holders_in_its_own_namespace_are_found_when_the_agent_runs_chrooted(agent: str) -> None:
    """The sandbox runs the agent in a chroot (as a container that chroots does): the
    first process of its mount namespace has another root, so that process's mount
    table names the mount point by another path. A process whose cwd is on the file
    system was then never found and stop failed (1) where the reference's fuser finds
    it by device; the holders are found from the agent's own view of the mounts."""
    result = run_sandboxed(
        [
            "/bin/sh",
            "-c",
            _HOLDERS_IN_OUR_NAMESPACE.format(agent=f"{SANDBOX_AGENTS}/Filesystem-py"),
        ],
        env(device="pyha", directory="/tmp/m", fstype="tmpfs") | {"PATH": "/usr/bin:/bin"},
    )
    assert result.stdout.split() == ["rc=0", "unmounted", "cwd-holder-gone", "fd-holder-gone"], (
        result.stdout + result.stderr
    )
    assert result.changes == [], result.changes
