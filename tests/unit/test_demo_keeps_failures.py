"""make demo keeps what it printed and the failure beside the lab's logs."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from demo import demo


def run_demo(monkeypatch: pytest.MonkeyPatch, body: Callable[[], None]) -> tuple[int, str]:
    """demo.main() as root with body as the DRBD demo: its exit status and stderr."""
    monkeypatch.setattr(demo, "run_drbd_demo", body)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(sys, "argv", ["demo.py"])
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    return demo.main(), err.getvalue()


def test_any_failure_keeps_the_output_and_the_traceback(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab_dir = str(tmp_path)

    def broken() -> None:
        demo.LAB_DIRS.append(lab_dir)
        demo.say("cluster online")
        raise TimeoutError("crm_mon did not answer")  # not a LabError: kept all the same

    rc, err = run_demo(monkeypatch, broken)
    assert rc == 1
    assert f"kept in {lab_dir}" in err
    with open(os.path.join(lab_dir, "demo-output.txt")) as f:
        assert "cluster online" in f.read()
    with open(os.path.join(lab_dir, "demo-failure.txt")) as f:
        text = f.read()
    assert "TimeoutError: crm_mon did not answer" in text and "Traceback" in text


def test_a_lab_that_did_not_come_up_gets_the_output_beside_its_kept_logs(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lab.ops import LabError

    def never_up() -> None:
        demo.say("booting two User-Mode-Linux nodes")
        err = LabError("uml1 exited during boot; its logs are kept in " + str(tmp_path))
        err.kept = str(tmp_path)
        raise err

    monkeypatch.setattr(demo, "LAB_DIRS", [])
    rc, err = run_demo(monkeypatch, never_up)
    assert rc == 1
    assert f"kept in {tmp_path}" in err and "nothing was kept" not in err
    with open(os.path.join(tmp_path, "demo-output.txt")) as f:
        assert "booting two User-Mode-Linux nodes" in f.read()


def test_where_uml_cannot_run_the_demo_shows_the_namespace_failover_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lab import umlhost

    sentence = "UML guests cannot run a user process on this host: its CPU's XSAVE area ..."
    monkeypatch.setattr(umlhost, "probe", lambda say: umlhost.Verdict("none", sentence))
    shown: list[str] = []
    monkeypatch.setattr(demo, "run_namespace_demo", lambda: shown.append("namespaces"))
    demo.run_drbd_demo()
    out = capsys.readouterr().out
    assert shown == ["namespaces"]
    assert sentence in out
    assert "DRBD is NOT exercised" in out and "DRBD was not exercised" in out
