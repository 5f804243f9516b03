"""Other Debian releases as root trees, to run pyha's tests and agents on their Python,
Pacemaker, resource-agents and MariaDB while sharing this machine's kernel.

`debootstrap` builds each root from Debian's archive (the address this machine's apt
uses, read at run time); the root is cached under /var/cache/pyha/roots/<release> with a
stamp naming what was installed, so later runs on the same machine reuse it. Nothing in
a root is started by package scripts (a policy-rc.d refuses it).

`run_in_root` runs a command inside a root: a private mount and PID namespace (and an
empty network namespace unless asked), the root bind-mounted onto itself with a fresh
/proc, the machine's /sys and /dev, tmpfs on /run, /tmp and /dev/shm, and pyha's release
tarball unpacked at /opt/pyha-src (a tmpfs of its own: tests mount their own /tmp). A run
never writes to the checkout; the tests it runs make their own directories (data
directories, mount points) under the tmpfs, so the cached root stays as built.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lab.ops import LabError

CACHE = os.environ.get("PYHA_ROOTS", "/var/cache/pyha/roots")
ROOT_OF_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Programs the agents and tests use, in every root.
COMMON = (
    "python3",
    "python3-venv",
    "python3-pymysql",
    "iproute2",
    "iputils-arping",
    "procps",
    "psmisc",
    "util-linux",
    "mount",
    "e2fsprogs",
    "xfsprogs",
    "kmod",
    "lsof",
    "libxml2-utils",
    "resource-agents",
    "pacemaker",
    "pacemaker-cli-utils",
    "corosync",
    "crmsh",
    "pcs",
    "mariadb-server",
    "mariadb-client",
    "rsync",
    "drbd-utils",
    "make",
    "tar",
    "gzip",
)


@dataclass(frozen=True)
class Release:
    """A Debian release and the test tools its Python can run."""

    name: str
    number: str
    python: str
    pytest: str
    hypothesis: str
    # The test tiers `make matrix` runs there (what passes today; docs/platforms.md's
    # "Supported platforms" table says what is left out and why).
    tiers: tuple[str, ...] = ("tests/unit", "tests/property", "tests/contract", "tests/integration")
    extra: tuple[str, ...] = ()
    # Lab tests run on this machine against a cluster whose nodes run from the root
    # (lab.cluster.NamespaceCluster with PYHA_LAB_RELEASE set): that release's Pacemaker,
    # Corosync, crmsh, resource-agents and MariaDB, pyha under its python3.
    cluster: tuple[str, ...] = ()

    @property
    def packages(self) -> tuple[str, ...]:
        return (*COMMON, *self.extra)


RELEASES = {
    # Python 3.9 (RHEL 9's language level), Pacemaker 2.0.5: pytest 8.3 is the last
    # pytest that runs there; pip picks the newest hypothesis that supports 3.9.
    "bullseye": Release(
        "bullseye",
        "11",
        "3.9",
        "pytest==8.3.5",
        "hypothesis<6.171",
        # fence-agents for fence_dummy: the lab cluster's fencing.
        extra=("iputils-ping", "fence-agents"),
        # pyha migrate and pyha check on Pacemaker 2.0.
        cluster=("tests/lab/test_lab_migrate.py",),
    ),
    # Python 3.13, Pacemaker 3.0: also a cluster of its own (fence_dummy is packaged
    # apart there).
    "trixie": Release(
        "trixie",
        "13",
        "3.13",
        "pytest==9.2.0",
        "hypothesis==6.170.17",
        extra=("fence-agents-dummy",),
        cluster=(
            "tests/lab/test_lab_mysql.py",
            "tests/lab/test_lab_ipaddr2.py",
            "tests/lab/test_lab_filesystem.py",
            # Galera on Pacemaker 3.0 and MariaDB 11.8: a cold start, a full outage, a
            # refresh during the bootstrap (the election and the bootstrap under 3.0).
            "tests/lab/test_lab_galera.py::test_1_cold_start_all_promoted",
            "tests/lab/test_lab_galera.py::test_3_full_hard_outage_restarts_by_itself",
            "tests/lab/test_lab_galera.py::test_9_refresh_during_a_bootstrap_bootstraps_once",
        ),
    ),
}


def mirror() -> str:
    """The Debian archive this machine's apt uses (never written into the project)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            text = f.read()
        for stanza in text.split("\n\n"):
            fields = dict(
                line.split(":", 1)
                for line in stanza.splitlines()
                if ":" in line and not line.startswith("#")
            )
            uris = fields.get("URIs", "").split()
            suites = fields.get("Suites", "").split()
            if (
                uris
                and any("-" not in s for s in suites)
                and uris[0].rstrip("/").endswith("/debian")
            ):
                return uris[0].rstrip("/")
    if os.path.exists("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list") as f:
            for line in f:
                words = line.split()
                if (
                    len(words) >= 3
                    and words[0] == "deb"
                    and words[1].rstrip("/").endswith("/debian")
                ):
                    return words[1].rstrip("/")
    raise LabError("no Debian archive found in /etc/apt sources")


# Raised when what ensure() writes into a root changes: cached roots are rebuilt.
LAYOUT = 2


def _stamp(release: Release) -> str:
    digest = hashlib.sha256(
        "\n".join([*release.packages, release.pytest, release.hypothesis, str(LAYOUT)]).encode()
    ).hexdigest()[:12]
    return f".pyha-root-{digest}"


