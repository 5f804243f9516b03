"""galera-py advertises every parameter of ocf:heartbeat:galera with the default
the reference really uses."""

from __future__ import annotations

import os

from tests.conftest import AGENTS_DIR, need
from tests.contract.parity import params

REFERENCE = "/usr/lib/ocf/resource.d/heartbeat/galera"
MYSQL = "/usr/lib/ocf/resource.d/heartbeat/mysql"


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    """The reference prints its meta-data before it reads mysql-common.sh, so the
    parameters it shares with ocf:heartbeat:mysql show an empty default there;
    at run time it uses mysql-common.sh's, which the mysql agent advertises.
    galera-py advertises those."""
    need(REFERENCE, MYSQL)
    ours = params([os.path.join(AGENTS_DIR, "galera-py")])
    reference = params([REFERENCE])
    common = params([MYSQL])
    assert set(ours) == set(reference)
    for name, advertised in reference.items():
        used = advertised
        if name in common and advertised["default"] == "":
            used = {**advertised, "default": common[name]["default"]}
        assert ours[name] == used, name
    assert reference["wsrep_cluster_address"]["required"] == "1"
