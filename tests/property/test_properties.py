"""Properties over arbitrary input: escaping, parsing, dispatch never escapes its contract."""

from __future__ import annotations

import ipaddress
import shlex
import xml.etree.ElementTree as ET

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocflib import iproute
from ocflib.agent import Action, Agent
from ocflib.agents import ipaddr2
from ocflib.commandline import quote
from ocflib.exitcodes import OCF
from ocflib.ipaddr import parse_ip
from ocflib.params import Boolean, Integer, Param, String, Time, parse_params
from tests.conftest import dispatch
from tests.fakes import FakeNetwork, FakeRunner

XML_TEXT = st.text(
    alphabet=st.characters(
        blacklist_categories=["Cs"],
        blacklist_characters="".join(
            map(chr, [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF])
        ),
    )
)


@given(short=XML_TEXT, long=XML_TEXT, default=XML_TEXT)
def test_metadata_round_trips_any_text(short: str, long: str, default: str) -> None:
    agent = Agent(
        "p",
        version="1",
        shortdesc=short,
        longdesc=long,
        params=[Param("x", String(), shortdesc=short, longdesc=long, default=default)],
        actions=[Action("start", None, timeout=1)],
    )
    root = ET.fromstring(agent.metadata().split("\n", 2)[2])
    assert root.findtext("shortdesc") == short
    assert root.findtext("longdesc") == long
    param = root.find("parameters/parameter")
    assert param is not None
    assert param.findtext("shortdesc") == short
    content = param.find("content")
    assert content is not None and content.get("default") == default


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integer_parse_round_trip(n: int) -> None:
    assert Integer().parse(str(n)) == n


@given(st.booleans(), st.sampled_from(["{}", "{}".upper(), " {} "]))
def test_boolean_round_trip(value: bool, shape: str) -> None:
    assert Boolean().parse(shape.format("true" if value else "false")) is value


@given(
    st.integers(min_value=0, max_value=10**9),
    st.sampled_from([("ms", 1), ("s", 1000), ("m", 60000)]),
)
def test_time_units_scale(n: int, unit: tuple[str, int]) -> None:
    assert Time().parse(f"{n}{unit[0]}") == n * unit[1]


@given(st.binary(min_size=16, max_size=16))
def test_ipv6_canonical_form_agrees_with_ipaddress(packed: bytes) -> None:
    ours = parse_ip(ipaddress.IPv6Address(packed).exploded)
    assert ipaddress.ip_address(ours.text) == ipaddress.IPv6Address(packed)
    assert parse_ip(ours.text) == ours and parse_ip(ours.text).text == ours.text


@given(st.binary(min_size=4, max_size=4))
def test_ipv4_round_trip(packed: bytes) -> None:
    text = str(ipaddress.IPv4Address(packed))
    assert parse_ip(text).text == text and parse_ip(text).packed == packed


@given(st.text())
def test_parse_ip_raises_only_value_error(text: str) -> None:
    try:
        parse_ip(text)
    except ValueError:
        pass


@given(st.text())
def test_quote_matches_shlex(word: str) -> None:
    assert quote(word) == shlex.quote(word)


@given(
    st.dictionaries(
        st.sampled_from([p.name for p in ipaddr2.PARAMS] + ["netmask", "junk"]),
        st.text(max_size=40),
    )
)
def test_parse_params_never_raises(reskeys: dict[str, str]) -> None:
    cfg, problems = parse_params(ipaddr2.PARAMS, reskeys)
    assert all(p.rc in (OCF.ERR_CONFIGURED, OCF.SUCCESS) and p.message for p in problems)


@given(st.text(max_size=2000))
def test_ip_output_parsers_never_raise(text: str) -> None:
    iproute.parse_addr_lines(text)
    iproute.parse_routes(text)
    iproute.parse_routes(text, table_local=True)


class RandomRunner(FakeRunner):
    """Answers any command with data drawn by hypothesis."""

    def __init__(self, data: st.DataObject) -> None:
        super().__init__()
        self.data = data

    def run(self, argv, *, input=None, ok=(0,), timeout=None, env=None):  # type: ignore[no-untyped-def]
        rc = self.data.draw(st.sampled_from([0, 0, 0, 1, 2, 127]))
        out = self.data.draw(
            st.sampled_from(
                [
                    "",
                    "192.0.2.0/24 dev eth0 proto kernel src 192.0.2.1\n",
                    "3: eth0    inet 192.0.2.50/24 brd 192.0.2.255 scope global eth0\\ x\n",
                    "3: eth0    inet6 2001:db8::50/64 scope global tentative dadfailed\\ x\n",
                    "garbage \x00 / // dev",
                    "default via 1.2.3.4 dev\n",
                ]
            )
        )
        self.expect(argv, out, "err", rc)
        return super().run(argv, input=input, ok=ok, timeout=timeout, env=env)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    action=st.sampled_from(
        [
            "start",
            "stop",
            "monitor",
            "status",
            "validate-all",
            "meta-data",
            "notify",
            "promote",
            "",
            "bogus",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "ip",
                "nic",
                "cidr_netmask",
                "broadcast",
                "iflabel",
                "arp_count",
                "nodad",
                "check_duplicate",
                "unique_clone_address",
                "preferred_lft",
            ]
        ),
        st.sampled_from(
            [
                "192.0.2.50",
                "2001:db8::5",
                "fe80::1",
                "eth0",
                "24",
                "64",
                "+",
                "x",
                "",
                "true",
                "0",
                "1",
            ]
        ),
    ),
    interval=st.sampled_from(["0", "10000", None]),
    data=st.data(),
)
def test_dispatch_always_returns_a_defined_code(
    action: str, params: dict[str, str], interval: str | None, data: st.DataObject
) -> None:
    env = {f"OCF_RESKEY_{k}": v for k, v in params.items()}
    env["OCF_RESKEY_check_duplicate"] = "false"
    env["OCF_RESKEY_arp_bg"] = "false"
    env["OCF_RESKEY_arp_count"] = env.get("OCF_RESKEY_arp_count", "1")
    env["HA_RSCTMP"] = "/nonexistent-pyha"
    if interval is not None:
        env["OCF_RESKEY_CRM_meta_interval"] = interval
    # the kernel answers at random (RandomRunner); eth0 is the only interface, announcements
    # are recorded (FakeNetwork) and the clock moves only when the agent pauses
    out = dispatch(
        ipaddr2.AGENT, action or None, env, RandomRunner(data), net=FakeNetwork({"eth0"})
    )
    assert OCF.is_valid(out.rc)
    assert "Traceback" not in out.stderr
    if action == "stop":
        assert out.rc != OCF.NOT_RUNNING
    if out.rc not in (OCF.SUCCESS, OCF.NOT_RUNNING):
        assert len(out.reasons) == 1, out.stderr
