"""The UML lab on every x86-64 host, for real (lab/umlhost.py, lab/xsave/).

On a CPU with AMX the host's XSAVE area (11008 bytes) is larger than the
buffer Debian 12's linux.uml hands PTRACE_SETREGSET, the kernel refuses it
with EFAULT and every guest dies at its first user process. The lab's ptrace
wrapper pads that call. A host without AMX cannot have the large area, but it
can have the short buffer: the wrapper's PYHA_XSAVE_LIMIT makes linux.uml's
buffer shorter than this host's area, which is the same mismatch, and
PYHA_XSAVE_PAD=0 leaves the call unpadded, which is the same failure.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from lab import umlhost
from lab.ops import LabError
from lab.uml import UmlLab
from tests.conftest import need

pytestmark = pytest.mark.integration
# Far below every x86-64 XSAVE area with AVX (>= 832 bytes): the buffer is "too short".
SHORT = "576"


@pytest.fixture(scope="module")
def wrapper() -> str:
    need(umlhost.KERNEL, "gcc", root=True)
    return umlhost.wrapper()


def test_the_wrapper_pads_a_short_xsave_buffer_and_leaves_the_rest_initial(wrapper: str) -> None:
    """Straight to the kernel a short buffer gets EFAULT (the failure); through the
    wrapper it is accepted, what fit holds its values, what did not is initial."""
    check = umlhost.build("regset_check")
    padded = subprocess.run(
        [check], env={"LD_PRELOAD": wrapper}, capture_output=True, text=True, check=False
    )
    if padded.returncode == 77:  # a CPU with no state past AVX: nothing to leave out
        pytest.skip(padded.stdout.strip())
    assert padded.returncode == 0, padded.stdout
    assert "ok a short buffer straight to the kernel: EFAULT" in padded.stdout
    assert "ok the component past the buffer is in its initial state" in padded.stdout
    # Without the wrapper the same program sees the kernel keep what it was given.
    bare = subprocess.run([check], capture_output=True, text=True, check=False)
    assert bare.returncode == 1, bare.stdout
    assert "FAIL the component past the buffer is in its initial state" in bare.stdout


def simulated_host(wrapper: str, *, gcc: bool = True) -> umlhost.Verdict:
    """decide() with real boots on a host where linux.uml's buffer is too short:
    the 'plain' kernel runs under the wrapper with padding off."""

    def boot(env: dict[str, str]) -> umlhost.Boot:
        pad = "1" if "LD_PRELOAD" in env else "0"
        return umlhost.boot_true(
            {"LD_PRELOAD": wrapper, "PYHA_XSAVE_LIMIT": SHORT, "PYHA_XSAVE_PAD": pad}
        )

    def build() -> str:
        if not gcc:
            raise LabError("gcc is not installed")
        return wrapper

    return umlhost.decide(boot=boot, build_wrapper=build)  # type: ignore[arg-type]


def test_the_amx_failure_is_the_one_uml_dies_of_and_the_wrapper_repairs_it(
    wrapper: str,
) -> None:
    broken = umlhost.boot_true(
        {"LD_PRELOAD": wrapper, "PYHA_XSAVE_LIMIT": SHORT, "PYHA_XSAVE_PAD": "0"}
    )
    assert not broken.ran and broken.fp_failed
    assert "ptrace set fp regs failed, errno = 14" in broken.console
    assert "exitcode=0x0000000b" in broken.console
    assert broken.seconds < 10
    verdict = simulated_host(wrapper)
    assert verdict.path == "wrapper", verdict.sentence
    assert verdict.env == {"LD_PRELOAD": wrapper}
    assert verdict.seconds < 10


def test_where_nothing_works_the_probe_says_what_the_host_lacks(wrapper: str) -> None:
    verdict = simulated_host(wrapper, gcc=False)
    assert not verdict.usable
    assert "\n" not in verdict.sentence
    assert "is larger than the 2696 bytes Debian 12's linux.uml can restore" in verdict.sentence
    assert "install gcc and libc6-dev" in verdict.sentence


def test_this_host_runs_uml_guests_and_the_choice_is_said() -> None:
    need(umlhost.KERNEL, root=True)
    verdict = umlhost.probe()
    assert verdict.usable, verdict.sentence
    assert verdict.sentence.startswith("UML: ")
    assert verdict.seconds < 10


def guest_vectors(verdict: umlhost.Verdict | None, rounds: str = "20000000") -> str:
    check = umlhost.build("vector_check")
    with UmlLab(1, verdict=verdict) as lab:
        result = lab.run("uml1", [check, rounds], timeout=300, check=True)
    return result.stdout


@pytest.fixture(scope="module")
def host_vectors(wrapper: str) -> Iterator[str]:
    check = umlhost.build("vector_check")
    out = subprocess.run([check, "20000000"], capture_output=True, text=True, check=True).stdout
    assert out.count("process ") == 4
    yield out


def test_vector_results_in_a_guest_equal_the_host_s(host_vectors: str) -> None:
    """Four processes preempted while SSE2, AVX2 and AVX-512 registers hold live
    values: the path the probe chose for this run, then the wrapper forced on."""
    assert guest_vectors(None) == host_vectors
    forced = umlhost.decide(mode="wrapper")
    assert forced.path == "wrapper", forced.sentence
    assert guest_vectors(forced) == host_vectors


def test_the_lab_refuses_to_boot_with_the_probe_s_sentence() -> None:
    sentence = "UML guests cannot run a user process on this host: (simulated)"
    lab = UmlLab(1, verdict=umlhost.Verdict("none", sentence))
    with pytest.raises(LabError) as caught, lab:
        pass
    assert str(caught.value) == sentence
