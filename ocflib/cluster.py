"""Cluster helpers over Pacemaker's command-line tools, through a Runner."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ocflib.env import OcfEnv
    from ocflib.pacemaker import ClusterView
    from ocflib.seams import Runner

__all__ = [
    "promotion_uses_crm_attribute",
    "set_promotion_score",
    "get_promotion_score",
    "delete_promotion_score",
    "local_node_name",
    "set_node_attribute",
    "get_node_attribute",
    "delete_node_attribute",
    "set_cluster_property",
    "get_cluster_property",
    "cluster_view",
    "promoted_nodes",
]


def _promotion_tool(env: OcfEnv, runner: Runner) -> list[str]:
    from ocflib.pacemaker import promotion_command

    return promotion_command(
        env.crm_feature_set or "0", lambda: runner.which("crm_master") is not None
    )


def promotion_uses_crm_attribute(env: OcfEnv, runner: Runner) -> bool:
    """crm_attribute --promotion, or the deprecated crm_master (ocflib.pacemaker decides;
    crm_master is looked for only on a feature set older than 2.1's)."""
    return _promotion_tool(env, runner)[0] == "crm_attribute"


def _promotion_argv(
    env: OcfEnv, runner: Runner, args: list[str], node_name: str | None = None
) -> list[str]:
    # The node Pacemaker runs the action on, when it says: the tools' own guess
    # needs a running cluster (and is wrong for bundles). node_name: another node's.
    target = node_name or env.on_node
    node = ["-N", target] if target else []
    return [*_promotion_tool(env, runner), *node, *args]


def set_promotion_score(
    env: OcfEnv, runner: Runner, score: int, *, node: str | None = None
) -> None:
    """Set this resource's promotion score (transient, lifetime reboot) on this
    node, or on node."""
    runner.run(_promotion_argv(env, runner, ["-v", str(score)], node))


def delete_promotion_score(env: OcfEnv, runner: Runner, *, node: str | None = None) -> None:
    """Delete this resource's promotion score on this node (or node): never promote there."""
    runner.run(_promotion_argv(env, runner, ["-D"], node), ok=(0, 6, 105))


def get_promotion_score(env: OcfEnv, runner: Runner) -> int | None:
    """This instance's promotion score, or None when unset."""
    result = runner.run(_promotion_argv(env, runner, ["-G", "-q"]), ok=None)
    text = result.stdout.strip()
    if result.returncode != 0 or not text:
        return None
    if text.upper() in ("INFINITY", "+INFINITY"):
        return 1000000
    if text.upper() == "-INFINITY":
        return -1000000
    try:
        return int(text)
    except ValueError:
        return None


def local_node_name(env: OcfEnv, runner: Runner) -> str:
    """The cluster's name for this node (crm_node -n), falling back to the
    kernel host name like ocf_local_nodename."""
    if env.on_node:
        return env.on_node
    if runner.which("crm_node") is not None:
        result = runner.run(["crm_node", "-n"], ok=None, timeout=10)
        name = result.stdout.strip()
        if result.returncode == 0 and name:
            return name
    import os

    return os.uname().nodename


def set_node_attribute(
    runner: Runner, node: str, name: str, value: str, *, lifetime: str = "reboot"
) -> None:
    """A node attribute (transient with lifetime reboot)."""
    runner.run(["crm_attribute", "-N", node, "-l", lifetime, "-n", name, "-v", value])


def get_node_attribute(
    runner: Runner, node: str, name: str, *, lifetime: str = "reboot"
) -> str | None:
    """A node attribute's value, or None when unset."""
    result = runner.run(
        ["crm_attribute", "-N", node, "-l", lifetime, "-n", name, "-G", "-q"], ok=None
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip()


def delete_node_attribute(
    runner: Runner, node: str, name: str, *, lifetime: str = "reboot"
) -> None:
    """Remove a node attribute (succeeds when it is already absent)."""
    runner.run(["crm_attribute", "-N", node, "-l", lifetime, "-n", name, "-D"], ok=(0, 6, 105))


def _property_argv(name: str, set_id: str) -> list[str]:
    return ["crm_attribute", "--type", "crm_config", "--name", name, "-s", set_id]


def set_cluster_property(runner: Runner, name: str, value: str, *, set_id: str) -> None:
    """A cluster property in the crm_config set set_id."""
    runner.run([*_property_argv(name, set_id), "-v", value])


def get_cluster_property(runner: Runner, name: str, *, set_id: str) -> str | None:
    """A cluster property's value, or None when it cannot be read."""
    result = runner.run([*_property_argv(name, set_id), "--query", "-q"], ok=None)
    return result.stdout.strip() if result.returncode == 0 else None


def cluster_view(runner: Runner, resource: str) -> ClusterView:
    """One crm_mon snapshot (ocflib.pacemaker.parse_crm_mon) for resource."""
    from ocflib.pacemaker import parse_crm_mon

    result = runner.run(["crm_mon", "-1", "--output-as=xml"], ok=None)
    if result.returncode != 0:  # Pacemaker before 2.0.3
        result = runner.run(["crm_mon", "-1", "--as-xml"])
    return parse_crm_mon(result.stdout, resource)


def promoted_nodes(runner: Runner, resource: str, timeout: float) -> list[str]:
    """The nodes where Pacemaker has resource promoted (crm_resource --locate)."""
    from ocflib.pacemaker import parse_locate

    result = runner.run(
        ["crm_resource", "--resource", resource, "--locate"], ok=None, timeout=timeout
    )
    return parse_locate(result.stdout)
