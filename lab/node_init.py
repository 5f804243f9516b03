#!/usr/bin/python3
"""PID 1 of a lab node: private /run, /tmp, /dev/shm and per-node cluster state,
then corosync and pacemakerd; reaps every child; shuts the stack down on SIGTERM.

Started by lab.cluster inside `unshare --net --mount --uts --ipc --pid --fork
--mount-proc --propagation private`, so every mount here is private to the
node and disappears with it. argv: NODE_NAME LAB_DIR [ROOT]

With ROOT (another Debian release's root tree, lab/roots.py), the node runs from it:
an overlay whose lower layer is ROOT and whose upper layer is the node's own (the
cached root is never written, and a node powered on again finds what it left), with
the machine's /dev, a fresh /proc and the lab directory at its own path; then this
script runs again, chrooted, under that root's python3, and everything below (the
cluster stack, the agents, crm) is that release's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

NAME, LAB = sys.argv[1], sys.argv[2]
NODE = os.path.join(LAB, NAME)
ENV = {
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
    "PCMK_logfacility": "none",
    "PCMK_logfile": "/var/log/pacemaker/pacemaker.log",
    "HOME": "/root",
    "LC_ALL": "C",
}


def sh(*argv: str) -> None:
    subprocess.run(argv, check=True, env=ENV)


def log(text: str) -> None:
    with open(os.path.join(NODE, "init.log"), "a") as f:
        f.write(f"{time.strftime('%H:%M:%S')} {text}\n")


def setup() -> None:
    sh("hostname", NAME)
    sh("mount", "-t", "sysfs", "sysfs", "/sys")
    sh("mount", "-t", "tmpfs", "-o", "mode=755", "pyha-run", "/run")
    for path, mode in (
        ("/run/lock", 0o1777),
        ("/run/resource-agents", 0o1755),
        ("/run/fence", 0o755),
        ("/run/crm", 0o750),
    ):
        os.makedirs(path, exist_ok=True)
        os.chmod(path, mode)
    os.symlink("/dev/shm", "/run/shm")
    sh("mount", "-t", "tmpfs", "-o", "mode=1777", "pyha-shm", "/dev/shm")
    sh("mount", "--bind", os.path.join(LAB, "fence"), "/run/fence")
    for target in (
        "etc/corosync",
        "var/lib/pacemaker",
        "var/lib/corosync",
        "var/log/pacemaker",
        "var/log/corosync",
    ):
        sh("mount", "--bind", os.path.join(NODE, target), "/" + target)
    if os.path.isdir("/var/lib/heartbeat"):  # resource-agents' HA_VARLIB (trace_ra)
        sh("mount", "--bind", os.path.join(NODE, "var/lib/heartbeat"), "/var/lib/heartbeat")
    sh("mount", "--bind", os.path.join(LAB, "hosts"), "/etc/hosts")
    if os.path.isdir(os.path.join(NODE, "var/lib/mysql")):  # a node's own database (Galera)
        sh("mount", "--bind", os.path.join(NODE, "var/lib/mysql"), "/var/lib/mysql")
    staging = os.path.join(LAB, "resource.d")
    for provider in os.listdir(staging):  # the machine's providers, beside the lab's pyha
        original = os.path.join("/usr/lib/ocf/resource.d", provider)
        if provider != "pyha" and os.path.isdir(original):
            sh("mount", "--bind", original, os.path.join(staging, provider))
    sh("mount", "--rbind", staging, "/usr/lib/ocf/resource.d")
    sh("mount", "-t", "tmpfs", "-o", "mode=1777", "pyha-tmp", "/tmp")
    sh("mount", "-t", "tmpfs", "-o", "mode=755", "pyha-srv", "/srv")  # mount points live here
    sh("ip", "link", "set", "lo", "up")


def enter_root(root: str) -> None:
    """Chroot into an overlay of root (see the module docstring); never returns."""
    merged, upper, work = (os.path.join(NODE, d) for d in ("rootfs", "rootfs-up", "rootfs-work"))
    for path in (merged, upper, work):
        os.makedirs(path, exist_ok=True)
    options = f"lowerdir={root},upperdir={upper},workdir={work}"
    sh("mount", "-t", "overlay", "-o", options, "pyha-node-root", merged)
    sh("mount", "--rbind", "/dev", merged + "/dev")
    sh("mount", "-t", "proc", "proc", merged + "/proc")
    inside = merged + LAB
    os.makedirs(inside, exist_ok=True)
    sh("mount", "--bind", LAB, inside)
    os.chroot(merged)
    os.chdir("/")
    again = ["python3", "-I", os.path.join(LAB, "node_init.py"), NAME, LAB]
    os.execv("/usr/bin/python3", again)  # noqa: S606 - the root's python3, a fixed argv


def wait_for(argv: list[str], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if subprocess.run(argv, env=ENV, capture_output=True, check=False).returncode == 0:
            return True
        time.sleep(0.1)
    return False


def main() -> None:
    if len(sys.argv) > 3:
        enter_root(sys.argv[3])
    setup()
    # The host moves eth0 into this namespace and then writes "net-ready".
    while not os.path.exists(os.path.join(NODE, "net-ready")):
        time.sleep(0.02)
    out = open(os.path.join(NODE, "daemons.log"), "ab")  # noqa: SIM115 - lives as long as PID 1
    subprocess.Popen(["corosync", "-f"], env=ENV, stdout=out, stderr=out)
    if not wait_for(["corosync-cfgtool", "-s"], 20):
        log("corosync did not come up")
    subprocess.Popen(["pacemakerd"], env=ENV, stdout=out, stderr=out)
    log("pacemakerd started")
    stopping = False

    def shutdown(signum: int, frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        log("shutting down")
        subprocess.run(
            ["pacemakerd", "--shutdown"], env=ENV, capture_output=True, check=False, timeout=60
        )
        subprocess.run(
            ["corosync-cfgtool", "-H", "--force"],
            env=ENV,
            capture_output=True,
            check=False,
            timeout=30,
        )
        sys.exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    while True:  # PID 1 reaps every orphan
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            time.sleep(0.2)


if __name__ == "__main__":
    main()
