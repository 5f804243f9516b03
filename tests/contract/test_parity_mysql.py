"""mysql-py advertises every parameter of ocf:heartbeat:mysql with the same default."""

from __future__ import annotations

import os

from tests.conftest import AGENTS_DIR, need
from tests.contract.test_parity_ipaddr2 import params

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/mysql"


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "mysql-py")])
    reference = params([REFERENCE])
    assert set(ours) == set(reference)
    for name, ref in reference.items():
        assert ours[name] == ref, name
