"""ocf-tester, the acceptance test of resource-agents, on pyha's agents and the shim."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import AGENTS_DIR, ROOT, need
from tests.netns import single_host


def ocf_tester(
    name: str,
    agent: str,
    params: dict[str, str],
    netns: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    argv = ["ocf-tester", "-n", name]
    for key, value in params.items():
        argv += ["-o", f"{key}={value}"]
    argv.append(agent)
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, **(env or {})},
        cwd="/tmp",
    )


@pytest.mark.integration
@pytest.mark.parametrize(
    "params",
    [
        {"ip": "192.0.2.50"},
        {"ip": "2001:db8::50", "nic": "eth0", "cidr_netmask": "64"},
        {"ip": "192.0.2.51", "nic": "eth0", "cidr_netmask": "24", "iflabel": "vip"},
    ],
    ids=["ipv4", "ipv6", "ipv4-label"],
)
def test_ocf_tester_passes_ipaddr2_py(params: dict[str, str]) -> None:
    need("ocf-tester", "ip", root=True)
    with single_host() as ns:
        ns.ip("addr", "add", "2001:db8::1/64", "dev", "eth0", "nodad")
        result = ocf_tester("vip", os.path.join(AGENTS_DIR, "IPaddr2-py"), params, ns.name)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "passed all tests" in result.stdout
        assert ns.addresses("eth0") == ["192.0.2.1/24", "2001:db8::1/64"] + [
            a for a in ns.addresses("eth0") if a.startswith("fe80")
        ]


@pytest.mark.integration
def test_dummypy_runs_unchanged_on_the_shim() -> None:
    """resource-agents' own dummypy, with OCF_FUNCTIONS_DIR pointing at our ocf.py."""
    dummypy = "/usr/lib/ocf/resource.d/heartbeat/dummypy"
    need("ocf-tester", dummypy)
    shim_dir = os.path.join(ROOT, "ocflib")
    state = f"/tmp/pyha-dummypy-{os.getpid()}.state"
    env = {"OCF_FUNCTIONS_DIR": shim_dir}
    try:
        result = ocf_tester("dummyshim", dummypy, {"state": state}, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "passed all tests" in result.stdout
        # ... and it really was our module that ran: ours indents its XML.
        meta = subprocess.run(
            [dummypy, "meta-data"],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "\n  <parameters>\n    <parameter" in meta
    finally:
        if os.path.exists(state):
            os.unlink(state)


@pytest.mark.integration
@pytest.mark.parametrize("kind", ["ext4", "tmpfs", "bind"])
def test_ocf_tester_passes_filesystem_py(kind: str) -> None:
    need("ocf-tester", "unshare", "nsenter", "losetup", "mkfs.ext4", root=True)
    from tests.mntns import MountNamespace, loop_devices

    agent = os.path.join(AGENTS_DIR, "Filesystem-py")
    with loop_devices((64, ["mkfs.ext4", "-q", "-F"])) as (disk,):
        ns = MountNamespace()
        try:
            ns.sh("mkdir -p /mnt/bind-src")
            params = {
                "ext4": {"device": disk.device, "fstype": "ext4"},
                "tmpfs": {"device": "pyha-tmpfs", "fstype": "tmpfs", "options": "size=8m"},
                "bind": {"device": "/mnt/bind-src", "fstype": "none", "options": "bind"},
            }[kind]
            argv = ["ocf-tester", "-n", "fs", "-o", "directory=/mnt/fs"]
            for key, value in params.items():
                argv += ["-o", f"{key}={value}"]
            result = ns.run([*argv, agent], timeout=300)
            assert result.returncode == 0, result.stdout + result.stderr
            assert "passed all tests" in result.stdout
            assert ns.mounted("/mnt/fs") == []
        finally:
            ns.close()


@pytest.mark.integration
def test_ocf_tester_passes_mysql_py(tmp_path: object) -> None:
    need("ocf-tester", "mariadbd", "mariadb-install-db", "runuser", root=True)
    import shutil
    import tempfile

    from tests.integration.test_mysql_real import Server

    with tempfile.TemporaryDirectory(prefix="pyha-mysql-", dir="/var/tmp") as base:
        shutil.chown(base, "mysql", "mysql")
        db = Server(base, "t")
        params = db.params()
        result = ocf_tester(
            "db",
            os.path.join(AGENTS_DIR, "mysql-py"),
            params,
            env={"HA_RSCTMP": os.path.join(base, "rsc")},
        )
        try:
            assert result.returncode == 0, result.stdout + result.stderr
            assert "passed all tests" in result.stdout
            assert db.pid() is None
        finally:
            if db.pid():
                os.kill(db.pid() or 0, 9)
