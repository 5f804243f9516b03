"""Rules for the repository's own files: self-contained knowledge, one formatting."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import ROOT

OUTSIDE = (
    "REFERENCE.md",
    "ENVIRONMENT.md",
    "GALERA.md",
    "PLATFORMS.md",
    "STYLE.md",
    "DRBD.md",
    "shared/",
)


def tracked(*suffixes: str) -> list[str]:
    if os.path.isdir(os.path.join(ROOT, ".git")):
        files = subprocess.run(
            ["git", "-C", ROOT, "ls-files"], capture_output=True, text=True, check=True
        ).stdout.split()
    else:  # an unpacked release tarball: every file in it is the project's
        files = [
            os.path.relpath(os.path.join(d, n), ROOT)
            for d, dirs, names in os.walk(ROOT)
            for n in names
            if "__pycache__" not in d
        ]
    here = [f for f in files if os.path.exists(os.path.join(ROOT, f))]
    return [f for f in here if f.endswith(suffixes) or f.startswith("agents/")]


def read(path: str) -> str:
    with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
        return f.read()


def test_no_file_cites_a_document_outside_the_repository() -> None:
    found = [
        (f, name)
        for f in tracked(".py", ".md", ".in", ".cfg", ".toml", "Makefile", "run", "setup")
        for name in OUTSIDE
        if name in read(f) and f != "tests/unit/test_repository.py"
    ]
    assert found == []


def test_the_formatter_is_not_switched_off_anywhere() -> None:
    marker = "# fmt: " + "skip"
    off = "# fmt: " + "off"
    found = [f for f in tracked(".py") if marker in read(f) or off in read(f)]
    assert found == []


def test_a_deprecation_warning_from_ocflib_fails_the_tests() -> None:
    """setup.cfg's filter reaches every ocflib module (a -W or PYTHONWARNINGS filter
    would match only the top-level ocflib), and nothing else."""
    import warnings

    with pytest.raises(DeprecationWarning):
        warnings.warn_explicit("old", DeprecationWarning, "x.py", 1, module="ocflib.agents.x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # what the configured filters leave alone
        warnings.warn_explicit("old", DeprecationWarning, "x.py", 1, module="lab.x")
    assert len(caught) == 1
