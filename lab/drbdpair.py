"""Two User-Mode-Linux guests sharing DRBD resource r0, and drbd-py run in them:
what the DRBD integration tests and the DRBD benchmark both drive (lab.uml)."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from lab.cib import cib_text
from lab.ops import LabError
from lab.uml import Result, UmlLab

__all__ = ["AGENT", "GUESTS", "CIB", "seed_cib", "Pair"]

AGENT = "/usr/lib/ocf/resource.d/pyha/drbd-py"
GUESTS = ("uml1", "uml2")
CIB = "/tmp/cib.xml"
T = TypeVar("T")


def seed_cib() -> str:
    """A CIB with both guests as nodes (made on the host: cibadmin is slow in a guest)."""
    return cib_text(nodes=GUESTS)


class Pair:
    """Two guests sharing DRBD resource r0, and drbd-py run in them."""

    def __init__(self, lab: UmlLab) -> None:
        self.lab = lab

    def agent(
        self,
        guest: str,
        action: str,
        *,
        timeout_ms: int = 20000,
        interval_ms: int | None = None,
        meta: dict[str, str] | None = None,
        **params: str,
    ) -> Result:
        env = {
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "p_drbd:0",
            "OCF_RESKEY_drbd_resource": "r0",
            "OCF_RESKEY_crm_feature_set": "3.16.2",
            "CIB_file": CIB,
            "OCF_RESKEY_CRM_meta_timeout": str(timeout_ms),
        }
        base = {
            "on_node": guest,
            "notify": "true",
            "clone_max": "2",
            "promoted_max": "1",
            "clone_node_max": "1",
            "promoted_node_max": "1",
        }
        if interval_ms is not None:
            base["interval"] = str(interval_ms)
        for key, value in {**base, **(meta or {})}.items():
            env[f"OCF_RESKEY_CRM_meta_{key}"] = value
        for key, value in params.items():
            env[f"OCF_RESKEY_{key}"] = value
        return self.lab.run(guest, [AGENT, action], env=env, timeout=timeout_ms / 1000 + 30)

    def rc(self, guest: str, action: str, **kw: object) -> int:
        return self.agent(guest, action, **kw).rc  # type: ignore[arg-type]

    def monitor(self, guest: str, *, probe: bool = False) -> int:
        return self.rc(guest, "monitor", interval_ms=0 if probe else 20000)

    def sh(self, guest: str, *argv: str, check: bool = True) -> Result:
        return self.lab.run(guest, list(argv), check=check)

    def score(self, guest: str) -> str | None:
        result = self.lab.run(
            guest,
            ["crm_attribute", "-N", guest, "-l", "reboot", "-n", "master-p_drbd:0", "-G", "-q"],
            env={"CIB_file": CIB},
        )
        return result.stdout.strip() if result.rc == 0 else None

    def events(self, guest: str) -> str:
        return self.sh(guest, "drbdsetup", "events2", "--now", "r0").stdout

    def both(self, fn: Callable[[str], T]) -> list[T]:
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(fn, GUESTS))

    def reset(self) -> None:
        """Both down, fresh meta data (Inconsistent), fresh CIB, no cached scores."""

        def one(guest: str) -> None:
            self.sh(
                guest,
                "sh",
                "-c",
                "rm -f /run/resource-agents/drbd-py.* && "
                f"cp /etc/pyha-test/cib.xml {CIB} && drbdadm create-md --force r0",
            )

        # One after the other: DRBD 8.4 in UML once hung for good (and the guest
        # died) when both sides went down at the same moment, one of them Primary.
        for guest in reversed(GUESTS):
            # A failed test may leave the device mounted: that must not fail the next one.
            self.sh(guest, "sh", "-c", "umount -q /dev/drbd0; drbdadm down r0", check=False)
        self.both(one)

    def start_synced(self) -> None:
        """Both started by the agent, the initial sync skipped: UpToDate/UpToDate."""
        codes = self.both(lambda g: self.rc(g, "start"))
        if codes != [0, 0]:
            raise LabError(f"drbd-py start on {', '.join(GUESTS)}: {codes}")
        # start waits for the peer only so long; new-current-uuid needs the link up
        # (else "Need to be StandAlone": seen once in CI).
        self.wait_for("uml1", "connection:Connected")
        self.sh("uml1", "drbdadm", "--", "--clear-bitmap", "new-current-uuid", "r0")
        self.wait_for("uml2", "peer-disk:UpToDate")
        self.wait_for("uml1", "peer-disk:UpToDate")

    def wait_for(self, guest: str, text: str, timeout: float = 30) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            events = self.events(guest)
            if text in events:
                return events
            time.sleep(0.2)
        raise AssertionError(f"{guest}: no {text!r} after {timeout}s:\n{self.events(guest)}")
