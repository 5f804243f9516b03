"""The seams: every effect of an agent goes through the World, each seam has a real
implementation and a strict fake with the same methods (neither subclassing the
other), design.md's table says so, and no unit test patches ocflib."""

from __future__ import annotations

import ast
import inspect
import io
import os
import re
import time

from ocflib import world
from ocflib.agent import Action, Agent
from ocflib.exitcodes import OCF
from tests import fakes
from tests.conftest import ROOT, dispatch

FAKES = {
    "clock": fakes.FakeClock,
    "procs": fakes.FakeProcesses,
    "sql": fakes.FakeSql,
    "accounts": fakes.FakeAccounts,
    "mounts": fakes.FakeMounts,
    "net": fakes.FakeNetwork,
    "host": fakes.FakeHost,
    "drbd": fakes.FakeDrbd,
}


def protocols() -> dict[str, set[str]]:
    """Each Protocol of ocflib/seams.py with the names it declares."""
    with open(os.path.join(ROOT, "ocflib", "seams.py")) as f:
        tree = ast.parse(f.read())
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            found[node.name] = {
                n.name if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) else n.target.id  # type: ignore[union-attr]
                for n in node.body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name))
            }
    return found


def test_every_seam_has_a_real_and_a_fake_with_the_protocol_s_names() -> None:
    declared = protocols()
    assert set(world.SEAMS) == set(FAKES)
    for attr, (protocol, factory) in world.SEAMS.items():
        names = declared[protocol]
        real = type(factory())
        fake = FAKES[attr]
        for cls in (real, fake):
            missing = sorted(
                n for n in names if not hasattr(cls, n) and n not in _instance_attrs(cls)
            )
            assert missing == [], f"{cls.__name__} lacks {missing} of {protocol}"
        assert not issubclass(fake, real) and not issubclass(real, fake), attr
        assert isinstance(getattr(world.World(), attr), real)  # the node's own by default


def _instance_attrs(cls: type) -> set[str]:
    """Attributes an instance gets in __init__ (self.x = ...)."""
    try:
        source = inspect.getsource(vars(cls)["__init__"])
    except (TypeError, OSError, KeyError):
        return set()
    return set(re.findall(r"self\.(\w+)\s*[:=]", source))


def test_design_md_s_table_lists_every_seam_with_its_real_and_fake_class() -> None:
    with open(os.path.join(ROOT, "docs", "design.md")) as f:
        text = f.read()
    rows = {
        m.group(1): (m.group(2), m.group(3), m.group(4))
        for m in re.finditer(
            r"^\| `(\w+)` \| `(\w+)` \| [^|]+ \| `([\w.]+)` \| `(\w+)` \|$", text, re.M
        )
    }
    expected = {
        attr: (
            protocol,
            f"{type(factory()).__module__}.{type(factory()).__name__}",
            FAKES[attr].__name__,
        )
        for attr, (protocol, factory) in world.SEAMS.items()
    }
    expected["runner"] = ("Runner", "ocflib.run.ProcessRunner", "FakeRunner")
    assert rows == expected


# --- the agents reach the node only through the World ------------------------------------

FORBIDDEN_CALLS = {("os", "geteuid"), ("os", "getuid"), ("os", "fork"), ("os", "kill")}


def agent_sources() -> dict[str, ast.Module]:
    base = os.path.join(ROOT, "ocflib", "agents")
    out = {}
    for name in sorted(os.listdir(base)):
        if name.endswith(".py"):
            with open(os.path.join(base, name)) as f:
                out[name] = ast.parse(f.read())
    return out


def effects_outside_the_world(tree: ast.Module) -> list[str]:
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                f"import {a.name}"
                for a in node.names
                if a.name in ("time", "pwd", "grp", "_socket")
            ]
        elif isinstance(node, ast.ImportFrom) and node.module in ("time", "pwd", "grp"):
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "time" or (node.value.id, node.attr) in FORBIDDEN_CALLS:
                found.append(f"{node.value.id}.{node.attr}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("/proc")
            and id(node) not in docstrings
        ):
            found.append(repr(node.value))
    return found


