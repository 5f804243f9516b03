"""The declared run-time dependencies are exactly what the shipped code imports: the
Python packaging, the RPM spec and the Debian control file say the same thing."""

from __future__ import annotations

import ast
import configparser
import os
import re
import sys
import sysconfig

from tests.conftest import AGENT_NAMES, ROOT

# Each third-party module the shipped code may import, by its package name in each world.
PACKAGES = {"pymysql": {"pypi": "pymysql", "rpm": "python3-PyMySQL", "deb": "python3-pymysql"}}


def shipped_sources() -> list[str]:
    files = [os.path.join(ROOT, "agents", name) for name in AGENT_NAMES]
    for directory, _, names in os.walk(os.path.join(ROOT, "ocflib")):
        files += [os.path.join(directory, n) for n in names if n.endswith(".py")]
    return files


def stdlib_names() -> set[str]:
    """The standard library's top-level modules (Python 3.9 has no sys.stdlib_module_names)."""
    names = getattr(sys, "stdlib_module_names", None)
    if names:
        return set(names)
    found = set(sys.builtin_module_names)
    stdlib = sysconfig.get_paths()["stdlib"]
    for directory in (stdlib, os.path.join(stdlib, "lib-dynload")):
        for entry in os.listdir(directory):
            found.add(entry.split(".")[0])
    return found


def third_party_imports() -> set[str]:
    stdlib = stdlib_names()
    found = set()
    for path in shipped_sources():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "ocflib" and top not in stdlib:
                    found.add(top)
    return found


def test_the_shipped_code_imports_only_the_stdlib_and_pymysql() -> None:
    assert third_party_imports() == set(PACKAGES)


def test_setup_cfg_declares_what_the_code_imports() -> None:
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    declared = cfg.get("options", "install_requires", fallback="").split()
    for extra, text in cfg.items("options.extras_require"):
        if extra != "test":
            declared += text.split()
    names = {re.split(r"[<>=!~ ]", d)[0].lower() for d in declared}
    assert names == {p["pypi"] for m, p in PACKAGES.items() if m in third_party_imports()}


def test_rpm_spec_declares_what_the_code_imports() -> None:
    with open(os.path.join(ROOT, "packaging", "rpm", "pyha.spec")) as f:
        spec = f.read()
    python_deps = set(re.findall(r"^(?:Requires|Recommends):\s*(python3-\S+)", spec, re.M))
    assert python_deps == {p["rpm"] for p in PACKAGES.values()}


def test_debian_control_declares_what_the_code_imports() -> None:
    with open(os.path.join(ROOT, "debian", "control")) as f:
        control = f.read()
    fields = re.findall(r"^(?:Depends|Recommends):((?:.*\n)(?:[ \t].*\n)*)", control, re.M)
    names = {n.strip().split()[0] for field in fields for n in field.split(",") if n.strip()}
    python_deps = {n for n in names if n.startswith("python3-")}
    assert python_deps == {p["deb"] for p in PACKAGES.values()}
