"""mysql-py advertises every parameter of ocf:heartbeat:mysql with the same default."""

from __future__ import annotations

import os

from tests.conftest import AGENTS_DIR, need
from tests.contract.parity import assert_parity, params

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/mysql"


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "mysql-py")])
    reference = params([REFERENCE])
    # replication_require_ssl came after resource-agents 4.7.
    assert_parity(ours, reference, not_in_every_release={"replication_require_ssl"})
