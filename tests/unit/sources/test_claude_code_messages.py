"""``ClaudeCodeSource.poll_messages`` (the report's fast path) yields the same messages, tokens and costs
as ``poll`` (the monitor's and ``tail``'s events), and an aggregator fed them through
``Aggregator.add_messages`` holds what one fed the events holds."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.ingest import generate_corpus
from claudetop.analysis.aggregate import Aggregator
from claudetop.model import UsageEvent
from claudetop.pricing import PriceBook
from claudetop.sources import CheckpointStore, ClaudeCodeSource
from tests.unit.sources.test_claude_code_rules import HAIKU, SONNET, _micros, write_fixture

FIELDS = ("id", "ts", "model", "input", "output", "write_5m", "write_1h", "read", "cost")


def _as_message(e: UsageEvent) -> tuple[object, ...]:
    return (
        e.id, e.ts, e.model, e.input_tokens, e.output_tokens, e.cache_write_5m_tokens,
        e.cache_write_1h_tokens, e.cache_read_tokens, e.cost_micros,
    )  # fmt: skip


def _by_id(rows: list[tuple[object, ...]]) -> dict[object, tuple[object, ...]]:
    """Messages by id, with the timestamp text parsed (they keep the transcript's spelling of it)."""
    return {r[0]: (r[0], datetime.fromisoformat(str(r[1])), *r[2:]) for r in rows}


def test_messages_of_the_fixture_are_priced_like_published_prices(tmp_path: Path) -> None:
    write_fixture(tmp_path)
    rows = ClaudeCodeSource([tmp_path], settle_s=0).poll_messages()
    by_id = {r[0]: dict(zip(FIELDS, r, strict=True)) for r in rows}
    assert set(by_id) == {"cc:msgA:reqA", "cc:msgB:", "cc:msgC:reqC", "cc:msgS:reqS"}
    a, c = by_id["cc:msgA:reqA"], by_id["cc:msgC:reqC"]
    assert (a["model"], a["input"], a["output"]) == (SONNET, 10, 120)
    assert (a["write_5m"], a["write_1h"], a["read"]) == (400, 600, 5000)
    assert a["cost"] == _micros(SONNET, 10, 120, 400, 600, 5000)
    assert c["cost"] == _micros(HAIKU, 2, 70, 0, 0, 3000)
    assert by_id["cc:msgS:reqS"]["cost"] is None


def test_messages_equal_events_and_fold_to_the_same_counters(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    generate_corpus(config, 3 << 20, seed=11)
    write_fixture(config)  # messages of another day
    events = ClaudeCodeSource([config], settle_s=0).poll().events
    store = CheckpointStore(tmp_path / "state")
    cold = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    rows = cold.poll_messages()
    cold.close()
    warm = ClaudeCodeSource([config], checkpoints=store, settle_s=0).poll_messages()

    assert len({e.ts.date() for e in events}) > 1 and len({e.model for e in events}) > 1
    assert len(rows) == len(events) == len(warm)
    assert _by_id(rows) == {e.id: _as_message(e) for e in events} == _by_id(warm)
    by_events, by_rows = (Aggregator(detail_horizon=timedelta(days=3650)) for _ in range(2))
    by_events.add(events)
    assert by_rows.add_messages(rows) == len(rows)
    newest = sorted(rows, key=lambda r: str(r[1]))[-3:]  # ids are remembered for dedupe_horizon
    assert by_rows.add_messages(newest) == 0 and by_rows.duplicates == 3
    assert by_rows.total() == by_events.total()
    assert by_rows.window(None, None, by=("model",)) == by_events.window(None, None, by=("model",))
    assert by_rows.minutes == by_events.minutes and by_rows.hours == by_events.hours
    assert list(by_rows.recent) == list(by_events.recent)
    assert (by_rows.newest, by_rows.oldest, by_rows.events_folded) == (
        by_events.newest,
        by_events.oldest,
        by_events.events_folded,
    )


def test_saved_prices_are_reused_only_under_the_same_price_book(tmp_path: Path) -> None:
    write_fixture(tmp_path / "claude")
    store = CheckpointStore(tmp_path / "state")
    cold = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    listed = {r[0]: r[8] for r in cold.poll_messages()}
    cold.close()
    same = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    assert {r[0]: r[8] for r in same.poll_messages()} == listed
    assert all(e.priced for e in same.dedupe.entries)  # restored with their prices, not priced again
    half = PriceBook.from_overrides({"claude-sonnet-4-5": {"multiplier": Decimal("0.5")}})
    discounted = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, pricebook=half, settle_s=0)
    again = {r[0]: r[8] for r in discounted.poll_messages()}
    a = _micros(SONNET, 10, 120, 400, 600, 5000)
    assert listed["cc:msgA:reqA"] == a and again["cc:msgA:reqA"] == round(Decimal(a) / 2)
    assert again["cc:msgC:reqC"] == listed["cc:msgC:reqC"] == _micros(HAIKU, 2, 70, 0, 0, 3000)


def test_a_checkpoint_from_another_claudetop_version_is_read_again(tmp_path: Path) -> None:
    write_fixture(tmp_path / "claude")
    store = CheckpointStore(tmp_path / "state")
    first = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    first.poll()
    first.close()
    saved = store.load(ClaudeCodeSource.kind, first._identity)
    assert saved is not None
    store.save(ClaudeCodeSource.kind, first._identity, {**saved, "reader": "0.0.1"})
    again = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    assert again.dedupe.entries == [] and again.follower.files == {}  # its rules may differ: nothing kept
    assert sorted(r[0] for r in again.poll_messages()) == sorted(e.event_id for e in first.dedupe.entries)
