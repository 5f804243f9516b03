"""The rows of docs/differences.md's table that apply to one parameter set, as
pyha migrate lists them: the ones that keep the configuration's meaning are shown, the
ones that change what the resource does need --force."""

from __future__ import annotations

from ocflib.admin.differences import differences, parameter_types

REF_IP = {"ip": "string", "cidr_netmask": "string", "clusterip_hash": "string"}
REF_IP |= {"lvs_ipv6_addrlabel": "boolean", "unique_clone_address": "boolean"}
PYHA_IP = {**REF_IP, "check_duplicate": "boolean"}
IP = ("ocf:heartbeat:IPaddr2", "ocf:pyha:IPaddr2-py")


def found(params: dict[str, str], back: bool = False) -> list[tuple[str, bool]]:
    source, target = IP[::-1] if back else IP
    types = (PYHA_IP, REF_IP) if back else (REF_IP, PYHA_IP)
    return [(d.parameter, d.blocks) for d in differences(source, target, params, *types)]


def test_a_plain_configuration_has_no_difference() -> None:
    assert found({"ip": "192.0.2.10", "cidr_netmask": "24"}) == []
    assert found({"ip": "192.0.2.10", "cidr_netmask": "24"}, back=True) == []


def test_values_the_reference_reads_its_own_way_keep_their_meaning() -> None:
    assert found({"ip": " 192.0.2.10 "}) == [("ip", False)]  # white space
    assert found({"ip": "192.0.2.10", "cidr_netmask": ""}) == [("cidr_netmask", False)]
    assert found({"ip": "192.0.2.10", "unique_clone_address": "ja"}) == [
        ("unique_clone_address", False)
    ]
    assert found({"ip": "192.0.2.10", "clusterip_hash": "round-robin"}) == [
        ("clusterip_hash", False)
    ]
    assert found({"ip": "192.0.2.10", "lvs_ipv6_addrlabel": "true"}) == [
        ("lvs_ipv6_addrlabel", False)
    ]
    assert found({"ip": "2001:db8::1", "lvs_ipv6_addrlabel": "true"}) == []
    # a boolean spelled as ocf_is_true spells it is no difference, in any case
    assert found({"ip": "192.0.2.10", "unique_clone_address": "Yes"}) == []


def test_a_parameter_one_agent_does_not_know_blocks_both_ways() -> None:
    assert found({"ip": "192.0.2.10", "check_duplicate": "true"}) == [("check_duplicate", True)]
    assert found({"ip": "192.0.2.10", "check_duplicate": "true"}, back=True) == [
        ("check_duplicate", True)
    ]
    # trace_ra and friends are every shell agent's, meta-data or not
    assert found({"ip": "192.0.2.10", "trace_ra": "1", "trace_file": "/tmp/t"}) == []


def test_an_agent_whose_meta_data_is_unknown_is_not_guessed_at() -> None:
    params = {"ip": "192.0.2.10", "check_duplicate": "true"}
    assert differences(*IP, params, None, PYHA_IP) == []
    assert differences(*IP, params, REF_IP, None) == []


def test_secrets_are_not_reported_for_their_white_space() -> None:
    types = {"test_passwd": "string", "client_binary": "string"}
    got = differences(
        "ocf:heartbeat:mysql",
        "ocf:pyha:mysql-py",
        {"test_passwd": " pw ", "client_binary": "/usr/bin/mysql"},
        types,
        types,
    )
    assert [(d.parameter, d.blocks) for d in got] == [("client_binary", False)]
    assert all("pw" not in d.text for d in got)


def test_parameter_types_come_from_meta_data() -> None:
    xml = (
        '<resource-agent name="x"><parameters>'
        '<parameter name="a"><content type="boolean"/></parameter>'
        '<parameter name="b"/></parameters></resource-agent>'
    )
    assert parameter_types(xml) == {"a": "boolean", "b": "string"}
