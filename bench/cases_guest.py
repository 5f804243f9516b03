"""What one agent process costs inside a User-Mode-Linux guest, where every
process start is expensive (page faults and system calls trap to the host):
the bare interpreter of each side and each agent's meta-data, which Pacemaker
fetches on the critical path the first time a node starts a resource (after a
failover, typically); and MariaDB's start after a crash (what a failover
does), by mysql-py, by the reference agent, and launched directly
(bench/raw_mariadbd.py). Times measured inside the guest."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence

from bench.bench import HERE, Case, Side, Step
from lab import stack
from lab.uml import UmlLab

GUEST = "uml1"
PAIRS = {
    "IPaddr2-py": "/usr/lib/ocf/resource.d/heartbeat/IPaddr2",
    "Filesystem-py": "/usr/lib/ocf/resource.d/heartbeat/Filesystem",
    "mysql-py": "/usr/lib/ocf/resource.d/heartbeat/mysql",
    "drbd-py": "/usr/lib/ocf/resource.d/linbit/drbd",
}
ENV = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "bench"}
DATA, RUN = "/srv/data", "/run/mysqld"
MYSQL = {
    **ENV,
    "OCF_RESKEY_binary": "/usr/sbin/mariadbd",
    "OCF_RESKEY_config": stack.MY_CNF_PATH,
    "OCF_RESKEY_datadir": DATA,
    "OCF_RESKEY_user": "mysql",
    "OCF_RESKEY_group": "mysql",
    "OCF_RESKEY_log": f"{RUN}/error.log",
    "OCF_RESKEY_pid": f"{RUN}/m.pid",
    "OCF_RESKEY_socket": f"{RUN}/m.sock",
    "OCF_RESKEY_CRM_meta_timeout": "120000",
}
# The server killed as a power-off would, its pid file and socket left behind.
CRASH = ["sh", "-c", f"kill -9 $(cat {RUN}/m.pid) && sleep 0.5"]


@contextlib.contextmanager
def cases() -> Iterator[list[Case]]:
    with UmlLab(1, disk_mib=256, mem_mib=1024, files={stack.MY_CNF_PATH: stack.MY_CNF}) as lab:
        stack.seed_datadir(os.path.join(lab.guest(GUEST).dir, "seed"))
        lab.run(
            GUEST,
            [
                "sh",
                "-c",
                f"mkfs.ext4 -q /dev/ubda && mkdir -p /srv && "
                f"mount /dev/ubda /srv && cp -a /host/seed {DATA} && "
                f"install -d -o mysql -g mysql {RUN}",
            ],
            check=True,
        )

        def remote(argv: Sequence[str], e: Mapping[str, str]) -> tuple[int, float, str]:
            result = lab.run(GUEST, argv, env=e)
            return result.rc, result.seconds, result.stdout

        def side(label: str, argv: Sequence[str]) -> Side:
            return Side(label, lambda: [Step(argv, ENV, remote=remote)])

        found = [
            Case(
                "interpreter start (UML guest)",
                side("python3 -IS", ["/usr/bin/python3", "-IS", "-c", "pass"]),
                side("bash", ["/bin/bash", "-c", ":"]),
                note="the floor of every action of each side in a guest: /usr/bin/python3 "
                "-IS doing nothing vs bash doing nothing",
            )
        ]
        for name, reference in PAIRS.items():
            found.append(
                Case(
                    f"{name} meta-data (UML guest)",
                    side(name, [f"/usr/lib/ocf/resource.d/pyha/{name}", "meta-data"]),
                    side(reference.rsplit("/", 1)[-1], [reference, "meta-data"]),
                )
            )
        raw = [
            "/usr/bin/python3",
            os.path.join(HERE, "raw_mariadbd.py"),
            "start",
            DATA,
            stack.MY_CNF_PATH,
            RUN,
            f"{RUN}/error.log",
        ]

        def crash_start(label: str, argv: Sequence[str]) -> Side:
            # Every side's output goes to a file through the same sh: the reference's
            # su holds its stdout for as long as the server runs, and the guest's
            # command server returns at end of output.
            quiet = ["sh", "-c", 'exec "$@" >/tmp/bench.out 2>&1', "sh", *argv]
            return Side(
                label,
                lambda: [
                    Step(quiet, MYSQL, remote=remote),
                    Step(CRASH, {}, timed=False, remote=remote),
                ],
            )

        agent = "/usr/lib/ocf/resource.d/pyha/mysql-py"
        found += [
            Case(
                "mysql start after a crash: mysql-py vs mysql (UML guest)",
                crash_start("mysql-py", [agent, "start"]),
                crash_start("mysql", ["/usr/lib/ocf/resource.d/heartbeat/mysql", "start"]),
                before=lambda: lab.run(GUEST, [agent, "start"], env=MYSQL, check=True),
            ),
            Case(
                "mysql start after a crash: mysql-py vs the server's own (UML guest)",
                crash_start("mysql-py", [agent, "start"]),
                crash_start("raw", raw),
                note="InnoDB crash recovery each time; the server's own: mariadbd launched "
                "directly (runuser, as mysql-py does) by a Python script polling its socket "
                "every 5 ms. Each side runs under the same sh (its output to a file)",
            ),
        ]
        yield found
