"""What one agent process costs inside a User-Mode-Linux guest, where every
process start is expensive (page faults and system calls trap to the host):
the bare interpreter of each side and each agent's meta-data, which Pacemaker
fetches on the critical path the first time a node starts a resource (after a
failover, typically). Times measured inside the guest."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

from bench.bench import Case, Side, Step
from lab.uml import UmlLab

GUEST = "uml1"
PAIRS = {
    "IPaddr2-py": "/usr/lib/ocf/resource.d/heartbeat/IPaddr2",
    "Filesystem-py": "/usr/lib/ocf/resource.d/heartbeat/Filesystem",
    "mysql-py": "/usr/lib/ocf/resource.d/heartbeat/mysql",
    "drbd-py": "/usr/lib/ocf/resource.d/linbit/drbd",
}
ENV = {"OCF_ROOT": "/usr/lib/ocf", "OCF_RESOURCE_INSTANCE": "bench"}


@contextlib.contextmanager
def cases() -> Iterator[list[Case]]:
    with UmlLab(1) as lab:

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
            found.append(Case(
                f"{name} meta-data (UML guest)",
                side(name, [f"/usr/lib/ocf/resource.d/pyha/{name}", "meta-data"]),
                side(reference.rsplit("/", 1)[-1], [reference, "meta-data"]),
            ))  # fmt: skip
        yield found
