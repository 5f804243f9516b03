"""ocflib.galerastate: grastate.dat, recovery output, health and the election."""

from __future__ import annotations

import pytest

from ocflib.galerastate import (
    NodeView,
    elect,
    health,
    parse_grastate,
    parse_position,
    prepared_transactions,
    recovered_position,
    seqno_value,
    with_safe_to_bootstrap,
)

UUID = "ce79d7f2-ea5f-11f1-b478-7a93e54bc6b5"
GRASTATE = f"""# GALERA saved state
version: 2.1
uuid:    {UUID}
seqno:   -1
safe_to_bootstrap: 0
"""


def test_grastate_fields() -> None:
    state = parse_grastate(GRASTATE)
    assert (state.uuid, state.seqno, state.safe_to_bootstrap) == (UUID, -1, "0")
    assert state.has_history and state.position is None
    clean = parse_grastate(GRASTATE.replace("seqno:   -1", "seqno: 1234").replace(": 0", ": 1"))
    assert clean.position == f"{UUID}:1234" and clean.safe_to_bootstrap == "1"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "uuid: not-a-uuid\nseqno: 5\n",
        "uuid: 00000000-0000-0000-0000-000000000000\nseqno: 5\n",
        f"uuid: {UUID}\nseqno: $(reboot)\n",
        f"uuid: {UUID}\nseqno: 5; rm -rf /\n",
    ],
)
def test_grastate_malformed_reads_as_no_position(text: str) -> None:
    assert parse_grastate(text).position is None


def test_safe_to_bootstrap_rewritten_and_everything_else_kept() -> None:
    out = with_safe_to_bootstrap(GRASTATE)
    assert out == GRASTATE.replace("safe_to_bootstrap: 0", "safe_to_bootstrap: 1")
    older = f"uuid: {UUID}\nseqno: 7"  # galera 3 files have no such line
    assert with_safe_to_bootstrap(older) == older + "\nsafe_to_bootstrap: 1\n"


def test_recovered_position_is_the_last_one_logged() -> None:
    log = (
        "2026-11-27 12:38:17 0 [Note] WSREP: Recovered position: "
        f"{UUID}:17\n"
        "2026-11-27 12:38:18 0 [Note] WSREP: Recovered position: "
        f"{UUID.upper()}:18\n"
    )
    found = recovered_position(log)
    assert found is not None
    assert (found.uuid, found.seqno, found.gtid) == (UUID, 18, None)
    assert found.text == f"{UUID}:18" and found.published == "18"
    assert recovered_position("2026 [ERROR] Aborting\n") is None
    assert prepared_transactions("[ERROR] Found 2 prepared transactions! It means that")
    assert not prepared_transactions(log)


def test_a_gtid_mode_position_is_kept_whole() -> None:
    """wsrep_gtid_mode=ON (mariadbd 10.11's format string: "%s,%d-%d-%llu")."""
    line = f"2026-12-03  7:42:24 0 [Note] WSREP: Recovered position: {UUID}:4,7-3-3\n"
    found = recovered_position(line)
    assert found is not None
    assert (found.uuid, found.seqno, found.gtid) == (UUID, 4, "7-3-3")
    assert found.text == f"{UUID}:4,7-3-3" and found.published == "4,7-3-3"
    for bad in (f"{UUID}:4,7-3", f"{UUID}:4,x-3-3", f"{UUID}:4,7-3-3;rm"):
        assert recovered_position(f"WSREP: Recovered position: {bad}\n") is None
        assert parse_position(bad) is None
    again = parse_position(found.text)
    assert again is not None and again.text == found.text
    assert parse_position(f"{UUID}:4") is not None and parse_position("x" * 36 + ":4") is None
    assert not prepared_transactions(line)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        ("-1", -1),
        ("18446744073709551615", 0),
        (None, None),
        ("x", None),
        ("", None),
        ("42,0-1-42", 42),  # GTID mode, as the reference publishes it
        ("18446744073709551615,0-1-0", 0),
        ("42,0-1", None),
        ("42,", None),
        (",0-1-2", None),
    ],
)
def test_seqno_values_as_the_reference_compares_them(text: str | None, value: int | None) -> None:
    assert seqno_value(text) == value


