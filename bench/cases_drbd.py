"""drbd-py vs ocf:linbit:drbd on real DRBD 8.4 in a User-Mode-Linux guest (lab.uml):
the same resource, the same guest, the same run; times measured inside the guest.
Scores go to a CIB file in the guest through crm_attribute on both sides."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

from bench.bench import Case, Side, Step
from lab.drbdpair import CIB, GUESTS, Pair, seed_cib
from lab.uml import UmlLab, drbd_resource

REFERENCE = "/usr/lib/ocf/resource.d/linbit/drbd"
PYHA = "/usr/lib/ocf/resource.d/pyha/drbd-py"
GUEST = "uml1"


@contextlib.contextmanager
def cases() -> Iterator[list[Case]]:
    files = {
        "/etc/drbd.d/r0.res": drbd_resource("r0", GUESTS),
        "/etc/pyha-test/cib.xml": seed_cib(),
    }
    with UmlLab(2, files=files) as lab:
        for guest in GUESTS:
            lab.run(guest, ["modprobe", "drbd"], check=True)
        pair = Pair(lab)
        pair.reset()
        pair.start_synced()
        env = {
            "OCF_ROOT": "/usr/lib/ocf",
            "OCF_RESOURCE_INSTANCE": "p_drbd:0",
            "OCF_RESKEY_drbd_resource": "r0",
            "OCF_RESKEY_crm_feature_set": "3.16.2",
            "CIB_file": CIB,
            "OCF_RESKEY_CRM_meta_timeout": "20000",
            "OCF_RESKEY_CRM_meta_on_node": GUEST,
            "OCF_RESKEY_CRM_meta_notify": "true",
            "OCF_RESKEY_CRM_meta_clone_max": "2",
            "OCF_RESKEY_CRM_meta_master_max": "1",
        }
        recurring = {**env, "OCF_RESKEY_CRM_meta_interval": "20000"}

        def remote(argv: Sequence[str], e: Mapping[str, str]) -> tuple[int, float, str]:
            result = lab.run(GUEST, argv, env=e)
            return result.rc, result.seconds, result.stdout

        def side(agent: str, *actions: tuple[str, int, bool]) -> Side:
            def make() -> list[Step]:
                return [
                    Step([agent, action], recurring, expect_rc=rc, timed=timed, remote=remote)
                    for action, rc, timed in actions
                ]

            return Side(agent.rsplit("/", 1)[-1], make)

        def both(*actions: tuple[str, int, bool]) -> tuple[Side, Side]:
            return side(PYHA, *actions), side(REFERENCE, *actions)

        def secondary() -> None:
            lab.run(GUEST, [PYHA, "demote"], env=env, check=True)

        def primary() -> None:
            lab.run(GUEST, [PYHA, "promote"], env=env, check=True)

        yield [
            Case(
                "monitor (Secondary, connected)",
                *both(("monitor", 0, True)),
                before=secondary,
                note="a steady recurring monitor of drbd-py runs one command (drbdsetup "
                "events2); the reference runs drbdadm and drbdsetup several times and reads "
                "the score back with crm_master before writing it",
            ),
            Case("monitor (Primary, connected)", *both(("monitor", 8, True)), before=primary),
            Case("promote", *both(("promote", 0, True), ("demote", 0, False)), before=secondary),
            Case("demote", *both(("promote", 0, False), ("demote", 0, True))),
        ]
