"""Filesystem-py advertises every parameter of ocf:heartbeat:Filesystem with the same default."""

from __future__ import annotations

import os

from tests.conftest import AGENTS_DIR, need
from tests.contract.parity import assert_parity, params

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/Filesystem"


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "Filesystem-py")])
    reference = params([REFERENCE])
    # Added by resource-agents 4.13 (absent from 4.7 and 4.12).
    later = {"term_signals", "kill_signals", "signal_delay"}
    assert_parity(ours, reference, not_in_every_release=later)
