"""drbd-py advertises every parameter of ocf:linbit:drbd with the same default, and its
meta-data passes the DTD where the reference's does not."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import AGENTS_DIR, need
from tests.contract.test_parity_ipaddr2 import params

REFERENCE = "/usr/lib/ocf/resource.d/linbit/drbd"
DTD = "/usr/share/resource-agents/ra-api-1.dtd"


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "drbd-py")])
    reference = params([REFERENCE])
    assert set(ours) == set(reference)
    for name, ref in reference.items():
        assert ours[name] == ref, name


def _dtd_valid(argv: list[str]) -> bool:
    xml = subprocess.run(
        [*argv, "meta-data"],
        env={"OCF_ROOT": "/usr/lib/ocf"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return (
        subprocess.run(
            ["xmllint", "--noout", "--dtdvalid", DTD, "-"],
            input=xml,
            capture_output=True,
            text=True,
            check=False,
        ).returncode
        == 0
    )


def test_meta_data_is_dtd_valid_unlike_the_reference() -> None:
    need(REFERENCE, DTD, "xmllint")
    assert _dtd_valid([os.path.join(AGENTS_DIR, "drbd-py")])
    assert not _dtd_valid([REFERENCE])  # LINBIT/drbd-utils#18: what this fixes
