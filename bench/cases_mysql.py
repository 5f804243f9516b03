"""mysql-py vs ocf:heartbeat:mysql on the same MariaDB server (same datadir, same
mysqld_safe), and vs the server's own start and shutdown time (bench/raw_mariadbd.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator

from bench.bench import HERE, ROOT, Case, Side, Step
from lab.mariadb import MariaDB

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/mysql"
PYHA = os.path.join(ROOT, "agents", "mysql-py")
RAW = os.path.join(HERE, "raw_mariadbd.py")


@contextlib.contextmanager
def cases() -> Iterator[list[Case]]:
    with tempfile.TemporaryDirectory(prefix="pyha-bench-mysql-", dir="/var/tmp") as work:
        shutil.chown(work, "mysql", "mysql")
        db = MariaDB(os.path.join(work, "db"), ["skip-networking"])
        datadir, rundir = db.datadir, os.path.dirname(db.socket)
        config, log = db.params()["config"], db.params()["log"]
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "bench_db",
            "HA_RSCTMP": os.path.join(work, "rsc"),
            "OCF_RESKEY_binary": "/usr/bin/mysqld_safe",
            "OCF_RESKEY_config": config,
            "OCF_RESKEY_datadir": datadir,
            "OCF_RESKEY_pid": os.path.join(rundir, "m.pid"),
            "OCF_RESKEY_socket": os.path.join(rundir, "m.sock"),
            "OCF_RESKEY_log": log,
            "OCF_RESKEY_CRM_meta_timeout": "120000",
            "OCF_RESKEY_CRM_meta_interval": "20000",
        }
        direct = {**env, "OCF_RESKEY_binary": "/usr/sbin/mariadbd"}
        raw = [RAW, "{}", datadir, config, rundir, log]

        def steps(agent: str, e: dict[str, str], timed: str) -> Side:
            def make() -> list[Step]:
                if agent == RAW:
                    run = [
                        Step(
                            ["/usr/bin/python3", *[w.replace("{}", a) for w in raw]],
                            e,
                            timed=(a == timed),
                        )
                        for a in ("start", "stop")
                    ]
                else:
                    run = [Step([agent, a], e, timed=(a == timed)) for a in ("start", "stop")]
                return run

            return Side(os.path.basename(agent), make)

        def monitor(agent: str) -> Side:
            return Side(os.path.basename(agent), lambda: [Step([agent, "monitor"], env)])

        def running() -> None:
            subprocess.run([PYHA, "start"], env=env, check=True, capture_output=True)

        def stopped() -> None:
            subprocess.run([PYHA, "stop"], env=env, check=True, capture_output=True)

        yield [
            Case(
                "monitor depth 0 (running)",
                monitor(PYHA),
                monitor(REFERENCE),
                before=running,
                note="pyha logs in over the socket; the reference only checks the pid",
            ),
            Case(
                "start (mysqld_safe)",
                steps(PYHA, env, "start"),
                steps(REFERENCE, env, "start"),
                before=stopped,
            ),
            Case("stop (mysqld_safe)", steps(PYHA, env, "stop"), steps(REFERENCE, env, "stop")),
            Case(
                "start: mysql-py vs the server's own",
                steps(PYHA, direct, "start"),
                steps(RAW, direct, "start"),
                note="the reference side is mariadbd launched directly and polled every 5 ms "
                "until it greets: the time the server itself needs",
            ),
            Case(
                "stop: mysql-py vs the server's own",
                steps(PYHA, direct, "stop"),
                steps(RAW, direct, "stop"),
                note="the reference side is SIGTERM and waiting for the process to end",
            ),
        ]
        subprocess.run([PYHA, "stop"], env=env, capture_output=True, check=False)
