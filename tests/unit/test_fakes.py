"""The strict fakes of tests/fakes.py fail on anything unexpected."""

from __future__ import annotations

import pytest

from tests.fakes import FakeAccounts, FakeRunner


def test_fake_runner_checks_argv_order_input_env_and_timeout() -> None:
    fake = FakeRunner().expect(["a"]).expect(["b"], env={"X": "1"}).expect(["c"], timeout=5)
    with pytest.raises(AssertionError, match="As 1. command expected 'a' but was 'b'"):
        fake.run(["b"])
    fake = FakeRunner().expect(["a"])
    with pytest.raises(AssertionError, match="expected env None but got"):
        fake.run(["a"], env={"SECRET": "x"})  # an environment nobody expected
    fake = FakeRunner().expect(["b"], env={"X": "1"})
    with pytest.raises(AssertionError, match="expected env"):
        fake.run(["b"], env={"X": "2"})
    fake = FakeRunner().expect(["c"], timeout=5)
    with pytest.raises(AssertionError, match="expected timeout 5 but got 30"):
        fake.run(["c"], timeout=30)
    fake = FakeRunner().expect(["d"], input="in")
    with pytest.raises(AssertionError, match="expected input"):
        fake.run(["d"], input="other")
    fake = FakeRunner().expect(["e"])
    with pytest.raises(AssertionError, match="remaining expected calls"):
        fake.assert_done()
    with pytest.raises(AssertionError, match="nothing more was expected"):
        FakeRunner().run(["f"])


def test_fake_accounts_know_only_what_they_are_given() -> None:
    accounts = FakeAccounts({"mysql": (27, 28)}, {"mysql": 28})
    user = accounts.user("mysql")
    assert user is not None and (user.uid, user.gid) == (27, 28)
    assert accounts.user("root") is None and accounts.group("wheel") is None


def test_fake_processes_refuse_what_the_test_did_not_set_up() -> None:
    from tests.fakes import FakeProcesses

    procs = FakeProcesses()
    server = procs.add(4242, "mariadbd", uid=27)
    stranger = procs.add(5000, "sleep")
    del procs.table[5000]
    assert not procs.send_signal(stranger, 15)  # gone: not an error, nothing sent
    impostor = type(server)(4243, "mariadbd", "S", 1, 4243, 4243, 1, 27, 27, "")
    with pytest.raises(AssertionError, match="never set up"):
        procs.send_signal(impostor, 15)  # a process the test never set up
    assert procs.send_signal(server, 15) and procs.gone(server)
    assert procs.signals == [(4242, 15)]
    with pytest.raises(AssertionError, match="spawn of 'mysqld'; expected nothing"):
        procs.spawn(["mysqld"], {})


def test_fake_clock_moves_only_when_the_agent_pauses() -> None:
    from ocflib.run import Deadline
    from tests.fakes import FakeClock

    clock = FakeClock()
    deadline = Deadline(10.0, clock=clock.monotonic, sleep=clock.sleep)
    assert deadline.remaining() == 9.0
    deadline.nap(2.0)
    deadline.nap(100.0)  # never past the budget
    assert clock.pauses == [2.0, 7.0] and deadline.expired()
    polled = []
    assert not Deadline(10.0, clock=clock.monotonic, sleep=clock.sleep).wait_until(
        lambda: polled.append(1), within=1.0
    )
    assert len(polled) >= 5 and abs(sum(clock.pauses[2:]) - 1.0) < 1e-9  # 5, 10, ... 50 ms
