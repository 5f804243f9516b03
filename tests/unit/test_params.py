from __future__ import annotations

import pytest

from ocflib.exitcodes import OCF
from ocflib.params import (
    Boolean,
    Integer,
    IPAddress,
    Param,
    Path,
    Port,
    Problem,
    Select,
    String,
    Time,
    parse_params,
)


def test_strict_boolean_rejects_unknown_words() -> None:
    kind = Boolean(strict=True)
    assert kind.parse("yes") is True
    assert kind.parse("off") is False
    with pytest.raises(ValueError, match="not a boolean"):
        kind.parse("maybe")


def test_integer_bounds_and_syntax() -> None:
    kind = Integer(min=1, max=10)
    assert kind.parse(" 7 ") == 7
    for bad, message in (
        ("0", "at least 1"),
        ("11", "at most 10"),
        ("1.5", "not an integer"),
        ("", "not an integer"),
        ("٣", "not an integer"),
    ):
        with pytest.raises(ValueError, match=message):
            kind.parse(bad)
    assert Integer().parse("-3") == -3
    assert Port().parse("3306") == 3306
    with pytest.raises(ValueError):
        Port().parse("65536")


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30s", 30000),
        ("1m", 60000),
        ("500ms", 500),
        ("20", 20000),
        ("1.5s", 1500),
        ("2min", 120000),
        ("1h", 3600000),
        ("10 sec", 10000),
        ("250us", 0),
    ],
)
def test_time_units(text: str, ms: int) -> None:
    assert Time().parse(text) == ms


def test_time_rejects_garbage() -> None:
    for bad in ("", "s", "10 parsecs", "1.2.3s", "-5s"):
        with pytest.raises(ValueError):
            Time().parse(bad)


def test_select_and_string() -> None:
    kind = Select("auto", "force", "no")
    assert kind.parse("force") == "force"
    with pytest.raises(ValueError, match="must be one of 'auto', 'force', 'no'"):
        kind.parse("yes")
    with pytest.raises(ValueError, match="forbidden"):
        String().parse("a\nb")
    with pytest.raises(ValueError, match="longer than 3"):
        String(max_len=3).parse("abcd")


def test_ip_address_is_canonical() -> None:
    kind = IPAddress()
    assert kind.parse("2001:DB8:0:0:0:0:0:50").text == "2001:db8::50"
    assert kind.parse("192.0.2.5").version == 4
    for bad in ("192.0.2.050", "192.0.2", "256.1.1.1", "fe80::1%eth0", "10.0.0.0/8", "x"):
        with pytest.raises(ValueError):
            kind.parse(bad)
    with pytest.raises(ValueError, match="not an IPv4"):
        IPAddress(version=4).parse("::1")


def test_path_kind() -> None:
    assert Path().parse("/var/lib/mysql") == "/var/lib/mysql"
    for bad in ("relative", "/a/../etc", "/a\0b"):
        with pytest.raises(ValueError):
            Path().parse(bad)


A = Param("a", Integer(min=1), shortdesc="a", default="5")
B = Param("b", Boolean(), shortdesc="b", required=True)
C = Param("c", String(), shortdesc="c", aliases=("old_c",))
S = Param("s", Integer(), shortdesc="s", secret=True)


def test_parse_params_types_defaults_and_aliases() -> None:
    cfg, problems = parse_params([A, B, C], {"b": "yes", "old_c": "x", "unknown": "1"})
    assert problems == []
    assert cfg[A] == 5 and cfg[B] is True and cfg[C] == "x"
    assert not cfg.is_set(A) and cfg.is_set(B) and cfg.raw(C) == "x"


def test_empty_value_means_default() -> None:
    cfg, problems = parse_params([A, B], {"a": "", "b": "no"})
    assert problems == [] and cfg[A] == 5


def test_parse_params_reports_every_problem_and_never_leaks_secrets() -> None:
    cfg, problems = parse_params([A, B, C, S], {"a": "0", "s": "hunter2-not-a-number"})
    assert problems == [
        Problem("parameter a='0' must be at least 1", OCF.ERR_CONFIGURED),
        Problem("required parameter b is not set", OCF.ERR_CONFIGURED),
        Problem("parameter s=<redacted> is not an integer", OCF.ERR_CONFIGURED),
    ]
    assert cfg.get(A) is None and cfg.get(C) is None
    with pytest.raises(KeyError):
        cfg[B]


def test_values_the_shell_agent_accepts_get_its_meaning_and_a_warning() -> None:
    from ocflib.params import Boolean, Param, Select, parse_params

    flag = Param("flag", Boolean(), shortdesc="x", default="true")
    hashing = Param("hash", Select("a", "b", fallback="a"), shortdesc="x", default="a")
    name = Param("name", String(allowed="abc"), shortdesc="x")
    cfg, problems = parse_params(
        (flag, hashing, name), {"flag": "maybe", "hash": "C", "name": "  abc "}
    )
    assert (cfg[flag], cfg[hashing], cfg[name]) == (False, "a", "abc")
    assert [(int(p.rc), p.message) for p in problems] == [
        (
            0,
            "parameter flag='maybe' is not a boolean; taken as false, as the shell agents' "
            "ocf_is_true does (use true or false)",
        ),
        (0, "parameter hash='C' is not one of 'a', 'b'; 'a' is used, as the shell agent does"),
    ]
    strict = Param("strict", Boolean(strict=True), shortdesc="x")
    _, problems = parse_params((strict,), {"strict": "maybe"})
    assert [int(p.rc) for p in problems] == [6]


def test_secrets_keep_their_white_space() -> None:
    from ocflib.params import Param, parse_params

    secret = Param("pw", String(), shortdesc="x", secret=True)
    cfg, _ = parse_params((secret,), {"pw": " s3 "})
    assert cfg[secret] == " s3 "


@pytest.mark.parametrize(
    ("text", "value", "warned"),
    [
        ("true", True, False),
        ("yes", True, False),
        ("ON", True, False),
        ("1", True, False),
        ("ja", True, False),
        ("false", False, False),
        ("No", False, False),
        ("off", False, False),
        ("Yes", False, True),
        ("y", False, True),
        ("On", False, True),
        ("bogus", False, True),
    ],
)
def test_booleans_mean_what_ocf_is_true_makes_of_them(text: str, value: bool, warned: bool) -> None:
    from ocflib.params import Boolean, Param, parse_params

    flag = Param("flag", Boolean(), shortdesc="x")
    cfg, problems = parse_params((flag,), {"flag": text})
    assert cfg[flag] is value and bool(problems) is warned
