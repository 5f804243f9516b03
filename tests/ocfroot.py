"""Run cluster tools (crm_resource, pcs) against installed pyha agents without
touching the machine's /usr/lib/ocf.

The tools look agents up only under the compiled-in /usr/lib/ocf/resource.d. Inside a
private mount namespace, a tmpfs takes that place, holding bind mounts of the machine's
own providers (heartbeat, pacemaker, ...) and of the given pyha provider directory; the
machine's file system is never written.
"""

from __future__ import annotations

import subprocess
import textwrap

RESOURCE_D = "/usr/lib/ocf/resource.d"


def run_with_provider(
    provider_dir: str, script: str, scratch: str
) -> subprocess.CompletedProcess[str]:
    """Run the shell script with provider_dir seen as RESOURCE_D/pyha.

    scratch: an empty directory the test owns (the mount points are made there).
    """
    setup = textwrap.dedent(f"""
        set -e
        mkdir -p {scratch}/keep {scratch}/view
        mount --rbind {RESOURCE_D} {scratch}/keep
        mount -t tmpfs pyha-test {scratch}/view
        for d in {scratch}/keep/*; do
            name=$(basename "$d")
            [ "$name" = pyha ] && continue
            mkdir {scratch}/view/"$name"
            mount --rbind "$d" {scratch}/view/"$name"
        done
        mkdir {scratch}/view/pyha
        mount --bind {provider_dir} {scratch}/view/pyha
        mount --rbind {scratch}/view {RESOURCE_D}
        set +e
    """)
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", setup + script],
        capture_output=True,
        text=True,
        check=False,
    )
