"""make demo keeps what it printed and the failure beside the lab's logs."""

from __future__ import annotations

import io
import os
import sys
from typing import Any

import pytest

from demo import demo


def test_any_failure_keeps_the_output_and_the_traceback(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab_dir = str(tmp_path)

    def broken() -> None:
        demo.LAB_DIRS.append(lab_dir)
        demo.say("cluster online")
        raise TimeoutError("crm_mon did not answer")  # not a LabError: kept all the same

    monkeypatch.setattr(demo, "run_drbd_demo", broken)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(sys, "argv", ["demo.py"])
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    assert demo.main() == 1
    assert f"kept in {lab_dir}" in err.getvalue()
    with open(os.path.join(lab_dir, "demo-output.txt")) as f:
        assert "cluster online" in f.read()
    with open(os.path.join(lab_dir, "demo-failure.txt")) as f:
        text = f.read()
    assert "TimeoutError: crm_mon did not answer" in text and "Traceback" in text
