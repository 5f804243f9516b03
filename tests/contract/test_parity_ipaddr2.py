"""IPaddr2-py advertises every parameter of ocf:heartbeat:IPaddr2 with the same default."""

from __future__ import annotations

import os

from tests.conftest import AGENTS_DIR, need
from tests.contract.parity import assert_parity, params

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/IPaddr2"


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "IPaddr2-py")])
    reference = params([REFERENCE])
    assert_parity(
        ours,
        reference,
        pyha_only={"check_duplicate", "check_duplicate_timeout"},
        # proto came with 4.13, nodad after 4.7.
        not_in_every_release={"proto", "nodad"},
        # 4.16's lvs_ipv6_addrlabel and 4.7's arp_bg defaults: pyha keeps 4.12's (docs/platforms.md).
        other_defaults={"lvs_ipv6_addrlabel": {"true"}, "arp_bg": {"true"}},
    )
