"""A lab that fails to come up keeps its logs (they would go with down()) and
its error says where; one that came up keeps nothing of the kind."""

from __future__ import annotations

import os
from typing import Any

import pytest

from lab import ops
from lab.ops import LabError, Lifecycle


class Lab(Lifecycle):
    def __init__(self, fail: BaseException | None, logs: bool = True) -> None:
        self.fail, self.logs, self.downs = fail, logs, 0

    def up(self) -> None:
        if self.fail is not None:
            raise self.fail

    def down(self) -> None:
        self.downs += 1

    def collect_logs(self, dest: str) -> None:
        if self.logs:
            with open(os.path.join(dest, "uml1-console.log"), "w") as f:
                f.write("Kernel panic\n")


def test_a_failed_bring_up_keeps_the_logs_and_names_them(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ops, "FAILED_DIR", str(tmp_path))
    lab = Lab(LabError("uml1 exited during boot"))
    with pytest.raises(LabError) as caught, lab:
        pass
    assert lab.downs == 1
    kept = caught.value.kept
    assert kept is not None and os.path.dirname(kept) == str(tmp_path)
    assert str(caught.value).startswith("uml1 exited during boot")
    assert str(caught.value).endswith(f"its logs are kept in {kept}")
    with open(os.path.join(kept, "uml1-console.log")) as f:
        assert f.read() == "Kernel panic\n"


def test_other_failures_keep_the_logs_and_pass_unchanged(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ops, "FAILED_DIR", str(tmp_path))
    with pytest.raises(KeyboardInterrupt), Lab(KeyboardInterrupt()):
        pass
    assert len(os.listdir(tmp_path)) == 1


def test_nothing_is_kept_when_there_is_nothing_or_nothing_failed(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ops, "FAILED_DIR", str(tmp_path))
    with pytest.raises(LabError) as caught, Lab(LabError("the host probe said no"), logs=False):
        pass
    assert caught.value.kept is None and str(caught.value) == "the host probe said no"
    with Lab(None) as lab:
        pass
    assert lab.downs == 1
    assert os.listdir(tmp_path) == []
