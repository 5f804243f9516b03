"""The dispatcher's action policy, on a small agent."""

from __future__ import annotations

import io

import pytest

from ocflib.agent import Action, Agent, Context
from ocflib.errors import ConfigError, NotInstalledError
from ocflib.exitcodes import OCF
from ocflib.params import Config, Integer, Param, Problem, String
from ocflib.world import World
from tests.conftest import dispatch
from tests.fakes import FakeRunner, ocf_env

NAME = Param("name", String(), shortdesc="name", required=True)
SIZE = Param("size", Integer(min=1), shortdesc="size", default="3")
PASSWORD = Param("password", String(), shortdesc="secret", secret=True)

calls: list[str] = []


def ok(cfg: Config, ctx: Context) -> OCF:
    calls.append(ctx.action)
    return OCF.SUCCESS


def boom(cfg: Config, ctx: Context) -> OCF:
    raise ZeroDivisionError("division by zero")


def cannot_write(cfg: Config, ctx: Context) -> OCF:
    raise PermissionError(13, "Permission denied", "/run/toy/state")


def refuse(cfg: Config, ctx: Context) -> OCF:
    raise NotInstalledError(f"tool missing for {cfg[NAME]} (password {cfg.get(PASSWORD)})")


def stopped(cfg: Config, ctx: Context) -> OCF:
    return OCF.NOT_RUNNING


def bad_code(cfg: Config, ctx: Context) -> OCF:
    return 42  # type: ignore[return-value]


def local_checks(cfg: Config, ctx: Context) -> list[Problem]:
    if cfg[NAME] == "nowhere":
        return [Problem("binary foo is missing", OCF.ERR_INSTALLED)]
    return []


def config_checks(cfg: Config, ctx: Context) -> list[Problem]:
    if cfg[NAME] == "bad":
        return [Problem("name must not be bad"), Problem("and size is odd")]
    return []


AGENT = Agent(
    "toy-py",
    version="1",
    shortdesc="toy",
    longdesc="toy",
    params=[NAME, SIZE, PASSWORD],
    actions=[
        Action("start", ok, timeout=20),
        Action("stop", stopped, timeout=20),
        Action("monitor", ok, timeout=20, interval=10),
        Action("promote", boom, timeout=20),
        Action("demote", refuse, timeout=20),
        Action("reload", bad_code, timeout=20),
        Action("notify", refuse, timeout=20, never_fails=True),
        Action("validate-all", ok, timeout=20),
        Action("migrate_from", cannot_write, timeout=20),
    ],
    check_config=config_checks,
    check_local=local_checks,
)


def test_meta_data_needs_nothing() -> None:
    out = dispatch(AGENT, "meta-data", {})
    assert out.rc == 0 and "<resource-agent" in out.stdout and out.stderr == ""


