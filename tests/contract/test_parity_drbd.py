"""drbd-py advertises every parameter of ocf:linbit:drbd with the same default, and its
meta-data passes the DTD where the reference's does not."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import AGENTS_DIR, need
from tests.contract.parity import assert_parity, meta_data, params

REFERENCE = "/usr/lib/ocf/resource.d/linbit/drbd"
DTD = "/usr/share/resource-agents/ra-api-1.dtd"


def test_same_parameters_defaults_and_flags_as_the_reference() -> None:
    need(REFERENCE)
    ours = params([os.path.join(AGENTS_DIR, "drbd-py")])
    reference = params([REFERENCE])
    # drbd-utils 9.15 (Debian 11) advertised no default module version bounds; pyha
    # keeps 9.22's (docs/platforms.md).
    unbounded = {"require_drbd_module_version_ge": {""}, "require_drbd_module_version_lt": {""}}
    assert_parity(ours, reference, other_defaults=unbounded)


def _dtd_valid(argv: list[str]) -> bool:
    xml = meta_data(argv)
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
