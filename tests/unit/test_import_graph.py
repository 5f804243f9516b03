"""The import graph of the whole tree: no cycle and no upward arrow.

Every import counts, the ones under `if TYPE_CHECKING:` and inside functions too (a
type-only cycle still ties two modules together). The layers, lowest first: ocflib
(the library), lab (the clusters the tests and benchmarks run on), bench (the
benchmarks, which drive the lab), demo, tests. A module imports only from its own
layer or below; within ocflib, nothing imports the agents or the administrators'
command but themselves.
"""

from __future__ import annotations

import ast
import os

from tests.conftest import ROOT

LAYERS = ("ocflib", "lab", "bench", "demo", "tests")
# Inside ocflib: the agents and the pyha command sit on top of the library.
OCFLIB_TOP = ("ocflib.agents", "ocflib.admin")


def _files() -> dict[str, str]:
    """module name -> path, for every Python file of the layers."""
    found = {}
    for layer in LAYERS:
        for directory, dirs, names in os.walk(os.path.join(ROOT, layer)):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for name in names:
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    module = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
                    found[module.removesuffix(".__init__")] = path
    return found


def _imports(path: str, module: str, known: set[str]) -> set[str]:
    """The tree's modules that path imports, wherever the import statement is."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            names = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        for imported in names:
            name = imported
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def graph() -> dict[str, set[str]]:
    files = _files()
    known = set(files)
    return {m: _imports(p, m, known) for m, p in files.items()}


def _layer(module: str) -> int:
    return LAYERS.index(module.split(".", maxsplit=1)[0])


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = sorted(
        f"{m} -> {n}" for m, deps in graph().items() for n in deps if _layer(n) > _layer(m)
    )
    assert upward == []


def test_the_library_imports_neither_its_agents_nor_its_command() -> None:
    wrong = sorted(
        f"{m} -> {n}"
        for m, deps in graph().items()
        if m.startswith("ocflib") and not m.startswith(OCFLIB_TOP)
        for n in deps
        if n.startswith(OCFLIB_TOP)
    )
    assert wrong == []


def test_no_import_cycle_not_even_a_type_only_one() -> None:
    g = graph()
    # a package's modules import their package's __init__ implicitly: not an arrow
    edges = {m: {n for n in deps if not m.startswith(n + ".")} for m, deps in g.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert [" -> ".join(c) for c in cycles] == []


def test_the_checker_sees_an_upward_arrow_and_a_cycle(tmp_path: object) -> None:
    """The two rules fail on a tree that breaks them (the checker can fail)."""
    known = {"ocflib.a", "ocflib.b", "lab.x", "tests.t"}
    path = os.path.join(str(tmp_path), "a.py")
    with open(path, "w") as f:
        f.write("TYPE_CHECKING = False\nif TYPE_CHECKING:\n    from ocflib.b import B\n")
        f.write("def f():\n    from lab import x\n")
    assert _imports(path, "ocflib.a", known) == {"ocflib.b", "lab.x"}
    assert _layer("lab.x") > _layer("ocflib.a")
