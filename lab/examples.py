"""The README's stack examples, as the labs run them.

The labs configure their stacks from the README's crm blocks, so the configuration an
administrator copies is the one the failover, migrate and Galera scenarios prove. The
README writes real but site-specific values (a VIP of 192.0.2.0/24, `/dev/drbd0`,
Debian's my.cnf); a lab replaces those parameters with its own, and may swap the agent
types (the reference flavour) or leave statements out (no DRBD on namespace nodes).
Nothing else is changed: resource ids, operations, clone meta-attributes and
constraints are the README's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
# The README's crm blocks, in order.
ACTIVE_PASSIVE, GALERA, REPLICATION = 0, 1, 2
KEYWORDS = ("params", "op", "meta")


def fenced_blocks(path: str) -> list[tuple[str, list[str]]]:
    """The fenced blocks of a markdown file: (info string, lines), in order (the one
    reader of the documents' examples: the labs, docs/MIGRATING.md's procedures and
    tests/contract/test_examples.py)."""
    blocks: list[tuple[str, list[str]]] = []
    block: list[str] | None = None
    tag = ""
    with open(path) as f:
        for line in f.read().splitlines():
            if block is None and line.startswith("```"):
                block, tag = [], line[3:].strip()
            elif block is not None and line.startswith("```"):
                blocks.append((tag, block))
                block = None
            elif block is not None:
                block.append(line)
    return blocks


def readme_block(index: int) -> str:
    """The README's index-th fenced block tagged crm."""
    return "\n".join([lines for tag, lines in fenced_blocks(README) if tag == "crm"][index])


def statements(text: str) -> list[list[str]]:
    """crm configure statements (continuation lines joined), as words."""
    joined = text.replace("\\\n", " ")
    return [line.split() for line in joined.splitlines() if line.strip()]


def adapt(
    text: str,
    *,
    params: Mapping[str, Mapping[str, str]] | None = None,
    ops: Mapping[str, Mapping[str, str]] | None = None,
    types: Mapping[str, str] | None = None,
    keep: Callable[[list[str]], bool] = lambda words: True,
) -> str:
    """text with, per primitive id, its parameters set (replaced or added), the
    attributes of its operations set (ops: {id: {"promote": "timeout=60s"}}, an
    operation name with its role as "monitor:Promoted"), its type swapped (types:
    {old: new}); statements for which keep is false left out."""
    out = []
    for statement in statements(text):
        if not keep(statement):
            continue
        words = statement
        if words[0] == "primitive":
            rid = words[1]
            words[2] = (types or {}).get(words[2], words[2])
            words = _set_params(words, dict((params or {}).get(rid, {})))
            words = _set_ops(words, dict((ops or {}).get(rid, {})))
        out.append(" ".join(words))
    return "\n".join(out)


def _set_params(words: list[str], wanted: dict[str, str]) -> list[str]:
    if not wanted:
        return words
    if "params" not in words:
        words = [*words[:3], "params", *words[3:]]
    start = words.index("params") + 1
    end = start
    while end < len(words) and words[end] not in KEYWORDS:
        name = words[end].split("=", 1)[0]
        if name in wanted:
            words[end] = f"{name}={wanted.pop(name)}"
        end += 1
    return [*words[:end], *(f"{k}={v}" for k, v in wanted.items()), *words[end:]]


def _set_ops(words: list[str], wanted: dict[str, str]) -> list[str]:
    for key, attrs in wanted.items():
        name, _, role = key.partition(":")
        found = False
        i = 0
        while i < len(words):
            if words[i] == "op" and i + 1 < len(words) and words[i + 1] == name:
                end = i + 2
                while end < len(words) and words[end] not in KEYWORDS:
                    end += 1
                current = dict(_pair(w) for w in words[i + 2 : end])
                if not role or current.get("role") == role:
                    current.update(_pair(w) for w in attrs.split())
                    words[i + 2 : end] = [f"{k}={v}" for k, v in current.items()]
                    found = True
            i += 1
        if not found:
            role_attr = f" role={role}" if role else ""
            words += ["op", name, *f"{attrs}{role_attr}".split()]
    return words


def _pair(word: str) -> tuple[str, str]:
    name, _, value = word.partition("=")
    return name, value


def mentions(*ids: str) -> Callable[[list[str]], bool]:
    """keep: statements that mention none of ids (as an id, or id:Role)."""

    def keep(words: list[str]) -> bool:
        return not any(w.split(":", 1)[0] in ids for w in words)

    return keep
