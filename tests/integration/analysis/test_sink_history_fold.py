"""Folding a real SQLite sink's history through SQL aggregates gives the same numbers as folding its
events one by one; a ``SinkSource`` that handed its history over adds only what is newer."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from claudetop.analysis.aggregate import DIMENSIONS, Aggregator
from claudetop.model import Endpoint, PolicyDecision, PolicyMode, UsageEvent
from claudetop.sinks import open_sink
from claudetop.sources.checkpoints import CheckpointStore
from claudetop.sources.sink import SinkSource
from claudetop.sources.sink_history import read_sink_history
from tests.unit.analysis.helpers import T0, ev, prefix


def _stream() -> list[UsageEvent]:
    p1, p2 = prefix("sys-a", 2000), prefix("sys-b", 1500, ttl="1h")
    out: list[UsageEvent] = []
    for i in range(400):
        at = timedelta(minutes=17 * i)  # ~4.7 days, so both hour and minute buckets are used
        kind = i % 8
        common = {
            "task": ("chat", "extraction", None)[i % 3],
            "host": f"h{i % 2}",
            "app": "app" if i % 5 else None,
        }
        if kind == 0:
            out.append(
                ev(
                    at,
                    input_tokens=100,
                    cache_write_5m_tokens=2000,
                    output_tokens=50,
                    prefixes=(p1,),
                    **common,
                )
            )
        elif kind == 1:
            out.append(
                ev(
                    at,
                    input_tokens=100,
                    cache_read_tokens=2000,
                    output_tokens=900,
                    prefixes=(p1,),
                    stop_reason="max_tokens",
                    **common,
                )
            )
        elif kind == 2:
            out.append(
                ev(
                    at,
                    endpoint=Endpoint.BATCH_RESULT,
                    model="claude-haiku-4-5",
                    input_tokens=5000,
                    output_tokens=700,
                    batch_id="b1",
                    deferred=True,
                    **common,
                )
            )
        elif kind == 3:
            out.append(
                ev(at, endpoint=Endpoint.BATCH_RETRIEVE, batch_id="b1", status=429 if i % 16 == 3 else 200)
            )
        elif kind == 4:
            out.append(ev(at, model="claude-mystery-1", input_tokens=10, cost_micros=None, **common))
        elif kind == 5:
            out.append(ev(at, status=529, error_type="overloaded_error", retries=2, **common))
        elif kind == 6:
            decision = PolicyDecision(
                policy="cache",
                mode=PolicyMode.SHADOW,
                action="cache ttl=1h",
                changed_request=False,
                saving_micros=1234,
            )
            out.append(
                ev(
                    at,
                    model="claude-opus-4-7",
                    input_tokens=300,
                    cache_write_1h_tokens=1500,
                    output_tokens=80,
                    prefixes=(p2,),
                    policies=(decision,),
                    service_tier="batch",
                    **common,
                )
            )
        else:
            out.append(ev(at, input_tokens=40, output_tokens=40, retries=1, **common))
    return out  # fmt: skip


def _counts(a: Aggregator) -> dict[tuple[object, ...], tuple[int, ...]]:
    return {k: c.as_tuple() for k, c in a.window(by=DIMENSIONS).items()}


def test_history_fold_matches_event_fold(tmp_path: Path) -> None:
    events = _stream()
    sink = open_sink(tmp_path / "s.db")
    sink.write_events(events)
    sink.close()

    one_by_one = Aggregator(minute_horizon=timedelta(hours=48))
    one_by_one.add(events)
    from_sql = Aggregator(minute_horizon=timedelta(hours=48), detail_horizon=timedelta(days=30))
    history = read_sink_history(tmp_path / "s.db", minute_span_s=48 * 3600, detail_span_s=30 * 86400)
    from_sql.add_history(history)

    assert history.last_seq == len(events) and from_sql.events_folded == len(events)
    assert _counts(from_sql) == _counts(one_by_one)
    assert from_sql.total().as_tuple() == one_by_one.total().as_tuple()
    # minute resolution within the horizon, hours before it, in both
    recent = T0 + timedelta(minutes=17 * 399) - timedelta(hours=2)
    assert from_sql.total(recent).as_tuple() == one_by_one.total(recent).as_tuple()
    assert {k: (p.calls, p.rate_limited) for k, p in from_sql.polls.items()} == {
        k: (p.calls, p.rate_limited) for k, p in one_by_one.polls.items()
    }
    assert {k: (t.decisions, t.saving_micros) for k, t in from_sql.policy_tallies.items()} == {
        k: (t.decisions, t.saving_micros) for k, t in one_by_one.policy_tallies.items()
    }
    for key, p in one_by_one.prefixes.items():
        q = from_sql.prefixes[key]
        assert (q.seen, q.writes_5m, q.writes_1h, q.reads, q.rewrites_after_gap) == (
            p.seen, p.writes_5m, p.writes_1h, p.reads, p.rewrites_after_gap,
        )  # fmt: skip
    for task, t in one_by_one.tasks.items():
        u = from_sql.tasks[task]
        assert (u.requests, u.system_changes, u.routed.as_tuple(), u.unrouted.as_tuple()) == (
            t.requests, t.system_changes, t.routed.as_tuple(), t.unrouted.as_tuple(),
        )  # fmt: skip
    replayed = from_sql.recent_events(T0 - timedelta(days=1))
    assert sum(e.cost_micros or 0 for e in replayed) == one_by_one.total().cost_micros
    assert [e.id for e in from_sql.live] == [e.id for e in list(events)[-200:]]


def test_detail_tables_only_cover_the_detail_horizon(tmp_path: Path) -> None:
    events = _stream()
    sink = open_sink(tmp_path / "s.db")
    sink.write_events(events)
    sink.close()
    agg = Aggregator(detail_horizon=timedelta(days=1))
    agg.add_history(read_sink_history(tmp_path / "s.db", minute_span_s=48 * 3600, detail_span_s=86400))
    newest = T0 + timedelta(minutes=17 * 399)
    assert agg.detail_since == (newest - timedelta(days=1)).timestamp()
    assert all(e.ts >= newest - timedelta(days=1) for e in agg.recent)
    assert agg.total().requests == sum(e.billable for e in events)


def test_a_sink_hands_over_its_history_once_then_polls_only_newer_events(tmp_path: Path) -> None:
    events = _stream()
    sink = open_sink(tmp_path / "s.db")
    sink.write_events(events[:300])
    source = SinkSource(tmp_path / "s.db")
    history = source.take_history(minute_span_s=48 * 3600, detail_span_s=86400)
    assert history is not None and history.events == 300 and source.events_read == 300
    assert source.take_history(minute_span_s=48 * 3600, detail_span_s=86400) is None  # handed over already
    sink.write_events(events[300:])
    sink.close()
    agg = Aggregator()
    agg.add_history(history)
    delta = source.poll()
    source.close()
    assert [e.id for e in delta.events] == [e.id for e in events[300:]]
    agg.add(delta.events)
    reference = Aggregator()
    reference.add(events)
    assert agg.total().as_tuple() == reference.total().as_tuple()
    missing = SinkSource(tmp_path / "none.db")
    assert missing.take_history(minute_span_s=48 * 3600, detail_span_s=86400) is None


def test_a_history_taken_from_a_replaced_sink_is_not_read_again_for_an_older_checkpoint(
    tmp_path: Path,
) -> None:
    """A checkpoint remembers the sink file it was reading; the history comes from the file there now,
    and the polls after it continue in that file, not from its start."""
    events = _stream()
    store = CheckpointStore(tmp_path / "state")
    old = open_sink(tmp_path / "s.db")
    old.write_events(events[:10])
    old.close()
    first = SinkSource(tmp_path / "s.db", checkpoints=store)
    assert len(first.poll().events) == 10
    first.close()
    (tmp_path / "s.db").unlink()
    new = open_sink(tmp_path / "s.db")
    new.write_events(events[10:300])
    source = SinkSource(tmp_path / "s.db", checkpoints=store)
    history = source.take_history(minute_span_s=48 * 3600, detail_span_s=86400)
    assert history is not None and history.events == 290
    new.write_events(events[300:])
    new.close()
    assert [e.id for e in source.poll().events] == [e.id for e in events[300:]]
    assert "recreated" not in (source.health().message or "")
