"""``ClaudeCodeSource.take_history`` (the report's path) holds the same messages, tokens and costs as
``poll`` (the monitor's and ``tail``'s events); an aggregator fed the history holds what one fed the
events holds; and a checkpoint gives back that same history without restoring its messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.ingest import generate_corpus
from claudetop.analysis.aggregate import Aggregator
from claudetop.pricing import PriceBook
from claudetop.sources import CheckpointStore, ClaudeCodeSource
from claudetop.sources.history import ROW_COLUMNS, History
from tests.integration.sources.transcript_lines import assistant_line
from tests.unit.sources.test_claude_code_rules import HAIKU, SONNET, _micros, write_fixture

MINUTES_S = 48 * 3600.0
ALL_S = 3650 * 86400.0


def _history(source: ClaudeCodeSource, detail_s: float = ALL_S) -> History:
    history = source.take_history(minute_span_s=MINUTES_S, detail_span_s=detail_s)
    assert history is not None
    return history


def _detail(history: History) -> dict[str, dict[str, object]]:
    return {row[0]: dict(zip(ROW_COLUMNS, row, strict=True)) for row in history.detail}


def test_the_fixture_history_holds_each_message_once_priced_at_published_prices(tmp_path: Path) -> None:
    write_fixture(tmp_path)
    history = _history(ClaudeCodeSource([tmp_path], settle_s=0))
    rows = _detail(history)
    assert set(rows) == {"cc:msgA:reqA", "cc:msgB:", "cc:msgC:reqC", "cc:msgS:reqS"} and history.events == 4
    a, c = rows["cc:msgA:reqA"], rows["cc:msgC:reqC"]
    assert (a["model"], a["input_tokens"], a["output_tokens"]) == (SONNET, 10, 120)
    assert (a["cache_write_5m_tokens"], a["cache_write_1h_tokens"], a["cache_read_tokens"]) == (
        400,
        600,
        5000,
    )
    assert a["cost_micros"] == _micros(SONNET, 10, 120, 400, 600, 5000)
    assert c["cost_micros"] == _micros(HAIKU, 2, 70, 0, 0, 3000)
    assert rows["cc:msgS:reqS"]["cost_micros"] is None
    priced = _micros(SONNET, 10, 120, 400, 600, 5000) + _micros(HAIKU, 2, 70, 0, 0, 3000)
    priced += _micros(HAIKU, 3, 40, 2000, 0, 0)
    sums = [
        sum(b[i] for b in history.buckets) for i in (9, 12, 13, 17, 18)
    ]  # events, in, out, cost, unpriced
    assert sums == [4, 10 + 3 + 2 + 0, 120 + 40 + 70 + 0, priced, 1]


def test_the_history_folds_to_what_the_events_fold_to(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    generate_corpus(config, 3 << 20, seed=11)
    write_fixture(config)  # messages of another day
    events = ClaudeCodeSource([config], settle_s=0).poll().events
    history = _history(ClaudeCodeSource([config], settle_s=0), detail_s=3 * 86400.0)
    assert len({e.ts.date() for e in events}) > 1 and len({e.model for e in events}) > 1
    assert history.events == len(events) and 0 < len(history.detail) < len(events)

    by_events, by_history = (Aggregator(detail_horizon=timedelta(days=3)) for _ in range(2))
    by_events.add(events)
    by_history.add_history(history)
    assert by_history.total() == by_events.total()
    assert by_history.window(by=("model",)) == by_events.window(by=("model",))
    start = datetime.fromtimestamp(by_events.oldest or 0, UTC).replace(minute=0, second=0, microsecond=0)
    end = datetime.fromtimestamp((by_events.newest or 0) + 3600, UTC)
    assert by_history.series(start, end, 3600) == by_events.series(start, end, 3600)
    assert (by_history.newest, by_history.oldest, by_history.events_folded) == (
        by_events.newest,
        by_events.oldest,
        by_events.events_folded,
    )
    since = datetime.fromtimestamp(history.newest or 0, UTC) - timedelta(days=3)
    replayed = by_history.recent_events(since)  # what-if replays: the same events, in time order
    assert sorted(replayed, key=repr) == sorted(by_events.recent_events(since), key=repr)
    assert [e.ts for e in replayed] == sorted(e.ts for e in events if e.ts >= since)


def test_a_checkpoint_gives_the_same_history_without_restoring_a_message(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    generate_corpus(config, 2 << 20, seed=5)
    store = CheckpointStore(tmp_path / "state")
    cold = _history(ClaudeCodeSource([config], checkpoints=store, settle_s=0))
    warm_source = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    assert _history(warm_source) == cold
    assert warm_source.dedupe.entries == [] and warm_source.events_read == cold.events
    assert warm_source.poll().events == []  # handed out with the history; nothing new since

    session = next((config / "projects").rglob("*.jsonl"))
    with open(session, "a") as handle:
        handle.write(assistant_line("msgNew", "2025-12-01T10:00:00.000Z", 3) + "\n")
    grown = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    fresh = _history(ClaudeCodeSource([config], settle_s=0))
    assert _history(grown) == fresh and fresh.events == cold.events + 1
    assert len(grown.dedupe.entries) == fresh.events  # new lines need every message, for deduplication
    assert _history(ClaudeCodeSource([config], checkpoints=store, settle_s=0)) == fresh


def test_later_polls_after_a_history_yield_only_new_messages(tmp_path: Path) -> None:
    write_fixture(tmp_path / "claude")
    store = CheckpointStore(tmp_path / "state")
    _history(ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0))
    source = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    assert _history(source).events == 4
    session = tmp_path / "claude" / "projects" / "-home-u-app" / "S1.jsonl"
    with open(session, "a") as handle:
        handle.write(assistant_line("msgLate", "2025-11-03T11:00:00.000Z", 9) + "\n")
    assert [e.output_tokens for e in source.poll().events] == [9]
    assert source.poll().events == [] and source.events_read == 5
    assert source.take_history(minute_span_s=MINUTES_S, detail_span_s=ALL_S) is None  # handed out already
    polled = ClaudeCodeSource([tmp_path / "claude"], settle_s=0)
    assert len(polled.poll().events) == 5
    assert polled.take_history(minute_span_s=MINUTES_S, detail_span_s=ALL_S) is None


def _damage_body(store: CheckpointStore, source: ClaudeCodeSource) -> None:
    """Cut the checkpoint's second line (its messages) short, as a bad disk or a stray edit would."""
    path = store.path_for(ClaudeCodeSource.kind, source._identity)
    head, _, body = path.read_bytes().partition(b"\n")
    path.write_bytes(head + b"\n" + body[: len(body) // 2])


def test_a_damaged_checkpoint_is_read_again_and_a_handed_out_history_is_not_handed_out_twice(
    tmp_path: Path,
) -> None:
    config = tmp_path / "claude"
    write_fixture(config)
    store = CheckpointStore(tmp_path / "state")
    saver = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    _history(saver)
    session = config / "projects" / "-home-u-app" / "S1.jsonl"

    def append(mid: str, output: int) -> None:
        with open(session, "a") as handle:
            handle.write(assistant_line(mid, "2025-11-03T11:00:00.000Z", output) + "\n")

    _damage_body(store, saver)
    append("msgLate", 9)
    polled = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    fresh = ClaudeCodeSource([config], settle_s=0).poll().events
    assert sorted(e.id for e in polled.poll().events) == sorted(e.id for e in fresh)  # all, read again

    _history(ClaudeCodeSource([config], checkpoints=store, settle_s=0))  # a checkpoint with its summary
    _damage_body(store, saver)
    handed_out = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    assert _history(handed_out).events == 5 and handed_out.dedupe.entries == []  # from the summary
    append("msgLater", 4)
    assert [e.output_tokens for e in handed_out.poll().events] == [4]  # the new message alone
    reference = ClaudeCodeSource([config], settle_s=0)
    assert len(reference.poll().events) == 6 == len(handed_out.dedupe.entries)
    assert handed_out.health().garbage_lines == reference.health().garbage_lines == 1  # counted once


def test_a_transcript_ending_in_an_unfinished_line_does_not_make_every_rerun_read_again(
    tmp_path: Path,
) -> None:
    config = tmp_path / "claude"
    write_fixture(config)
    store = CheckpointStore(tmp_path / "state")
    _history(ClaudeCodeSource([config], checkpoints=store, settle_s=0))
    session = config / "projects" / "-home-u-app" / "S1.jsonl"
    with open(session, "a") as handle:
        handle.write(
            assistant_line("msgCut", "2025-11-03T11:00:00.000Z", 9)[:-30]
        )  # a writer killed mid-line
    first = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    assert _history(first).events == 4 and first.dedupe.entries  # the new bytes were looked at
    again = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    assert _history(again).events == 4 and again.dedupe.entries == []  # and not again
    with open(session, "a") as handle:
        handle.write(assistant_line("msgNext", "2025-11-03T12:00:00.000Z", 4)[-30:] + "\n")
    finished = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    assert _history(finished) == _history(ClaudeCodeSource([config], settle_s=0))


def test_saved_prices_are_reused_only_under_the_same_price_book(tmp_path: Path) -> None:
    write_fixture(tmp_path / "claude")
    store = CheckpointStore(tmp_path / "state")
    listed = _detail(_history(ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)))
    half = PriceBook.from_overrides({"claude-sonnet-4-5": {"multiplier": Decimal("0.5")}})
    discounted = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, pricebook=half, settle_s=0)
    again = _detail(_history(discounted))
    a = _micros(SONNET, 10, 120, 400, 600, 5000)
    assert listed["cc:msgA:reqA"]["cost_micros"] == a
    assert again["cc:msgA:reqA"]["cost_micros"] == round(Decimal(a) / 2)
    assert again["cc:msgC:reqC"]["cost_micros"] == listed["cc:msgC:reqC"]["cost_micros"]
    same = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, pricebook=half, settle_s=0)
    same.poll()
    assert all(e.priced for e in same.dedupe.entries)  # restored with their prices, not priced again


def test_a_checkpoint_from_another_claudetop_version_is_read_again(tmp_path: Path) -> None:
    write_fixture(tmp_path / "claude")
    store = CheckpointStore(tmp_path / "state")
    first = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    first.poll()
    first.close()
    saved = store.load(ClaudeCodeSource.kind, first._identity)
    assert saved is not None
    body = saved.body()
    store.save(ClaudeCodeSource.kind, first._identity, {**saved.state, "reader": "0.0.1"}, body)
    again = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    assert again.follower.files == {}  # its rules may differ: nothing kept
    assert sorted(row[0] for row in _history(again).detail) == sorted(
        e.event_id for e in first.dedupe.entries
    )
