"""A state machine over IPaddr2-py and a model of the kernel's address table.

Random sequences of start, stop, monitor and out-of-band removals: start and
stop are idempotent, start leaves the address on eth0, stop removes it, and
monitor says 0 exactly when the address is there (7 otherwise).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ocflib.agents import ipaddr2
from ocflib.exitcodes import OCF
from ocflib.run import Result
from tests.conftest import dispatch
from tests.fakes import FakeNetwork, FakeRunner, ocf_env

ADDRESSES = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]
BASE = "3: eth0    inet 192.0.2.1/24 brd 192.0.2.255 scope global eth0\\ valid_lft forever"


class KernelModel(FakeRunner):
    """Answers `ip` the way the kernel would, from a set of addresses on eth0."""

    def __init__(self) -> None:
        super().__init__()
        self.table: set[str] = set()

    def run(
        self,
        argv: Sequence[str],
        *,
        input: str | None = None,
        ok: Collection[int] | None = (0,),
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        words = list(argv)
        rc, out, err = 0, "", ""
        if words[:6] == ["ip", "-o", "-f", "inet", "addr", "show"]:
            lines = [BASE] + [
                f"3: eth0    inet {a}/24 brd 192.0.2.255 scope global secondary eth0\\ x"
                for a in sorted(self.table)
            ]
            out = "\n".join(lines) + "\n"
        elif words[:7] == ["ip", "-o", "-f", "inet", "route", "list", "match"]:
            out = "192.0.2.0/24 dev eth0 proto kernel src 192.0.2.1\n"
        elif words[:5] == ["ip", "-f", "inet", "addr", "add"]:
            address = words[5].split("/")[0]
            if address in self.table:
                rc, err = 2, "RTNETLINK answers: File exists"
            self.table.add(address)
        elif words[:5] == ["ip", "-f", "inet", "addr", "delete"]:
            address = words[5].split("/")[0]
            if address not in self.table:
                rc, err = 2, "RTNETLINK answers: Cannot assign requested address"
            self.table.discard(address)
        elif words[:3] == ["ip", "link", "set"]:
            pass
        else:
            raise AssertionError(f"unexpected command {words}")
        self.expect(argv, out, err, rc)
        return super().run(argv, input=input, ok=ok, timeout=timeout, env=env)


@settings(max_examples=60, stateful_step_count=25, deadline=None)
class IPaddr2Machine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.kernel = KernelModel()
        self.net = FakeNetwork({"eth0"})  # announcements are recorded, never sent

    def act(self, action: str, address: str, interval: int = 0) -> int:
        env = ocf_env(interval_ms=interval, ip=address, check_duplicate="false")
        env["HA_RSCTMP"] = "/nonexistent-pyha"
        return dispatch(ipaddr2.AGENT, action, env, self.kernel, net=self.net).rc

    @rule(address=st.sampled_from(ADDRESSES))
    def start(self, address: str) -> None:
        assert self.act("start", address) == OCF.SUCCESS
        assert address in self.kernel.table

    @rule(address=st.sampled_from(ADDRESSES))
    def stop(self, address: str) -> None:
        assert self.act("stop", address) == OCF.SUCCESS
        assert address not in self.kernel.table

    @rule(address=st.sampled_from(ADDRESSES), recurring=st.booleans())
    def monitor(self, address: str, recurring: bool) -> None:
        rc = self.act("monitor", address, 10000 if recurring else 0)
        assert rc == (OCF.SUCCESS if address in self.kernel.table else OCF.NOT_RUNNING)

    @rule(address=st.sampled_from(ADDRESSES))
    def removed_behind_the_agents_back(self, address: str) -> None:
        self.kernel.table.discard(address)

    @invariant()
    def only_managed_addresses(self) -> None:
        assert self.kernel.table <= set(ADDRESSES)


TestIPaddr2Machine = IPaddr2Machine.TestCase
