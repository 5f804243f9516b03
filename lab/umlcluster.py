"""A real Pacemaker/Corosync cluster of User-Mode-Linux guests (real DRBD).

The guests of lab.uml, each running corosync and pacemakerd, with the same
interface as the namespace cluster (lab.cluster): crm, configure, status,
where, wait_for, power_off, cut_link/restore_link, log, collect_logs, down.
Fencing really powers a guest off: fence_dummy writes "off" into the guest's
status file (a host directory mounted into every guest) and the lab SIGKILLs
that guest's host processes. Logs live in host directories mounted into the
guests, so a powered-off guest's logs can still be read.

Slow by nature: a process in a guest costs 25-300 ms, Pacemaker's tools
about 200 ms each, crmsh seconds; corosync's token stays at 3000 ms (1000 ms
makes membership flap in UML).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping, Sequence

from lab.cib import cib_text
from lab.cluster import corosync_conf
from lab.ops import ClusterOps, LabError
from lab.uml import Guest, UmlLab

PCMK_ENV = {"PCMK_logfile": "/var/log/pacemaker/pacemaker.log", "PCMK_logfacility": "none"}


def seed_cib(properties: Mapping[str, str]) -> str:
    """An empty CIB with cluster properties set (made on the host: fast)."""
    return cib_text(properties=properties)


class UmlCluster(UmlLab, ClusterOps):
    """Guests uml1..umlN running corosync + pacemaker (see the module docstring)."""

    def __init__(
        self,
        size: int = 2,
        *,
        token_ms: int = 3000,
        mem_mib: int = 1024,
        disk_mib: int = 256,
        files: Mapping[str, str] | None = None,
        keep: bool = False,
    ) -> None:
        super().__init__(size, disk_mib=disk_mib, mem_mib=mem_mib, files=files, keep=keep)
        self.token_ms = token_ms
        self.fence_dir = os.path.join(self.dir, "fence")
        self.fenced: list[tuple[str, float]] = []
        self.restarts: list[str] = []  # guests whose pacemakerd had to be started again

    # -- bring-up -----------------------------------------------------------------

    def _kernel_args(self, guest: Guest) -> list[str]:
        logs = os.path.join(self.dir, "logs", guest.name)
        mounts = [f"{self.fence_dir}:/run/fence"]
        for which in ("pacemaker", "corosync"):
            path = os.path.join(logs, which)
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)  # noqa: S103 - written by the guest's hacluster user
            mounts.append(f"{path}:/var/log/{which}")
        return ["pyha_hostfs=" + ",".join(mounts)]

    def up(self, timeout: float = 240) -> None:
        """Boot the guests, start corosync and pacemaker, wait until all are online."""
        conf = corosync_conf([(g.name, g.address) for g in self.guests], self.token_ms)
        self.files.setdefault("/etc/corosync/corosync.conf", conf)
        self.files.setdefault("/var/lib/pacemaker/cib/cib.xml", seed_cib({"dc-deadtime": "5s"}))
        self._init_fencing()
        super().up(timeout=60)
        for guest in self.guests:
            self.start_stack(guest.name)
        self.wait_stack(timeout)

    def wait_stack(self, timeout: float) -> None:
        """Until all live guests are online. In a slow guest pacemaker-controld
        can give up at start-up ("Could not connect to attrd", exit 100, and
        pacemakerd stays down): such a guest's pacemakerd is started again."""
        end = time.monotonic() + timeout
        while True:
            try:
                self.wait_online(min(15.0, max(end - time.monotonic(), 1.0)))
                return
            except LabError:
                if time.monotonic() > end:
                    raise
            for name in self.live_nodes():
                if self.run(name, ["pidof", "pacemakerd"]).rc != 0:
                    self.restarts.append(name)
                    self.run(
                        name,
                        [
                            "sh",
                            "-c",
                            "setsid pacemakerd </dev/null >>/var/log/pacemaker/daemon.log 2>&1 &",
                        ],
                        env=PCMK_ENV,
                        check=True,
                    )

    def start_stack(self, name: str) -> None:
        """corosync, then pacemakerd, as children of the guest's init."""
        self.run(
            name,
            [
                "sh",
                "-c",
                "chown -R hacluster:haclient /var/lib/pacemaker && "
                "chmod 0600 /var/lib/pacemaker/cib/cib.xml && "
                "setsid corosync -f </dev/null >/var/log/corosync/daemon.log 2>&1 &",
            ],
            check=True,
        )
        end = time.monotonic() + 60
        while self.run(name, ["corosync-cfgtool", "-s"]).rc != 0:
            if time.monotonic() > end:
                raise LabError(f"{name}: corosync did not start; logs in {self.dir}/logs")
            time.sleep(0.2)
        self.run(
            name,
            ["sh", "-c", "setsid pacemakerd </dev/null >/var/log/pacemaker/daemon.log 2>&1 &"],
            env=PCMK_ENV,
            check=True,
        )

    def power_on(self, name: str, timeout: float = 240) -> None:
        """Boot a powered-off guest again (same disk) and start its stack."""
        self.fence_rearm(name)
        self.boot(name)
        self.start_stack(name)
        self.wait_stack(timeout)

    # -- ClusterOps -----------------------------------------------------------------

    def _exec(
        self, name: str, argv: Sequence[str], input: str | None, timeout: float
    ) -> tuple[int, str, str]:
        if not self.guest(name).alive:
            raise LabError(f"{name} is powered off")
        result = self.run(name, argv, input=input or "", timeout=timeout, env=PCMK_ENV)
        return result.rc, result.stdout, result.stderr

    def node_names(self) -> list[str]:
        return [g.name for g in self.guests]

    def live_nodes(self) -> list[str]:
        return [g.name for g in self.guests if g.alive]

    def _log_path(self, name: str, which: str) -> str:
        return os.path.join(self.dir, "logs", name, which, f"{which}.log")

    def collect_logs(self, dest: str) -> None:
        super().collect_logs(dest)
        shutil.copytree(os.path.join(self.dir, "logs"), dest, dirs_exist_ok=True)

    def down(self) -> None:
        self._stop_fencing()
        super().down()