class GoneReader(io.StringIO):
    """A stdout whose reader went away."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("action", ["meta-data", "methods", "usage"])
def test_output_that_cannot_be_written_is_a_failure_with_a_reason(action: str) -> None:
    err = io.StringIO()
    rc = AGENT.dispatch(["toy", action], {}, World(runner=FakeRunner(), out=GoneReader(), err=err))
    assert rc == OCF.ERR_GENERIC
    assert (
        err.getvalue()
        == f"ocf-exit-reason:cannot write the {action} output: [Errno 32] Broken pipe\n"
    )


def test_usage_and_missing_action() -> None:
    assert dispatch(AGENT, "usage", {}).stdout.startswith("usage: toy-py {")
    out = dispatch(AGENT, None, {})
    assert out.rc == OCF.ERR_ARGS and out.reason == "no action given"


def test_unknown_action_is_unimplemented() -> None:
    out = dispatch(AGENT, "migrate_to", ocf_env(name="x"))
    assert out.rc == OCF.ERR_UNIMPLEMENTED
    assert out.reason == "action 'migrate_to' is not implemented"


def test_extra_arguments_are_ignored() -> None:
    calls.clear()
    out = dispatch(AGENT, None, ocf_env(name="x"), argv=["toy", "start", "extra"])
    assert out.rc == 0 and calls == ["start"]


def test_config_problems_fail_start_with_all_reasons() -> None:
    out = dispatch(AGENT, "start", ocf_env(name="bad"))
    assert out.rc == OCF.ERR_CONFIGURED
    assert out.reason == "name must not be bad; and size is odd"


def test_config_problems_on_stop_and_probe_mean_not_running() -> None:
    assert dispatch(AGENT, "stop", ocf_env(size="zero")).rc == OCF.SUCCESS
    assert dispatch(AGENT, "monitor", ocf_env(interval_ms=0)).rc == OCF.NOT_RUNNING
    out = dispatch(AGENT, "monitor", ocf_env(interval_ms=10000))
    assert out.rc == OCF.ERR_CONFIGURED and out.reason == "required parameter name is not set"


def test_local_problems_probe_says_not_running_others_fail() -> None:
    assert dispatch(AGENT, "monitor", ocf_env(name="nowhere", interval_ms=0)).rc == 7
    out = dispatch(AGENT, "start", ocf_env(name="nowhere"))
    assert out.rc == OCF.ERR_INSTALLED and out.reason == "binary foo is missing"


def test_validate_all_checks_the_installation_at_every_depth() -> None:
    # The reference agents' validate-all checks the installation without a depth
    # (crm_resource --validate and pcs pass none): so does the dispatcher.
    calls.clear()
    out = dispatch(AGENT, "validate-all", ocf_env(name="nowhere"))
    assert out.rc == OCF.ERR_INSTALLED and out.reason == "binary foo is missing"
    env = ocf_env(name="nowhere")
    env["OCF_CHECK_LEVEL"] = "10"
    assert dispatch(AGENT, "validate-all", env).rc == OCF.ERR_INSTALLED
    assert dispatch(AGENT, "validate-all", ocf_env(name="x")).rc == OCF.SUCCESS


def test_unexpected_exception_is_generic_error_with_reason_not_traceback() -> None:
    out = dispatch(AGENT, "promote", ocf_env(name="x"))
    assert out.rc == OCF.ERR_GENERIC
    assert out.reason == "internal error in toy-py: ZeroDivisionError: division by zero"
    assert "Traceback" not in out.stderr


def test_an_os_error_is_a_plain_failure_not_an_internal_error() -> None:
    out = dispatch(AGENT, "migrate_from", ocf_env(name="x"))
    assert out.rc == OCF.ERR_GENERIC
    assert out.reason == "migrate_from failed: /run/toy/state: Permission denied"


def test_ocf_error_code_and_secret_redaction() -> None:
    out = dispatch(AGENT, "demote", ocf_env(name="x", password="hunter2"))
    assert out.rc == OCF.ERR_INSTALLED
    assert out.reason == "tool missing for x (password <redacted>)"
    assert all("hunter2" not in msg for _, msg in out.records)


def test_stop_never_returns_not_running() -> None:
    assert dispatch(AGENT, "stop", ocf_env(name="x")).rc == OCF.SUCCESS


def test_invalid_handler_code_is_generic() -> None:
    out = dispatch(AGENT, "reload", ocf_env(name="x"))
    assert out.rc == OCF.ERR_GENERIC and "invalid code 42" in out.reason


def test_never_fails_action_reports_success() -> None:
    out = dispatch(AGENT, "notify", ocf_env(name="x"))
    assert out.rc == OCF.SUCCESS and out.reasons == ["tool missing for x (password None)"]


def test_exit_reason_prefix_is_honoured() -> None:
    env = ocf_env(name="bad")
    env["OCF_EXIT_REASON_PREFIX"] = "REASON>"
    out = dispatch(AGENT, "start", env)
    assert out.stderr.splitlines()[-1] == "REASON>name must not be bad; and size is odd"


def test_duplicate_action_names_must_share_a_handler() -> None:
    with pytest.raises(ValueError, match="two handlers"):
        Agent(
            "x",
            version="1",
            shortdesc="x",
            longdesc="x",
            params=[],
            actions=[Action("monitor", ok, timeout=1), Action("monitor", boom, timeout=1)],
        )


def test_check_config_may_raise() -> None:
    def raising(cfg: Config, ctx: Context) -> list[Problem]:
        raise ConfigError("nope")

    agent = Agent(
        "x",
        version="1",
        shortdesc="x",
        longdesc="x",
        params=[NAME],
        actions=[Action("start", ok, timeout=1)],
        check_config=raising,
    )
    out = dispatch(agent, "start", ocf_env(name="n"))
    assert out.rc == OCF.ERR_CONFIGURED and out.reason == "nope"


def test_fake_runner_reports_unexpected_and_leftover_calls() -> None:
    fake = FakeRunner()
    fake.expect(["ip", "addr"])
    with pytest.raises(AssertionError, match="As 1. command expected 'ip addr' but was 'ip link'"):
        fake.run(["ip", "link"])
    fake = FakeRunner()
    fake.expect(["ip", "addr"])
    with pytest.raises(AssertionError, match="remaining expected calls"):
        fake.assert_done()