def SRC(root: str) -> str:  # noqa: N802 - a path, read like a constant
    """Where a run sees pyha's source inside root."""
    return f"{root}/opt/pyha-src"


def root_path(name: str) -> str:
    return os.path.join(CACHE, name)


def ensure(name: str, log: Mapping[str, str] | None = None) -> str:
    """The root of release name, built (minutes) unless the cached one is current."""
    release = RELEASES[name]
    root = root_path(name)
    if os.path.exists(os.path.join(root, _stamp(release))):
        return root
    if shutil.which("debootstrap") is None:
        raise LabError("debootstrap is not installed (apt-get install debootstrap)")
    building = root + ".building"
    shutil.rmtree(building, ignore_errors=True)
    os.makedirs(os.path.dirname(root), exist_ok=True)
    _run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,ca-certificates",
            release.name,
            building,
            mirror(),
        ]
    )
    # This machine's trust: local CA certificates (a proxy's, for example) and pip's
    # certificate setting, so pip inside the root reaches the package index as the
    # machine's own pip does.
    local_cas = sorted(glob.glob("/usr/local/share/ca-certificates/*.crt"))
    for cert in local_cas:
        shutil.copy(cert, os.path.join(building, "usr/local/share/ca-certificates"))
    with open(os.path.join(building, "etc/pip.conf"), "w") as f:
        f.write("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
    # debootstrap leaves /etc/hosts out; MariaDB 10.5's installer refuses to run where
    # neither the host name nor localhost resolves.
    hosts = os.path.join(building, "etc/hosts")
    if not os.path.exists(hosts):
        with open(hosts, "w") as f:
            f.write("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    policy = os.path.join(building, "usr/sbin/policy-rc.d")
    with open(policy, "w") as f:
        f.write("#!/bin/sh\nexit 101\n")
    os.chmod(policy, 0o755)  # noqa: S103 - an executable script root runs
    packages = " ".join(release.packages)
    script = textwrap.dedent(f"""
        set -e
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends {packages} >/dev/null
        update-ca-certificates >/dev/null
        python3 -m venv --system-site-packages /opt/pyha-venv
        /opt/pyha-venv/bin/pip install -q --disable-pip-version-check \\
            '{release.pytest}' '{release.hypothesis}'
        apt-get clean
    """)
    result = run_in_root(building, ["sh", "-c", script], network=True, timeout=3600)
    if result.returncode != 0:
        output = result.stdout[-3000:] + result.stderr[-3000:]
        raise LabError(f"{name}: installing into the root failed:\n{output}")
    os.makedirs(os.path.join(building, "src"), exist_ok=True)
    shutil.rmtree(root, ignore_errors=True)
    os.rename(building, root)
    with open(os.path.join(root, _stamp(release)), "w") as f:
        f.write(f"{release.name}: {packages}\n")
    return root


def run_in_root(
    root: str,
    argv: Sequence[str],
    *,
    network: bool = False,
    timeout: float = 1800,
    tarball: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """argv inside root (see the module's docstring); tarball, if given, is unpacked at
    /opt/pyha-src, the working directory. network: keep the machine's network namespace
    (building a root needs the archive); otherwise the command gets its own, empty one."""
    environment = {
        "PATH": "/opt/pyha-venv/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": "/root",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    inner = 'cd /opt/pyha-src 2>/dev/null || cd /; exec "$@"'
    exports = "".join(f'export {k}="{v}"; ' for k, v in environment.items())
    unpack = (
        f"mkdir -p {SRC(root)} && mount -t tmpfs -o mode=755 pyha-src {SRC(root)} && "
        f"tar -xzf {tarball} -C {SRC(root)} --strip-components=1\n"
        if tarball
        else ""
    )
    script = (
        textwrap.dedent(f"""
        set -e
        mount --bind {root} {root}
        mount -t proc proc {root}/proc
        mount --rbind /sys {root}/sys
        mount --rbind /dev {root}/dev
        mount -t tmpfs -o mode=1777 pyha-tmp {root}/tmp
        mount -t tmpfs -o mode=1777 pyha-vartmp {root}/var/tmp
        mount -t tmpfs -o mode=755 pyha-run {root}/run
        mkdir -p {root}/run/lock {root}/run/resource-agents {root}/run/mysqld
        mount -t tmpfs -o mode=1777 pyha-shm {root}/dev/shm
        """)
        + unpack
        + ("" if network else "ip link set lo up\n")
        # The shell stays PID 1 of the namespace and reaps orphans: a test that kills a
        # process group must not see zombies re-parented to itself.
        + f"chroot {root} /bin/sh -c '{exports}{inner}' sh \"$@\"\n"
    )
    namespaces = ["--mount", "--pid", "--fork", "--propagation", "private", "--uts", "--ipc"]
    if not network:
        namespaces.append("--net")
    return subprocess.run(
        ["unshare", *namespaces, "sh", "-c", script, "sh", *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def ids_in(root: str, user: str, group: str) -> tuple[int, int]:
    """user's uid and group's gid as root's own /etc/passwd and /etc/group number them."""

    def lookup(path: str, name: str) -> int:
        with open(os.path.join(root, path)) as f:
            for line in f:
                fields = line.split(":")
                if fields[0] == name and len(fields) > 2:
                    return int(fields[2])
        raise LabError(f"{name} is not in {root}/{path}")

    return lookup("etc/passwd", user), lookup("etc/group", group)


def _run(argv: Sequence[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LabError(f"{' '.join(argv)}: {result.stderr[-3000:] or result.stdout[-3000:]}")
