"""pyha migrate on a running cluster: the classic group (VIP, file system on a shared
disk, MySQL) on the reference agents, clients committing through the VIP, switched to
pyha's agents and back. Nothing is stopped, started, promoted or demoted on any node,
the VIP never leaves its node, and every acknowledged commit is there.

Before that, two switches that must not happen, each leaving the cluster exactly as it
was: the VIP carries check_duplicate=true, which this node's reference IPaddr2 ignores
and IPaddr2-py acts on (refused without --force); and MySQL's pid file is planted to
name a foreign process, which the reference's probe takes for its server and
mysql-py's does not (the probe disagrees: the old agents are put back). pyha check
then finds each misconfiguration planted into a copy of this live CIB. Last, the
guide's by-hand procedures (docs/MIGRATING.md), run line by line: crmsh to pyha, pcs
back, nothing restarted either."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest

from lab import migrating
from lab.scenario import SharedStack
from tests.lab import need_lab, planted_checks

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def reference_stack() -> Iterator[SharedStack]:
    need_lab("losetup", "mkfs.ext4", "mariadbd", "mariadb-install-db")
    with SharedStack("reference") as s:
        s.ip_params = "check_duplicate=true"
        s.prepare()
        s.configure()
        yield s


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
    assert planted_checks(lab, holder, pyha, cib, APPLY) == len(APPLY)
    # A dry run plans the three, shows the difference and changes nothing (1: one of
    # them needs --force).
    rc, out, err = lab._exec(holder, [pyha, "migrate", "--to", "pyha", "--dry-run"], None, 60)
    assert rc == 1 and all(f"{p} " in out for p in ("p_ip", "p_fs", "p_mysql")), out + err
    assert "p_ip: check_duplicate: IPaddr2 on this node ignores check_duplicate" in out, out
    assert providers(stack, holder) == {"heartbeat"}
    writer = stack.writer()
    since = time.time()
    as_it_was = resources(stack, holder)
    # Refused: nothing held, nothing changed.
    rc, out, err = lab._exec(holder, [pyha, "migrate", "--to", "pyha"], None, 60)
    assert rc == 1 and "p_ip: differs: IPaddr2 on this node ignores" in err, out + err
    assert "nothing was changed" in err and resources(stack, holder) == as_it_was
    # The probe disagrees: the old agents back, managed, the same configuration.
    mysqld = lab.sh(holder, ["cat", PID]).strip()
    foreign = os.path.join(lab.dir, "foreign.pid")
    stack.ns.spawn(holder, ["sh", "-c", f"echo $$ > {foreign}.new; exec sleep 600"], foreign)
    deadline = time.monotonic() + 10
    while not os.path.exists(foreign + ".new"):
        assert time.monotonic() < deadline, "the foreign process did not start"
        time.sleep(0.1)
    time.sleep(0.2)
    lab.sh(holder, ["sh", "-c", f"cat {foreign}.new > {PID}"])
    at = time.monotonic()
    argv = [pyha, "migrate", "--to", "pyha", "--force", "--timeout", "10"]
    rc, out, err = lab._exec(holder, argv, None, 120)
    refused_in = time.monotonic() - at
    lab.sh(holder, ["sh", "-c", f"echo {mysqld} > {PID}"])
    assert rc == 1 and "the new agents report" in err, out + err
    assert "p_mysql" in err and "restoring the saved configuration" in out, out + err
    assert resources(stack, holder) == as_it_was
    lab.wait_for("p_mysql", on=holder, timeout=30)
    lab.sh(holder, ["crm_resource", "--refresh", "--resource", "p_mysql"])
    timings = {}
    for to, provider in (("pyha", "pyha"), ("reference", "heartbeat")):
        at = time.monotonic()
        rc, out, err = lab._exec(holder, [pyha, "migrate", "--to", to, "--force"], None, 300)
        timings[to] = time.monotonic() - at
        print(out, err)
        assert rc == 0, out + err
        assert providers(stack, holder) == {provider}
        assert lab.where("p_ip") == [holder] and lab.where("p_mysql") == [holder]
        time.sleep(3)
    # docs/MIGRATING.md by hand, as written: with crmsh to pyha (p_ip), then with pcs
    # the way back, under the same writes.
    ids = ["p_ip", "p_fs", "p_mysql"]
    heartbeat, ours = ("heartbeat", "IPaddr2"), ("pyha", "IPaddr2-py")
    by_hand = {}
    for index, (old, new) in enumerate(((heartbeat, ours), (ours, heartbeat))):
        at = time.monotonic()
        steps = migrating.procedure(index)
        migrating.by_hand(lab, holder, steps, "p_ip", old, new, lab.dir, ids)
        by_hand[("crmsh", "pcs")[index]] = time.monotonic() - at
        assert migrating.providers(lab, holder, ["p_ip"]) == {new[0]}
        assert 'name="is-managed" value="false"' not in resources(stack, holder)
        assert lab.where("p_ip") == [holder] and lab.where("p_mysql") == [holder]
    acked = writer.stop()
    assert stack.check_commits(acked) == []
    assert migrating.operated_since(lab, ["p_ip", "p_fs", "p_mysql"], since) == []
    assert stack.wait_healthy(30) == []
    print(f"pyha check {checked:.2f} s: {report.strip()}")
    print(
        f"migrate to pyha {timings['pyha']:.1f} s, back {timings['reference']:.1f} s; "
        f"{len(acked)} commits acknowledged, none lost; a disagreeing probe refused and "
        f"the old agents back in {refused_in:.1f} s; by hand (docs/MIGRATING.md) with "
        f"crmsh {by_hand['crmsh']:.1f} s, back with pcs {by_hand['pcs']:.1f} s"
    )


PID = "/run/mysqld/mysqld.pid"


def resources(stack: SharedStack, node: str) -> str:
    """The resources section as the CIB holds it (ids, agents, parameters, meta)."""
    return stack.lab.sh(node, ["cibadmin", "--query", "--scope", "resources"])


# The planted misconfigurations that apply to a group without DRBD on two nodes.
APPLY = ("no_fencing", "no_fence_device", "mysql_before_its_file_system")
