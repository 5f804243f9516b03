"""Shared fixtures: the strict fake runner, dispatch helpers, and the rule that
integration tests skip locally when a tool is missing but fail in CI."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Generator, Mapping, Sequence
from typing import Any

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from ocflib.agent import Agent  # noqa: E402
from ocflib.world import World  # noqa: E402
from tests.fakes import FakeRunner, RecordingLog, fake_world  # noqa: E402

# The agents under test: the checkout's, or with PYHA_AGENTS_DIR an installed package's
# (CI installs the .deb and runs the integration and contract tests against it).
AGENTS_DIR = os.environ.get("PYHA_AGENTS_DIR") or os.path.join(ROOT, "agents")
# Every agent, from the one place that defines them: the executables in agents/.
AGENT_NAMES = sorted(n for n in os.listdir(os.path.join(ROOT, "agents")) if n.endswith("-py"))
# tests/installed checks an installed package: collected only when one is named.
collect_ignore = [] if os.environ.get("PYHA_AGENTS_DIR") else ["installed"]
REQUIRE = os.environ.get("OCFLIB_REQUIRE_INTEGRATION") == "1"


def feature_set() -> str:
    """The installed Pacemaker's feature set, as it passes it to agents (2.0.5: 3.6.1,
    2.1.5: 3.16.1, 3.0.0: 3.20.0; ocflib.pacemaker decides by it)."""
    need("pacemakerd")
    out = subprocess.run(
        ["pacemakerd", "--features"], capture_output=True, text=True, check=True
    ).stdout
    return out.split("Supporting v", 1)[1].split(":", 1)[0]


def need(*tools: str, root: bool = False) -> None:
    """Skip when a tool (or root) is missing; fail instead under OCFLIB_REQUIRE_INTEGRATION=1."""
    missing = [t for t in tools if shutil.which(t) is None and not os.path.exists(t)]
    if root and os.geteuid() != 0:
        missing.append("root privileges")
    if missing:
        message = "missing: " + ", ".join(missing)
        if REQUIRE:
            pytest.fail(message + " (CI must install it)")
        pytest.skip(message)


def process_state(pid: int) -> str:
    """The state letter of /proc/<pid>/stat ("R", "S", "Z", ...), or "gone". The process
    may be reaped between any two reads: a vanished file is "gone", never an error."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return "gone"


def need_uml() -> None:
    """need() for the UML lab: linux.uml, root, and the lab's probe (once per run)
    saying that a guest can run a user process here; its one sentence otherwise."""
    need("linux.uml", root=True)
    from lab import umlhost

    verdict = umlhost.probe()
    if not verdict.usable:
        if REQUIRE:
            pytest.fail(verdict.sentence, pytrace=False)
        pytest.skip(verdict.sentence)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Which path the UML lab took on this host (in every CI log that ran it)."""
    from lab import umlhost

    verdict = umlhost.probed()
    if verdict is not None:
        terminalreporter.write_line(f"lab: {verdict.sentence}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, "rep_" + report.when, report)


@pytest.fixture
def fake(request: pytest.FixtureRequest) -> Generator[FakeRunner]:
    """A FakeRunner whose expectations must all be used (unless the test failed)."""
    runner = FakeRunner()
    yield runner
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.passed:
        runner.assert_done()


class Outcome:
    """What a dispatch produced: rc, stdout, stderr, the log records."""

    def __init__(self, rc: int, stdout: str, stderr: str, records: list[tuple[str, str]]):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.records = records

    @property
    def reasons(self) -> list[str]:
        """The ocf-exit-reason lines."""
        prefix = "ocf-exit-reason:"
        return [line[len(prefix) :] for line in self.stderr.splitlines() if line.startswith(prefix)]

    @property
    def reason(self) -> str:
        """The one exit reason (fails if there is not exactly one)."""
        assert len(self.reasons) == 1, f"expected one exit reason, got {self.reasons!r}"
        return self.reasons[0]

    def logged(self, level: str) -> list[str]:
        """Messages logged at level."""
        return [msg for lvl, msg in self.records if lvl == level]


def dispatch(
    agent: Agent,
    action: str | None,
    env: Mapping[str, str],
    runner: FakeRunner | None = None,
    argv: Sequence[str] | None = None,
    *,
    world: World | None = None,
    **seams: Any,
) -> Outcome:
    """Run agent.dispatch in process in a world of strict fakes (tests/fakes.py:
    fake_world; seams given by keyword replace its fakes): users and groups are
    root and mysql, SQL a FakeSql, processes FakeProcesses, time a FakeClock.
    The outcome has the exit code, both streams and the log's records."""
    if world is None:
        world = fake_world(runner, **seams)
    args = list(argv) if argv is not None else ["agent"] + ([action] if action else [])
    rc = agent.dispatch(args, env, world)
    log = world.log
    assert isinstance(log, RecordingLog)
    assert isinstance(world.out, io.StringIO) and isinstance(world.err, io.StringIO)
    return Outcome(rc, world.out.getvalue(), world.err.getvalue(), log.records)
