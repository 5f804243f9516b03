"""Tests of the agents in real lab clusters (lab/)."""

from tests.conftest import need

# What every namespace lab cluster needs: the cluster stack, fencing, namespaces.
CLUSTER_TOOLS = ("corosync", "pacemakerd", "crm", "fence_dummy", "nsenter", "unshare")


def need_lab(*extra: str) -> None:
    """Skip (fail in CI) unless the namespace lab and the extra tools are here."""
    need(*CLUSTER_TOOLS, *extra, root=True)
