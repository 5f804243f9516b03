"""Tests of the agents in real lab clusters (lab/)."""

from __future__ import annotations

from collections.abc import Sequence

from lab.ops import ClusterOps
from tests.conftest import need

# What every namespace lab cluster needs: the cluster stack, fencing, namespaces.
CLUSTER_TOOLS = ("corosync", "pacemakerd", "crm", "fence_dummy", "nsenter", "unshare")


def need_lab(*extra: str) -> None:
    """Skip (fail in CI) unless the namespace lab and the extra tools are here."""
    need(*CLUSTER_TOOLS, *extra, root=True)


def planted_checks(lab: ClusterOps, node: str, command: str, cib: str, names: Sequence[str]) -> int:
    """Each named misconfiguration of tests/unit/test_admin_check.py planted into a
    copy of this live CIB (with its status), checked by the installed `pyha check
    --cib` on node: exactly its finding, with a fix, exit status 1. How many."""
    import json
    import xml.etree.ElementTree as ET

    from tests.unit import test_admin_check as T

    plants = [p for p in T.PLANTED if p[1].__name__ in names]
    assert sorted(p[1].__name__ for p in plants) == sorted(names)
    for _, plant, severity, where, words in plants:
        root = ET.fromstring(cib)  # noqa: S314 - the lab's CIB
        plant(root)
        path = f"/tmp/pyha-planted-{plant.__name__}.xml"  # the node's own /tmp
        text = ET.tostring(root, encoding="unicode")
        assert lab._exec(node, ["sh", "-c", f"cat > {path}"], text, 30)[0] == 0
        rc, out, err = lab._exec(node, [command, "check", "--cib", path, "--json"], None, 60)
        found = json.loads(out)
        assert rc == 1, (plant.__name__, out, err)
        assert [(f["severity"], f["where"]) for f in found] == [(severity, where)], found
        assert words in found[0]["finding"] and found[0]["fix"], found
    return len(plants)
