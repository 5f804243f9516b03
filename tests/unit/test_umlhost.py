"""The lab's UML probe decides once which path every guest takes: the plain
kernel, the ptrace wrapper, or none (one sentence: what the host lacks and
what to do). Here the test guests' boots are simulated; tests/integration/
test_uml_host.py boots real ones."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from lab import umlhost
from lab.ops import LabError
from lab.umlhost import Boot, decide

RAN = Boot(True, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000\n", 1.4)
FP = Boot(
    False,
    "userspace - ptrace set fp regs failed, errno = 14\n"
    "Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b\n",
    1.5,
)
NOEXEC = Boot(False, "Checking that ptrace can change system call numbers...\nmmap failed\n", 0.2)


class Host:
    """Simulated boots: plain and wrapped results, and what was asked."""

    def __init__(self, plain: Boot, wrapped: Boot | None = None, gcc: bool = True) -> None:
        self.plain, self.wrapped, self.gcc = plain, wrapped, gcc
        self.boots: list[dict[str, str]] = []
        self.kept: list[Boot] = []

    def boot(self, env: Mapping[str, str]) -> Boot:
        self.boots.append(dict(env))
        if "LD_PRELOAD" in env:
            assert self.wrapped is not None, "the wrapper was booted where it should not be"
            return self.wrapped
        return self.plain

    def build(self) -> str:
        if not self.gcc:
            raise LabError("gcc is not installed")
        return "/cache/ptrace_xsave.so"

    def keep(self, boot: Boot) -> str:
        self.kept.append(boot)
        return "/var/tmp/pyha-uml-probe-x/console.log"

    def decide(self, mode: str = "auto", size: int | None = 11008) -> umlhost.Verdict:
        return decide(
            mode=mode,
            kernel="/bin/sh",
            boot=self.boot,
            build_wrapper=self.build,
            size=lambda: size,
            keep=self.keep,
        )


def test_a_host_where_uml_works_takes_the_plain_path_with_one_boot() -> None:
    host = Host(RAN)
    verdict = host.decide(size=2432)
    assert verdict.path == "plain" and verdict.usable and verdict.env == {}
    assert host.boots == [{}]
    assert "plain kernel" in verdict.sentence and "2432 bytes" in verdict.sentence


def test_an_amx_host_takes_the_wrapper_path() -> None:
    host = Host(FP, RAN)
    verdict = host.decide()
    assert verdict.path == "wrapper"
    assert verdict.env == {"LD_PRELOAD": "/cache/ptrace_xsave.so"}
    assert host.boots == [{}, {"LD_PRELOAD": "/cache/ptrace_xsave.so"}]
    assert "wrapper (needed; XSAVE area 11008 bytes" in verdict.sentence
    assert not host.kept


def test_an_amx_host_without_a_compiler_gets_one_sentence_with_what_to_do() -> None:
    host = Host(FP, gcc=False)
    verdict = host.decide()
    assert not verdict.usable and verdict.env == {}
    sentence = verdict.sentence
    assert "\n" not in sentence
    assert sentence.startswith("UML guests cannot run a user process on this host: ")
    assert "XSAVE area (11008 bytes) is larger than the 2696 bytes" in sentence
    assert "AMX" in sentence
    assert "could not be built (gcc is not installed)" in sentence
    assert "install gcc and libc6-dev" in sentence and "clearcpuid=amx_tile" in sentence
    assert "make demo DEMO_ARGS=--namespaces" in sentence
    assert sentence.endswith("console kept in /var/tmp/pyha-uml-probe-x/console.log")
    assert host.kept == [FP]


def test_a_wrapper_that_does_not_help_is_named_with_the_guest_s_last_words() -> None:
    host = Host(FP, NOEXEC)
    verdict = host.decide()
    assert not verdict.usable
    assert "the lab's ptrace wrapper did not help (mmap failed)" in verdict.sentence
    assert "larger than the 2696 bytes" in verdict.sentence  # the plain boot's cause


def test_another_failure_is_not_blamed_on_xsave() -> None:
    host = Host(NOEXEC, NOEXEC)
    verdict = host.decide(size=2432)
    assert not verdict.usable
    assert "the test guest did not run /bin/true (mmap failed)" in verdict.sentence
    assert "XSAVE" not in verdict.sentence


def test_the_wrapper_can_be_forced_and_plain_can_be_pinned() -> None:
    forced = Host(RAN, RAN)
    verdict = forced.decide("wrapper", size=2432)
    assert verdict.path == "wrapper" and "forced by PYHA_UML_XSAVE=wrapper" in verdict.sentence
    assert forced.boots == [{"LD_PRELOAD": "/cache/ptrace_xsave.so"}]
    pinned = Host(FP)
    verdict = pinned.decide("plain")
    assert not verdict.usable and pinned.boots == [{}]
    assert "unset PYHA_UML_XSAVE" in verdict.sentence
    assert not Host(RAN).decide("sometimes").usable


def test_a_missing_kernel_is_said_without_booting() -> None:
    host = Host(RAN)
    verdict = decide(kernel="/nonexistent/linux.uml", boot=host.boot)
    assert not verdict.usable and host.boots == []
    assert "linux.uml is not installed" in verdict.sentence
    assert "apt-get install user-mode-linux" in verdict.sentence


def test_the_probe_runs_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake_decide(**kw: object) -> umlhost.Verdict:
        calls.append(str(kw["mode"]))
        return umlhost.Verdict("plain", "UML: fine")

    monkeypatch.setattr(umlhost, "_verdicts", {})
    monkeypatch.setattr(umlhost, "decide", fake_decide)
    monkeypatch.setenv("PYHA_UML_XSAVE", "wrapper")
    assert umlhost.probed() is None
    first = umlhost.probe()
    assert umlhost.probe() is first and umlhost.probed() is first
    assert calls == ["wrapper"]