def test_agents_never_reach_the_clock_the_uid_or_proc_but_through_the_world() -> None:
    found = {name: effects_outside_the_world(tree) for name, tree in agent_sources().items()}
    assert {name: f for name, f in found.items() if f} == {}


def test_the_check_sees_a_direct_effect() -> None:
    tree = ast.parse(
        'import time\ndef f():\n    """reads /proc"""\n    os.geteuid()\n    open("/proc/drbd")\n'
    )
    assert effects_outside_the_world(tree) == ["import time", "os.geteuid", "'/proc/drbd'"]


# --- no unit test patches ocflib or waits in real time -----------------------------------

# The one patch left in an agent's unit test: a guard that the agent never stat()s a
# mounted file system (no seam can observe the absence of a stat).
ALLOWED_PATCHES = {("tests/unit/agents/test_filesystem.py", "os", "stat")}


def patches(path: str) -> list[tuple[str, str]]:
    """(target, attribute) of every monkeypatch.setattr and every assignment to an
    attribute of an imported module in path."""
    with open(path) as f:
        tree = ast.parse(f.read())
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ocflib"):
            modules.update(a.asname or a.name for a in node.names)
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setattr"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "monkeypatch"
            and node.args
        ):
            target = ast.unparse(node.args[0])
            attr = ast.literal_eval(node.args[1]) if len(node.args) > 1 else ""
            found.append((target, str(attr)))
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if (
                    isinstance(t, ast.Attribute)
                    and isinstance(t.value, ast.Name)
                    and t.value.id in modules
                ):
                    found.append((t.value.id, t.attr))
    return found


def test_no_unit_test_patches_ocflib_and_agent_tests_patch_nothing() -> None:
    bad = []
    for tier in ("unit", "property"):
        for directory, _dirs, names in os.walk(os.path.join(ROOT, "tests", tier)):
            for name in names:
                if not name.endswith(".py"):
                    continue
                path = os.path.join(directory, name)
                rel = os.path.relpath(path, ROOT)
                ocflib_names = _ocflib_names(path)
                for target, attr in patches(path):
                    if (
                        target.split(".")[0] in ocflib_names
                        or target.startswith(("ocflib", '"ocflib'))
                        or "/agents/" in rel
                        and (rel, target, attr) not in ALLOWED_PATCHES
                    ):
                        bad.append(f"{rel}: {target}.{attr}")
    assert bad == []


def _ocflib_names(path: str) -> set[str]:
    with open(path) as f:
        tree = ast.parse(f.read())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ocflib"):
            names.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                (a.asname or a.name).split(".")[0]
                for a in node.names
                if a.name.startswith("ocflib")
            )
    return names


def test_an_agent_that_waits_takes_no_real_time_in_a_unit_test() -> None:
    """The test world's clock moves only when the agent pauses: a handler that waits a
    minute through its deadline returns at once, the pauses recorded."""

    def start(cfg: object, ctx: object) -> OCF:
        ctx.deadline.nap(60.0)  # type: ignore[attr-defined]
        ctx.deadline.wait_until(lambda: False, within=30.0)  # type: ignore[attr-defined]
        return OCF.SUCCESS

    agent = Agent(
        "waiter",
        version="1",
        shortdesc="w",
        longdesc="w",
        params=(),
        actions=(Action("start", start, timeout=120),),
    )
    clock = fakes.FakeClock()
    began = time.monotonic()
    out = dispatch(agent, "start", {"OCF_RESKEY_CRM_meta_timeout": "120000"}, clock=clock)
    assert out.rc == OCF.SUCCESS
    assert time.monotonic() - began < 1.0
    assert clock.pauses[0] == 60.0 and sum(clock.pauses) >= 89.0
    assert isinstance(fakes.fake_world().out, io.StringIO)
