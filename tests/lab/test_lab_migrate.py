"""pyha migrate on a running cluster: the classic group (VIP, file system on a shared
disk, MySQL) on the reference agents, clients committing through the VIP, switched to
pyha's agents and back. Nothing is stopped, started, promoted or demoted on any node,
the VIP never leaves its node, and every acknowledged commit is there."""

from __future__ import annotations

import datetime
import os
import re
import time
from collections.abc import Iterator

import pytest

from lab.scenario import SharedStack
from tests.lab import need_lab

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OPERATED = re.compile(r"Result of (start|stop|promote|demote) operation for (p_ip|p_fs|p_mysql)")


@pytest.fixture
def reference_stack() -> Iterator[SharedStack]:
    need_lab("losetup", "mkfs.ext4", "mariadbd", "mariadb-install-db")
    with SharedStack("reference") as s:
        s.prepare()
        s.configure()
        yield s


def operated_since(stack: SharedStack, since: float) -> list[str]:
    """Every start/stop/promote/demote of the group's resources logged after since."""
    year = datetime.datetime.now().year
    found = []
    for name in stack.lab.live_nodes():
        for line in stack.lab.log(name, "pacemaker").splitlines():
            m = re.match(r"^(\w{3} \d+ \d\d:\d\d:\d\d\.\d+)", line)
            if not m or not OPERATED.search(line):
                continue
            when = datetime.datetime.strptime(f"{year} {m.group(1)}", "%Y %b %d %H:%M:%S.%f")
            if when.timestamp() >= since:  # the log's milliseconds, this host's clock
                found.append(line.strip())
    return found


def providers(stack: SharedStack, node: str) -> set[str]:
    out = stack.lab.sh(node, ["cibadmin", "--query", "--scope", "resources"])
    return {
        m.group(1) for m in re.finditer(r'<primitive id="p_\w+" class="ocf" provider="(\w+)"', out)
    }


def test_migrate_to_pyha_and_back_restarts_nothing(reference_stack: SharedStack) -> None:
    stack = reference_stack
    lab = stack.lab
    # pyha as the lab installed it (its directory is visible to the nodes; the checkout
    # may not be: a node has its own /tmp).
    pyha = os.path.join(lab.dir, "sbin", "pyha")
    holder = lab.wait_for("p_mysql")
    # The naive way (the agents' types changed in place) makes Pacemaker restart them:
    # crm_simulate plans it, and that is what the switch must avoid.
    from ocflib.admin import migrate as M

    cib = lab.sh(holder, ["cibadmin", "--query"])
    root_resources = M.switched(cib, M.plan(cib, "pyha").steps)
    start, end = cib.index("<resources>"), cib.index("</resources>") + len("</resources>")
    naive = cib[:start] + root_resources + cib[end:]
    rc, simulation, err = lab._exec(holder, ["crm_simulate", "--simulate", "--xml-pipe"], naive, 60)
    assert rc == 0, err
    assert M.planned_actions(simulation, ["p_ip", "p_fs", "p_mysql"]), simulation
    # pyha check on the lab's own, correct configuration: nothing to say, within 2 s.
    at = time.monotonic()
    rc, report, err = lab._exec(holder, [pyha, "check", "--json"], None, 60)
    checked = time.monotonic() - at
    assert rc == 0 and '"error"' not in report, report + err
    assert checked < 2.0, checked
    # the man page's file form; a dry run plans the three and changes nothing
    cib_file = "/var/lib/pacemaker/cib/cib.xml"
    rc, out, err = lab._exec(holder, [pyha, "check", "--cib", cib_file, "--json"], None, 60)
    assert rc == 0 and '"error"' not in out, out + err
    rc, out, err = lab._exec(holder, [pyha, "migrate", "--to", "pyha", "--dry-run"], None, 60)
    assert rc == 0 and all(f"{p} " in out for p in ("p_ip", "p_fs", "p_mysql")), out + err
    assert providers(stack, holder) == {"heartbeat"}
    writer = stack.writer()
    since = time.time()
    timings = {}
    for to, provider in (("pyha", "pyha"), ("reference", "heartbeat")):
        at = time.monotonic()
        rc, out, err = lab._exec(holder, [pyha, "migrate", "--to", to], None, 300)
        timings[to] = time.monotonic() - at
        print(out, err)
        assert rc == 0, out + err
        assert providers(stack, holder) == {provider}
        assert lab.where("p_ip") == [holder] and lab.where("p_mysql") == [holder]
        time.sleep(3)
    acked = writer.stop()
    assert stack.check_commits(acked) == []
    assert operated_since(stack, since) == []
    assert stack.wait_healthy(30) == []
    print(f"pyha check {checked:.2f} s: {report.strip()}")
    print(
        f"migrate to pyha {timings['pyha']:.1f} s, back {timings['reference']:.1f} s; "
        f"{len(acked)} commits acknowledged, none lost"
    )
