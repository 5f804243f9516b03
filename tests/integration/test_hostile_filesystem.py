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
from tests.sandbox import SRC, run_sandboxed

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
        ("start", {"device": "x", "directory": "/", "fstype": "tmpfs"}, 6, "directory must not be /"),
        ("stop", {"device": "/dev/vda", "directory": "/", "fstype": "ext4"}, 0, None),
        ("start", {"device": "x", "directory": "/tmp/../etc", "fstype": "tmpfs"}, 6, "must not contain '..'"),
        ("start", {"device": "x", "directory": "/tmp/m", "fstype": "tmpfs$(reboot)"}, 6, "forbidden characters"),
        ("start", {"device": "x", "directory": "/tmp/m", "fstype": "tmpfs",
                   "options": "size=1m,exec;reboot"}, 1, "Couldn't mount device"),
        ("start", {"device": "x", "directory": "/tmp/m", "fstype": "tmpfs",
                   "statusfile_prefix": "../../etc/"}, 6, "must stay inside the mount point"),
        ("start", {"device": "x", "directory": "/tmp/m", "fstype": "tmpfs",
                   "statusfile_prefix": "/etc/passwd"}, 6, "must stay inside the mount point"),
    ],
)  # fmt: skip
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
    agent = f"{SRC}/agents/Filesystem-py"  # the checkout as the sandbox sees it
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
