"""`pyha check` on this node: what the CIB cannot show.

- a systemd unit enabled for a service Pacemaker manages (mariadb/mysql, drbd): systemd
  starts it at boot beside Pacemaker, which then finds the service already running, or
  two servers on one datadir;
- each pyha or reference resource's configuration validated at depth 10 here (the
  installation, interfaces and files, and pyha's stricter node checks), with the clone
  meta-attributes Pacemaker would pass;
- galera's promote timeout against the state transfer this node's datadir needs (the
  docs/agents.md's rule: 60 s + 2 x datadir size / 100 MB/s).

check_node is pure: what the node holds comes in through a NodeView (the command line
gives the real one, the unit tests a fake).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ocflib.admin.check import ERROR, WARNING, Cib, Clone, Finding, Primitive, _nvpairs, _seconds

__all__ = [
    "NodeView",
    "check_node",
    "clone_env",
    "enabled_units",
    "datadir_megabytes",
    "validate_env",
]

UNITS = {
    "mysql": ("mariadb.service", "mysql.service", "mysqld.service"),
    "galera": ("mariadb.service", "mysql.service", "mysqld.service"),
    "drbd": ("drbd.service",),
}
TRANSFER_MB_PER_S = 100.0  # rsync or mariabackup over 1 GbE
PACEMAKER_DEFAULT_TIMEOUT = 20.0


@dataclass
class NodeView:
    """What this node holds. enabled: systemd units enabled here; validate(agent, env)
    -> (exit code, reason) of the agent's validate-all; datadir_mb(path) -> size, or
    None when it cannot be read."""

    enabled: set[str] = field(default_factory=set)
    validate: Callable[[str, Mapping[str, str]], tuple[int, str]] | None = None
    datadir_mb: Callable[[str], float | None] = field(default=lambda path: None)


def check_node(xml_text: str, view: NodeView) -> list[Finding]:
    try:
        cib = Cib(xml_text)
    except Exception:  # noqa: BLE001 - check_cib reports an unreadable CIB already
        return []
    findings: list[Finding] = []
    kinds = {p.kind for p in cib.primitives.values()}
    reported = set()
    for kind in ("mysql", "galera", "drbd"):
        if kind not in kinds:
            continue
        for unit in UNITS[kind]:
            if unit in view.enabled and unit not in reported:
                reported.add(unit)
                findings.append(
                    Finding(
                        ERROR,
                        unit,
                        f"{unit} is enabled: systemd starts it at boot beside Pacemaker, "
                        "which manages that service",
                        f"systemctl disable {unit}",
                    )
                )
    for p in cib.primitives.values():
        if p.kind is None:
            continue
        clone = cib.clones.get(p.clone) if p.clone else None
        if view.validate is not None:
            rc, reason = view.validate(p.agent, validate_env(p, clone, len(cib.nodes)))
            if rc != 0:
                findings.append(
                    Finding(
                        ERROR,
                        p.id,
                        f"validate-all at depth 10 on this node returned {rc}"
                        + (f": {reason}" if reason else ""),
                        "correct the parameter, or install what the agent needs on this node",
                    )
                )
        if p.kind == "galera":
            findings += _promote_timeout(cib, p, view)
    return findings


def validate_env(p: Primitive, clone: Clone | None, nodes: int = 2) -> dict[str, str]:
    """The environment Pacemaker gives validate-all for p, at depth 10."""
    env = {f"OCF_RESKEY_{k}": v for k, v in p.params.items()}
    env["OCF_CHECK_LEVEL"] = "10"
    env["OCF_RESOURCE_INSTANCE"] = p.id
    env["OCF_RESOURCE_TYPE"] = p.agent.rsplit(":", 1)[-1]
    if clone is not None:
        env.update(clone_env(clone.meta, clone.legacy, nodes))
    return env


def clone_env(meta: Mapping[str, str], legacy: bool, nodes: int) -> dict[str, str]:
    """The clone's meta-attributes as Pacemaker passes them to an instance's agent
    (OCF_RESKEY_CRM_meta_*), with Pacemaker's defaults for those not set (clone-max:
    the number of nodes; one instance a node; one Promoted), under both the 2.x names
    (master_max) and the newer ones (promoted_max): the reference agents check them
    (ocf:linbit:drbd refuses a clone-max it cannot see)."""
    given = {k.replace("-", "_"): v for k, v in meta.items()}
    for old, new in (("master_max", "promoted_max"), ("master_node_max", "promoted_node_max")):
        value = given.get(new, given.get(old))
        if value is not None:
            given[old] = given[new] = value
    promotable = legacy or given.get("promotable", "").strip().lower() in ("true", "yes", "1", "on")
    defaults = {"clone_max": str(nodes), "clone_node_max": "1", "notify": "false"}
    if promotable:
        defaults.update(
            promoted_max="1", promoted_node_max="1", master_max="1", master_node_max="1"
        )
        defaults["promotable"] = "true"
    return {f"OCF_RESKEY_CRM_meta_{k}": v for k, v in {**defaults, **given}.items()}


def _promote_timeout(cib: Cib, p: Primitive, view: NodeView) -> list[Finding]:
    datadir = p.params.get("datadir", "/var/lib/mysql").strip() or "/var/lib/mysql"
    size = view.datadir_mb(datadir)
    if size is None:
        return []
    needed = 60 + 2 * size / TRANSFER_MB_PER_S
    timeout = next(
        (_seconds(op.get("timeout")) for op in p.ops if op.get("name") == "promote"), None
    )
    if timeout is None:
        defaults = _nvpairs(cib.root.find("configuration/op_defaults"), "meta_attributes")
        timeout = _seconds(defaults.get("timeout")) or PACEMAKER_DEFAULT_TIMEOUT
    if timeout >= needed:
        return []
    return [
        Finding(
            WARNING,
            p.id,
            f"promote timeout {timeout:.0f} s is below what a state transfer of this node's "
            f"{size:.0f} MB datadir needs (60 s + 2 x size / 100 MB/s = {needed:.0f} s)",
            f"op promote timeout={math.ceil(needed / 10) * 10}s (or more on a slower link)",
        )
    ]


def enabled_units(root: str = "/") -> set[str]:
    """The systemd units enabled on this node: the links in /etc/systemd/system's
    *.wants directories (what `systemctl enable` makes). Nothing when systemd does not
    run this system (no /run/systemd/system, sd_booted's test): then no unit starts."""
    base = os.path.join(root, "etc/systemd/system")
    found: set[str] = set()
    if not os.path.isdir(os.path.join(root, "run/systemd/system")):
        return found
    try:
        wants = [d for d in os.listdir(base) if d.endswith(".wants")]
    except OSError:
        return found
    for directory in wants:
        try:
            found.update(os.listdir(os.path.join(base, directory)))
        except OSError:
            continue
    return found


def datadir_megabytes(path: str, limit: int = 200_000) -> float | None:
    """The size of the files under path in MB (None: unreadable, or more than limit
    entries: a walk that long is not what a check should cost)."""
    total, seen = 0, 0
    stack = [path]
    try:
        while stack:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    seen += 1
                    if seen > limit:
                        return None
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    elif entry.is_file(follow_symlinks=False):
                        total += entry.stat(follow_symlinks=False).st_size
    except OSError:
        return None
    return total / 1e6
