"""A group IPaddr2-py + Filesystem-py on a shared disk fails over in the lab cluster."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from lab.cluster import NamespaceCluster
from tests.lab import need_lab
from tests.mntns import LoopDevice, loop_devices

pytestmark = [pytest.mark.integration, pytest.mark.slow]
VIP = "192.0.2.100"
DATA = "/srv/data"


@pytest.fixture
def stack() -> Iterator[tuple[NamespaceCluster, LoopDevice]]:
    need_lab(
        "losetup",
        "mkfs.ext4",
    )
    with loop_devices((64, ["mkfs.ext4", "-q", "-F"])) as (disk,), NamespaceCluster(2) as lab:
        lab.configure(
            "\n".join(
                [
                    *lab.fencing_resources(),
                    "property stonith-enabled=true",
                    "rsc_defaults resource-stickiness=100",
                    f"primitive p_ip ocf:pyha:IPaddr2-py params ip={VIP} cidr_netmask=24 "
                    "op monitor interval=10s",
                    f"primitive p_fs ocf:pyha:Filesystem-py params device={disk.device} "
                    f"directory={DATA} fstype=ext4 op monitor interval=2s",
                    "group g_data p_ip p_fs",
                ]
            )
        )
        yield lab, disk


def mounted(lab: NamespaceCluster, node: str) -> bool:
    return lab.run(node, ["findmnt", "-n", DATA], check=False).returncode == 0


def test_group_fails_over_with_its_data(stack: tuple[NamespaceCluster, LoopDevice]) -> None:
    lab, _ = stack
    holder = lab.wait_for("p_fs")
    assert lab.where("p_ip") == [holder] and mounted(lab, holder)
    lab.run(holder, ["sh", "-c", f"echo committed > {DATA}/row && sync"])
    survivor = next(n for n in lab.live_nodes() if n != holder)
    assert not mounted(lab, survivor)
    killed = lab.power_off(holder)
    lab.wait_for("p_fs", on=survivor, exclude=[holder], timeout=90)
    failover = time.monotonic() - killed
    assert [n for n, _ in lab.fenced] == [holder]
    assert lab.where("p_ip") == [survivor]
    assert lab.run(survivor, ["cat", f"{DATA}/row"]).stdout == "committed\n"
    print(f"\ngroup IPaddr2-py + Filesystem-py failover after a hard kill: {failover:.2f} s")


def test_unmounted_behind_the_clusters_back_is_recovered(
    stack: tuple[NamespaceCluster, LoopDevice],
) -> None:
    lab, _ = stack
    holder = lab.wait_for("p_fs")
    lab.run(holder, ["umount", DATA])
    deadline = time.monotonic() + 30
    recovered = False
    while time.monotonic() < deadline:
        status = lab.status(holder)
        failed = status is not None and any(
            f.get("op_key", "").startswith("p_fs_monitor") for f in status.iter("failure")
        )
        if failed and lab.where("p_fs") == [holder] and mounted(lab, holder):
            recovered = True
            break
        time.sleep(0.2)
    assert recovered, "the cluster did not notice the unmount and remount the file system"
