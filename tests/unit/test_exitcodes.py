from __future__ import annotations

import pytest

from ocflib.exitcodes import OCF


def test_values_match_pacemaker() -> None:
    expected = {
        "SUCCESS": 0,
        "ERR_GENERIC": 1,
        "ERR_ARGS": 2,
        "ERR_UNIMPLEMENTED": 3,
        "ERR_PERM": 4,
        "ERR_INSTALLED": 5,
        "ERR_CONFIGURED": 6,
        "NOT_RUNNING": 7,
        "RUNNING_PROMOTED": 8,
        "FAILED_PROMOTED": 9,
        "DEGRADED": 190,
        "DEGRADED_PROMOTED": 191,
    }
    assert {m.name: int(m) for m in OCF.members()} == expected


def test_members_are_unique_singletons() -> None:
    assert OCF(7) is OCF.NOT_RUNNING
    assert OCF(OCF.SUCCESS) is OCF.SUCCESS
    assert len({int(m) for m in OCF.members()}) == 12


def test_unknown_value_is_rejected() -> None:
    with pytest.raises(ValueError, match="not an OCF exit code"):
        OCF(42)
    assert not OCF.is_valid(42)
    assert OCF.is_valid(191)
    assert not OCF.is_valid("0")


def test_behaves_like_int() -> None:
    assert OCF.ERR_CONFIGURED == 6
    assert OCF.NOT_RUNNING + 1 == 8
    assert repr(OCF.NOT_RUNNING) == "<OCF.NOT_RUNNING: 7>"
    assert str(OCF.ERR_ARGS) == "2"
    assert f"{OCF.DEGRADED}" == "190"
