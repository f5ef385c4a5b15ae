"""``Deduper.add_record`` (the shortcut for repeated streaming lines) keeps exactly what ``add`` of
the built entry keeps: same entries in the same order, same event ids, same duplicate counts."""

from __future__ import annotations

import random

import pytest

from claudetop.sources.claude_code import Deduper, Entry
from claudetop.sources.claude_code_scan import Record


def _records(rng: random.Random, n: int) -> list[Record]:
    out: list[Record] = []
    for i in range(n):
        message = rng.choice(["m1", "m2", "m3", "m4", None])
        request = rng.choice(["r1", "r2", None])
        tokens = [rng.choice([0, 1, 2, 5]) for _ in range(5)]
        model = rng.choice(["claude-sonnet-4-5", "claude-haiku-4-5"])
        out.append(
            (f"cc:{message}:{request}:{i}", message, request, rng.random() < 0.3, "2025-10-01T08:00:00Z",
             model, "s", *tokens, rng.random() < 0.2, rng.choice([0, 0, 1]), rng.random() < 0.1)
        )  # fmt: skip
    return out


def _cost(entry: Entry) -> int:
    per_token = (3 if entry.model == "claude-sonnet-4-5" else 1) * (6 if entry.fast else 1)
    tokens = per_token * entry.input_tokens + 5 * per_token * entry.output_tokens + entry.cache_read
    return tokens * (11 if entry.us_geo else 10) // 10 + 10_000 * entry.web_searches


@pytest.mark.parametrize("seed", range(200))
def test_add_record_keeps_what_add_keeps(seed: int) -> None:
    rng = random.Random(seed)
    records = _records(rng, rng.randrange(1, 40))
    emit_after = rng.randrange(0, len(records) + 1)
    plain, fast = Deduper(), Deduper()
    for i, record in enumerate(records):
        if i == emit_after:
            for entry in [*plain.entries, *fast.entries]:
                entry.emitted = True
        plain.add(Entry.from_record(record, "p", "f"), _cost)
        fast.add_record(record, "p", "f", _cost)
    assert [e.to_json() for e in fast.entries] == [e.to_json() for e in plain.entries]
    assert (fast.duplicates, fast.late_duplicates) == (plain.duplicates, plain.late_duplicates)
