"""The bootstrap election over arbitrary cluster states: it never names a node
that is less advanced than one it knows of, never an absent one, never guesses
about a node it has no record of, and agrees with itself."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ocflib.galerastate import NodeView, elect

SEQNO = st.integers(min_value=-1, max_value=2**40)


@st.composite
def clusters(draw: st.DrawFn) -> list[NodeView]:
    size = draw(st.integers(min_value=1, max_value=5))
    nodes = []
    for i in range(size):
        published = draw(st.booleans())
        nodes.append(
            NodeView(
                f"node{i}",
                last_committed=draw(SEQNO) if published else None,
                safe_to_bootstrap=published and draw(st.integers(0, 9)) == 0,
                no_grastate=draw(st.booleans()),
                left_at=None if published or draw(st.booleans()) else draw(SEQNO),
                online=published or draw(st.booleans()),
            )
        )
    return nodes


@given(clusters())
def test_never_less_advanced_than_a_known_node(nodes: list[NodeView]) -> None:
    e = elect(nodes)
    if e.bootstrap is None:
        return
    chosen = next(v for v in nodes if v.name == e.bootstrap)
    assert chosen.last_committed is not None, "an absent node was elected"
    if chosen.safe_to_bootstrap:
        return  # galera's own word: the last node to leave cleanly
    best = max(0, chosen.last_committed)
    for v in nodes:
        if v.last_committed is not None:
            assert v.last_committed <= best, (v, e)
        else:  # not waited for: only with a record that it cannot be ahead
            assert v.left_at is not None and v.left_at <= best, (v, e)


@given(clusters())
def test_waits_for_every_unaccounted_node(nodes: list[NodeView]) -> None:
    e = elect(nodes)
    unaccounted = [v.name for v in nodes if v.last_committed is None and v.left_at is None]
    if unaccounted and not any(v.safe_to_bootstrap for v in nodes):
        assert e.bootstrap is None
        assert set(unaccounted) <= set(e.waiting)


@given(clusters())
def test_deterministic_whatever_node_computes_it(nodes: list[NodeView]) -> None:
    # every node runs the election on the same published facts: same answer
    first = elect(nodes)
    again = elect(
        [
            NodeView(
                v.name,
                last_committed=v.last_committed,
                safe_to_bootstrap=v.safe_to_bootstrap,
                no_grastate=v.no_grastate,
                left_at=v.left_at,
                online=v.online,
            )
            for v in nodes
        ]
    )
    assert (first.bootstrap, first.waiting) == (again.bootstrap, again.waiting)
