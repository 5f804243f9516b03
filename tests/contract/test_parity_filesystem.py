"""Filesystem-py advertises every parameter of ocf:heartbeat:Filesystem with the same default."""

from __future__ import annotations

import os

from tests.conftest import AGENTS_DIR, need
from tests.contract.test_parity_ipaddr2 import params

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/Filesystem"
# Parameters later upstream versions added (absent from resource-agents 4.12).
UPSTREAM_LATER = {"term_signals", "kill_signals", "signal_delay"}


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "Filesystem-py")])
    reference = params([REFERENCE])
    assert set(reference) <= set(ours), f"missing: {set(reference) - set(ours)}"
    for name, ref in reference.items():
        assert ours[name] == ref, name
    assert set(ours) - set(reference) == UPSTREAM_LATER - set(reference)
