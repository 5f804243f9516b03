"""A database agent on a node without PyMySQL says so with rc 5, never a traceback."""

from __future__ import annotations

import site
import sys

import pytest

from ocflib.errors import NotInstalledError
from ocflib.exitcodes import OCF
from ocflib.sqlclient import pymysql


def test_missing_pymysql_is_not_installed_with_the_package_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pymysql", None)  # `import pymysql` raises ImportError
    monkeypatch.setattr(site, "main", lambda: None)
    with pytest.raises(NotInstalledError) as caught:
        pymysql()
    assert caught.value.rc == OCF.ERR_INSTALLED
    assert "python3-pymysql" in str(caught.value) and "python3-PyMySQL" in str(caught.value)
