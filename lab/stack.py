"""The classic MySQL HA stack, configured with crm in a lab cluster.

Two flavours of the same stack, by agent set: `pyha` (ocf:pyha:*) and
`reference` (ocf:heartbeat:* and ocf:linbit:drbd), so the two can be
compared in the same lab. On UML guests the data lives on real DRBD
(`drbd_stack`); on namespace nodes, on a shared block device (`shared_stack`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

from lab.ops import ClusterOps

AGENTS = {
    "pyha": {
        "ip": "ocf:pyha:IPaddr2-py",
        "fs": "ocf:pyha:Filesystem-py",
        "mysql": "ocf:pyha:mysql-py",
        "drbd": "ocf:pyha:drbd-py",
    },
    "reference": {
        "ip": "ocf:heartbeat:IPaddr2",
        "fs": "ocf:heartbeat:Filesystem",
        "mysql": "ocf:heartbeat:mysql",
        "drbd": "ocf:linbit:drbd",
    },
}
MY_CNF = """[mysqld]
bind-address=0.0.0.0
port=3306
skip-name-resolve
innodb_buffer_pool_size=32M
loose-innodb_buffer_pool_size_max=128M
innodb_log_file_size=16M
"""
MY_CNF_PATH = "/etc/mysql/pyha-lab.cnf"
DRBD_RES = "mysql_res"
DATA = "/var/lib/mysql"
APP_SQL = (
    "CREATE USER app@'%' IDENTIFIED BY 'app-pw'; GRANT ALL ON *.* TO app@'%'; "
    "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY)"
)


def seed_datadir(dest: str, root: str = "", ids: tuple[int, int] | None = None) -> None:
    """A fresh MariaDB datadir at dest, owned by mysql (ids: its uid and gid where
    the nodes run). Made on the host, where it is fast; with root (a release's root
    tree, lab/roots.py), by that release's mariadb-install-db: its MariaDB version
    writes the system tables its servers expect."""
    uid, gid = ids if ids is not None else (-1, -1)
    if root:
        from lab import roots

        inside = f"/srv/pyha-seed-{os.getpid()}"
        made = os.path.join(root, inside.lstrip("/"))
        try:
            os.makedirs(made)
            os.chown(made, uid, gid)  # -1 keeps an id as it is
            roots.run_in_root(
                root,
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    "--user=mysql",
                    f"--datadir={inside}/data",
                    "--skip-test-db",
                ],
                timeout=300,
            ).check_returncode()
            shutil.copytree(os.path.join(made, "data"), dest, symlinks=True)
        finally:
            shutil.rmtree(made, ignore_errors=True)
    else:
        with tempfile.TemporaryDirectory(prefix="pyha-seed-", dir="/var/tmp") as tmp:
            shutil.chown(tmp, "mysql", "mysql")
            subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    "--user=mysql",
                    f"--datadir={tmp}/data",
                    "--skip-test-db",
                ],
                check=True,
                capture_output=True,
            )
            shutil.copytree(f"{tmp}/data", dest, symlinks=True)
    for top, dirs, files in os.walk(dest):
        for name in [top, *(os.path.join(top, n) for n in dirs + files)]:
            if ids is None:
                shutil.chown(name, "mysql", "mysql")
            else:
                os.lchown(name, uid, gid)


def group_config(
    agents: str,
    vip: str,
    device: str,
    *,
    drbd: bool,
    data: str = DATA,
    config: str = MY_CNF_PATH,
    ip_params: str = "",
) -> str:
    """The README's Active/Passive example, as this lab runs it: the group (and, with
    drbd, the promotable DRBD clone with its constraints), with the lab's addresses,
    device and server paths; ip_params: more parameters of the VIP ("name=value ...")."""
    from lab import examples

    vip_params = {"ip": vip, "cidr_netmask": "24"}
    vip_params.update(w.partition("=")[::2] for w in ip_params.split())
    return examples.adapt(
        examples.readme_block(examples.ACTIVE_PASSIVE),
        params={
            "p_ip": vip_params,
            "p_fs": {"device": device, "directory": data, "fstype": "ext4"},
            "p_mysql": {
                "binary": "/usr/sbin/mariadbd",
                "config": config,
                "datadir": f"{data}/data",
                "user": "mysql",
                "group": "mysql",
                "log": "/run/mysqld/error.log",
                "pid": "/run/mysqld/mysqld.pid",
                "socket": "/run/mysqld/mysqld.sock",
            },
            "p_drbd": {"drbd_resource": DRBD_RES},
        },
        types={AGENTS["pyha"][k]: AGENTS[agents][k] for k in AGENTS["pyha"]},
        keep=(lambda words: True) if drbd else examples.mentions("p_drbd", "ms_drbd"),
    )


def cluster_defaults(lab: ClusterOps) -> str:
    return "\n".join(
        [
            *lab.fencing_resources(),
            "property stonith-enabled=true",
            "rsc_defaults resource-stickiness=100",
            "op_defaults timeout=120s",
        ]
    )


def drbd_resource_text(guests: list[str]) -> str:
    """The DRBD resource of the stack: fast resync, a dead peer noticed in about
    1.5 s (ping-int 1 s, ping-timeout 0.5 s) instead of DRBD's default ~17 s."""
    from lab.uml import drbd_resource

    return drbd_resource(DRBD_RES, guests, net="protocol C; ping-int 1; ping-timeout 5;")
