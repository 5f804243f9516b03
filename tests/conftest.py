"""Shared fixtures: the strict fake runner, dispatch helpers, and the rule that
integration tests skip locally when a tool is missing but fail in CI."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Generator, Mapping, Sequence

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from ocflib.agent import Agent  # noqa: E402
from ocflib.log import Log  # noqa: E402
from ocflib.testing import (  # noqa: E402
    STANDARD_ACCOUNTS,
    STANDARD_GROUPS,
    FakeAccounts,
    FakeClock,
    FakeProcesses,
    FakeRunner,
    FakeSql,
)

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
    accounts: FakeAccounts | None = None,
    sql: FakeSql | None = None,
    procs: FakeProcesses | None = None,
    clock: FakeClock | None = None,
) -> Outcome:
    """Run agent.dispatch in process with captured streams and log. The world is
    fake and strict: users and groups are FakeAccounts (root and mysql unless
    given), SQL a FakeSql and processes FakeProcesses (empty unless given)."""
    out, err = io.StringIO(), io.StringIO()
    log = Log(agent.name, "test", to_stderr=False)
    log.records = []
    args = list(argv) if argv is not None else ["agent"] + ([action] if action else [])
    if accounts is None:
        accounts = FakeAccounts(STANDARD_ACCOUNTS, STANDARD_GROUPS)
    rc = agent.dispatch(
        args,
        env,
        runner or FakeRunner(),
        log=log,
        stdout=out,
        stderr=err,
        accounts=accounts,
        sql=sql if sql is not None else FakeSql(),
        procs=procs if procs is not None else FakeProcesses(),
        clock=clock,
    )
    return Outcome(rc, out.getvalue(), err.getvalue(), log.records)
