"""The import budget: what each agent's monitor imports (the import graph's cycles and
layers: tests/unit/test_import_graph.py).

Agents run every few seconds on every node: a monitor must not pay for modules it does
not need (enum, typing, subprocess, json, re, shlex, signal cost 5-17 ms each here).
Each agent's monitor runs on a real resource (in namespaces this test creates) under
`python3 -X importtime`, and every module it imports must be on the agreed list.
"""

from __future__ import annotations

import functools
import os
import subprocess

import pytest

from tests.conftest import AGENTS_DIR, need

pytestmark = pytest.mark.integration

# The standard library modules a monitor may import (besides ocflib's own and the C
# modules behind them, _socket, _sha1 ...): the interpreter's start-up set, the runner's
# select, math, and pwd for mysql-py's server user. Exactly what the monitors import
# today: a new one must be added here on purpose.
ALLOWED = {
    "marshal",
    "posix",
    "time",
    "zipimport",
    "codecs",
    "abc",
    "io",
    "stat",
    "genericpath",
    "posixpath",
    "os",
    "select",
    "math",
    "pwd",
}
NEVER = {"enum", "typing", "subprocess", "json", "re", "shlex", "signal", "psutil", "pymysql"}


def imported(argv: list[str], env: dict[str, str], wrap: list[str] | None = None) -> set[str]:
    """The modules a run of argv imports (python3 -X importtime)."""
    cmd = [*(wrap or []), "/usr/bin/python3", "-X", "importtime", "-IS", *argv]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                names.add(name)
    assert names, result.stderr
    return names


@functools.lru_cache(maxsize=1)
def underneath() -> frozenset[str]:
    """What the allowed modules themselves import on this Python (3.13 brings errno in
    with them): the budget is about what pyha chooses to import."""
    return frozenset(imported(["-c", "import " + ", ".join(sorted(ALLOWED))], {}))


def outside_budget(names: set[str]) -> set[str]:
    return {
        n
        for n in names
        if not n.startswith(("ocflib", "encodings", "_")) and n not in ALLOWED | underneath()
    }


def ocf(**params: str) -> dict[str, str]:
    env = {
        "OCF_ROOT": "/usr/lib/ocf",
        "OCF_RESOURCE_INSTANCE": "r",
        "OCF_RESKEY_CRM_meta_interval": "10000",
        "OCF_RESKEY_CRM_meta_timeout": "20000",
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    }
    env.update({f"OCF_RESKEY_{k}": v for k, v in params.items()})
    return env


def check(names: set[str]) -> None:
    assert not names & NEVER, sorted(names & NEVER)
    assert outside_budget(names) == set(), sorted(outside_budget(names))


def test_ipaddr2_monitor_of_a_configured_address() -> None:
    need("unshare", "ip", root=True)
    agent = os.path.join(AGENTS_DIR, "IPaddr2-py")
    setup = (
        "ip link set lo up && ip link add v0 type veth peer name v1 && "
        "ip addr add 192.0.2.1/24 dev v0 && ip addr add 192.0.2.50/24 dev v0 && "
        'ip link set v1 up && ip link set v0 up && exec "$@"'
    )
    names = imported(
        [agent, "monitor"], ocf(ip="192.0.2.50"), wrap=["unshare", "--net", "sh", "-c", setup, "sh"]
    )
    assert "ocflib.agents.ipaddr2" in names and "ocflib.run" in names  # it ran ip
    check(names)


def test_filesystem_monitor_of_a_mounted_file_system(tmp_path: object) -> None:
    need("unshare", "mount", root=True)
    agent = os.path.join(AGENTS_DIR, "Filesystem-py")
    directory = os.path.join(str(tmp_path), "m")
    os.mkdir(directory)
    setup = f'mount -t tmpfs pyha-budget {directory} && exec "$@"'
    names = imported(
        [agent, "monitor"],
        ocf(device="pyha-budget", directory=directory, fstype="tmpfs"),
        wrap=["unshare", "--mount", "--propagation", "private", "sh", "-c", setup, "sh"],
    )
    assert "ocflib.mounts" in names
    check(names)


def test_mysql_monitor_of_a_running_server() -> None:
    from tests.integration.test_mysql_real import Server, agent

    need("mariadbd", "mariadb-install-db", "runuser", root=True)
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="pyha-budget-", dir="/var/tmp") as base:
        shutil.chown(base, "mysql", "mysql")
        db = Server(base, "a")
        params = db.params()
        assert agent("start", params).returncode == 0
        try:
            names = imported([os.path.join(AGENTS_DIR, "mysql-py"), "monitor"], ocf(**params))
        finally:
            agent("stop", params)
    assert "ocflib.mysqlwire" in names  # it logged in
    check(names)


def test_galera_monitor_of_a_promoted_member() -> None:
    from tests.integration.test_galera_real import galera_nodes

    with galera_nodes(1) as (node,):
        node.start("--wsrep-new-cluster")
        names = imported([os.path.join(AGENTS_DIR, "galera-py"), "monitor"], node.monitor_env())
    assert "ocflib.galerastate" in names and "ocflib.mysqlwire" in names  # it read the status
    check(names)


def test_drbd_monitor() -> None:
    """No DRBD module on the test machine: the monitor's early path (the real one is
    timed in a UML guest by make bench)."""
    names = imported(
        [os.path.join(AGENTS_DIR, "drbd-py"), "monitor"],
        ocf(
            drbd_resource="r0",
            CRM_meta_notify="true",
            CRM_meta_clone_max="2",
            CRM_meta_promotable="true",
        ),
    )
    assert "ocflib.agents.drbd" in names
    check(names)
