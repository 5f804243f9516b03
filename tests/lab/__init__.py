"""Tests of the agents in real lab clusters (lab/)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    --cib` on a live node (node and the others share the plants, side by side: a check
    costs seconds in a UML guest): exactly its finding, with a fix, exit status 1.
    How many."""
    import json
    import xml.etree.ElementTree as ET
    from concurrent.futures import ThreadPoolExecutor

    from tests.unit import test_admin_check as T

    plants = [p for p in T.PLANTED if p[1].__name__ in names]
    assert sorted(p[1].__name__ for p in plants) == sorted(names)
    nodes = [node, *(n for n in lab.live_nodes() if n != node)]

    def check(on: str, plant: Callable[[ET.Element], None]) -> tuple[int, str, str]:
        root = ET.fromstring(cib)  # noqa: S314 - the lab's CIB
        plant(root)
        path = f"/tmp/pyha-planted-{plant.__name__}.xml"  # the node's own /tmp
        text = ET.tostring(root, encoding="unicode")
        script = 'cat > "$1" && exec "$2" check --cib "$1" --json'
        return lab._exec(on, ["sh", "-c", script, "sh", path, command], text, 60)

    def share(on: str) -> list[tuple[int, str, str]]:
        mine = plants[nodes.index(on) :: len(nodes)]
        return [check(on, plant) for _, plant, _, _, _ in mine]

    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        answers = dict(zip(nodes, pool.map(share, nodes)))
    for i, (_, plant, severity, where, words) in enumerate(plants):
        rc, out, err = answers[nodes[i % len(nodes)]][i // len(nodes)]
        assert rc == 1, (plant.__name__, out, err)
        found = json.loads(out)
        assert [(f["severity"], f["where"]) for f in found] == [(severity, where)], found
        assert words in found[0]["finding"] and found[0]["fix"], found
    return len(plants)
