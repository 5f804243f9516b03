"""Scratch CIB files for the tests, the benchmarks and the guests' seeds: the one
place that makes one (cibadmin --empty, nodes online, cluster properties)."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence

__all__ = ["seed_cib", "cib_text", "cib_text_in_root"]


def seed_cib(
    path: str, *, nodes: Sequence[str] = (), properties: Mapping[str, str] | None = None
) -> str:
    """Write a fresh CIB to path: each of nodes a member and online (ids 1, 2, ...),
    each cluster property set. Returns path."""
    env = {**os.environ, "CIB_file": path}
    with open(path, "w") as f:
        subprocess.run(["cibadmin", "--empty"], stdout=f, check=True)
    for i, name in enumerate(nodes, 1):
        subprocess.run(
            ["cibadmin", "--create", "-o", "nodes", "-X", f'<node id="{i}" uname="{name}"/>'],
            env=env,
            check=True,
        )
        state = (
            f'<node_state id="{i}" uname="{name}" in_ccm="true" crmd="online" '
            'join="member" expected="member"/>'
        )
        subprocess.run(["cibadmin", "--create", "-o", "status", "-X", state], env=env, check=True)
    for name, value in (properties or {}).items():
        subprocess.run(
            ["crm_attribute", "--type", "crm_config", "--name", name, "--update", value],
            env=env,
            check=True,
            capture_output=True,
        )
    return path


def cib_text(*, nodes: Sequence[str] = (), properties: Mapping[str, str] | None = None) -> str:
    """The text of such a CIB (to copy into a guest)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = seed_cib(os.path.join(tmp, "cib.xml"), nodes=nodes, properties=properties)
        with open(path) as f:
            return f.read()


def cib_text_in_root(
    root: str, *, properties: Mapping[str, str] | None = None, timeout: float = 60
) -> str | None:
    """The text of an empty CIB made by the Pacemaker of another release's root tree
    (its schema version: Pacemaker 2.0 refuses a CIB that 2.1 writes), with the
    cluster properties set; None when that fails."""
    from lab import roots

    commands = ["cibadmin --empty > /tmp/seed.xml"]
    commands += [
        f"CIB_file=/tmp/seed.xml crm_attribute --type crm_config --name {shlex.quote(name)} "
        f"--update {shlex.quote(value)}"
        for name, value in (properties or {}).items()
    ]
    script = " && ".join([*commands, "cat /tmp/seed.xml"])
    made = roots.run_in_root(root, ["sh", "-c", script], timeout=timeout)
    return made.stdout if made.returncode == 0 and "<cib" in made.stdout else None