HEALTHY = {
    "wsrep_cluster_status": "Primary",
    "wsrep_local_state": "4",
    "wsrep_local_state_comment": "Synced",
    "wsrep_ready": "ON",
    "wsrep_connected": "ON",
    "wsrep_cluster_conf_id": "3",
    "wsrep_cluster_state_uuid": UUID,
    "wsrep_cluster_size": "3",
}


@pytest.mark.parametrize(
    ("changes", "state", "words"),
    [
        ({}, "promoted", "Primary"),
        ({"wsrep_local_state": "2", "wsrep_local_state_comment": "Donor/Desynced"}, "promoted", ""),
        ({"wsrep_cluster_status": "non-Primary", "wsrep_local_state": "0"}, "failed", "primary"),
        ({"wsrep_ready": "OFF"}, "failed", "wsrep_ready=OFF"),
        ({"wsrep_local_state": "1", "wsrep_local_state_comment": "Joining"}, "joining", "joining"),
        ({"wsrep_local_state": "3", "wsrep_local_state_comment": "Joined"}, "joining", "Joined"),
        # GALERA pitfall: restored from a saved primary component without history
        ({"wsrep_cluster_conf_id": "18446744073709551615"}, "failed", "no cluster history"),
        ({"wsrep_cluster_conf_id": "-1"}, "failed", "no cluster history"),
        (
            {"wsrep_cluster_state_uuid": "00000000-0000-0000-0000-000000000000"},
            "failed",
            "no cluster history",
        ),
        ({"wsrep_cluster_status": None}, "failed", "wsrep_on"),
    ],
)
def test_health(changes: dict[str, str | None], state: str, words: str) -> None:
    seen = health({**HEALTHY, **changes})
    assert seen.state == state
    assert words in seen.why


def test_a_joiner_may_be_non_primary_only_during_promote() -> None:
    early = {**HEALTHY, "wsrep_cluster_status": "non-Primary", "wsrep_local_state": "1"}
    assert health(early).state == "failed"
    assert health(early, joining_ok=True).state == "joining"


def n(name: str, last: int | None = None, **kw: object) -> NodeView:
    return NodeView(name, last_committed=last, **kw)  # type: ignore[arg-type]


def test_election_waits_for_every_node_as_the_reference() -> None:
    e = elect([n("a", 10), n("b"), n("c", 12)])
    assert e.bootstrap is None and e.waiting == ("b",)
    assert "b" in e.why


def test_election_picks_the_most_advanced() -> None:
    assert elect([n("a", 10), n("b", 14), n("c", 12)]).bootstrap == "b"


def test_election_ties_go_as_in_the_reference() -> None:
    # recovered (no grastate) nodes lose ties; then the later in the address list
    assert elect([n("a", 5), n("b", 5), n("c", 5)]).bootstrap == "c"
    assert elect([n("a", 5), n("b", 5), n("c", 5, no_grastate=True)]).bootstrap == "b"
    # no commit anywhere (-1): the last node listed, as the reference's starting point
    assert elect([n("a", -1), n("b", -1), n("c", -1)]).bootstrap == "c"


def test_safe_to_bootstrap_wins_at_once() -> None:
    e = elect([n("a", 100), n("b"), n("c", 3, safe_to_bootstrap=True)])
    assert e.bootstrap == "c"


def test_an_absent_node_that_left_before_the_others_is_not_waited_for() -> None:
    e = elect([n("a", 120), n("b", 118), n("c", left_at=90, online=False)])
    assert e.bootstrap == "a"
    assert e.excused == ("c",)
    assert "left the primary component" in e.why


def test_an_absent_node_that_may_be_ahead_is_waited_for() -> None:
    # left_at above every published position: it may hold commits nobody else has
    e = elect([n("a", 80), n("b", 79), n("c", left_at=90, online=False)])
    assert e.bootstrap is None and e.waiting == ("c",)
    # no record at all: wait, whatever else is known
    assert elect([n("a", 80), n("b", 79), n("c", online=False)]).bootstrap is None


def test_an_absent_node_is_never_elected() -> None:
    e = elect([n("a", 7), n("b", 7), n("c", left_at=0, online=False)])
    assert e.bootstrap == "b"
    assert elect([n("a", -1), n("b", left_at=-1)]).bootstrap == "a"
