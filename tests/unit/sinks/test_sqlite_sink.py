"""The SQLite sink on real files: schema, round-trips, idempotence, rollups, modes, locking."""

from __future__ import annotations

import sqlite3
import stat
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claudetop.model import BatchState, BatchStatus, Endpoint, UsageEvent
from claudetop.sinks import SQLiteSink, connect_sqlite, open_sink
from claudetop.sinks.jsonl import JsonlSink
from claudetop.sinks.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Migration,
    SchemaTooNewError,
    event_to_row,
    migrate,
    row_to_batch,
    row_to_event,
)
from tests.unit.sinks.factories import make_batch, make_event
from tests.unit.sinks.strategies import usage_events


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}


def _events(conn: sqlite3.Connection) -> list[UsageEvent]:
    return [row_to_event(r) for r in conn.execute("SELECT * FROM events ORDER BY seq")]


def test_events_table_has_a_column_for_every_usage_event_field(tmp_path: Path) -> None:
    with connect_sqlite(tmp_path / "s.db") as conn:
        assert _columns(conn, "events") - {"seq"} == set(UsageEvent.model_fields)


def test_batches_table_has_a_column_for_every_batch_state_field(tmp_path: Path) -> None:
    with connect_sqlite(tmp_path / "s.db") as conn:
        assert _columns(conn, "batches") == set(BatchState.model_fields)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(usage_events())
def test_event_row_event_is_lossless(event: UsageEvent) -> None:
    assert row_to_event(event_to_row(event)) == event


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(usage_events(max_count=2**40), min_size=1, max_size=20, unique_by=lambda e: e.id))
def test_events_survive_the_database_unchanged(tmp_path: Path, events: list[UsageEvent]) -> None:
    path = tmp_path / f"{events[0].id.encode().hex()[:40]}-{len(events)}.db"
    path.unlink(missing_ok=True)
    with SQLiteSink(path) as sink:
        sink.write_events(events)
    with connect_sqlite(path, readonly=True) as conn:
        assert _events(conn) == events


def test_new_file_is_wal_private_and_at_the_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "s.db"
    with SQLiteSink(path) as sink:
        sink.write_events([make_event(1)])
        for suffix in ("", "-wal", "-shm"):
            mode = stat.S_IMODE((path.parent / (path.name + suffix)).stat().st_mode)
            assert mode == 0o600, (suffix, oct(mode))
    with connect_sqlite(path, readonly=True) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == len(MIGRATIONS)
        assert conn.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0].endswith("Z")


def test_rewriting_events_is_idempotent_and_does_not_double_rollups(tmp_path: Path) -> None:
    events = [make_event(i) for i in range(50)]
    with SQLiteSink(tmp_path / "s.db") as sink:
        sink.write_events(events[:30])
        sink.write_events(events)
        sink.write_events(events[10:20])
    with connect_sqlite(tmp_path / "s.db", readonly=True) as conn:
        assert _events(conn) == events
        assert conn.execute("SELECT sum(api_calls) FROM rollups").fetchone()[0] == 50


def test_rollups_hold_hourly_totals_per_model_task_and_source(tmp_path: Path) -> None:
    # 7,200 seconds of events span two hours; one unpriced and one failed call on top.
    events = [make_event(i * 3) for i in range(2400)]
    events.append(make_event(99_001, cost_micros=None, model="claude-future-9"))
    events.append(make_event(99_002, status=529, error_type="overloaded_error", output_tokens=0))
    events.append(make_event(99_003, endpoint=Endpoint.BATCH_RETRIEVE, input_tokens=0, cost_micros=None))
    with SQLiteSink(tmp_path / "s.db") as sink:
        for start in range(0, len(events), 500):
            sink.write_events(events[start : start + 500])

    counters = ("api_calls", "requests", "unpriced", "errors", "input_tokens", "output_tokens")
    counters += ("cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens", "cost_micros")
    expected: dict[tuple[str, str, str, str], Counter[str]] = {}
    for e in events:
        key = (e.ts.strftime("%Y-%m-%dT%H:00:00Z"), e.model or "", e.task or "", e.source)
        c = expected.setdefault(key, Counter({name: 0 for name in counters}))
        c["api_calls"] += 1
        c["requests"] += e.endpoint is Endpoint.MESSAGES
        c["unpriced"] += e.endpoint is Endpoint.MESSAGES and e.cost_micros is None
        c["errors"] += e.error_type is not None
        c["input_tokens"] += e.input_tokens
        c["output_tokens"] += e.output_tokens
        c["cache_write_5m_tokens"] += e.cache_write_5m_tokens
        c["cache_write_1h_tokens"] += e.cache_write_1h_tokens
        c["cache_read_tokens"] += e.cache_read_tokens
        c["cost_micros"] += e.cost_micros or 0
    with connect_sqlite(tmp_path / "s.db", readonly=True) as conn:
        rows = conn.execute("SELECT * FROM rollups").fetchall()
    got = {
        (r["hour"], r["model"], r["task"], r["source"]): Counter({n: r[n] for n in counters}) for r in rows
    }
    assert got == expected
    assert len({key[0] for key in got}) == 3


def test_batch_upsert_keeps_the_newest_state(tmp_path: Path) -> None:
    with SQLiteSink(tmp_path / "s.db") as sink:
        sink.write_batches([make_batch("b1", minutes=1), make_batch("b2", minutes=1)])
        sink.write_batches([make_batch("b1", minutes=30, status=BatchStatus.ENDED)])
        sink.write_batches([make_batch("b1", minutes=5)])
    with connect_sqlite(tmp_path / "s.db", readonly=True) as conn:
        batches = {b.id: b for b in map(row_to_batch, conn.execute("SELECT * FROM batches"))}
    assert batches["b1"] == make_batch("b1", minutes=30, status=BatchStatus.ENDED)
    assert batches["b2"] == make_batch("b2", minutes=1)


def test_appended_migration_upgrades_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SQLiteSink(path) as sink:
        sink.write_events([make_event(1)])
    extra = (*MIGRATIONS, Migration("deferred queue", ("CREATE TABLE deferred (id TEXT PRIMARY KEY)",)))
    with connect_sqlite(path) as conn:
        assert migrate(conn, extra) == len(MIGRATIONS)
        assert migrate(conn, extra) == len(extra)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(extra)
        assert "deferred" in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        assert _events(conn) == [make_event(1)]


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    connect_sqlite(path).close()
    broken = (*MIGRATIONS, Migration("ok then broken", ("CREATE TABLE t (x)", "CREATE TABLE t (x)")))
    with connect_sqlite(path) as conn:
        with pytest.raises(sqlite3.OperationalError, match="already exists"):
            migrate(conn, broken)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert "t" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}


def test_a_file_from_a_newer_claudetop_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with connect_sqlite(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNewError, match="upgrade claudetop"):
        SQLiteSink(path)


def test_readonly_connection_cannot_write_or_create(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError):
        connect_sqlite(tmp_path / "missing.db", readonly=True)
    assert not (tmp_path / "missing.db").exists()
    connect_sqlite(tmp_path / "s.db").close()
    with connect_sqlite(tmp_path / "s.db", readonly=True) as conn, pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM events")


def test_writer_waits_for_a_lock_holder_then_writes(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    holder = connect_sqlite(path)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, lambda: holder.execute("COMMIT")).start()
    with SQLiteSink(path, busy_timeout_s=10) as sink:
        sink.write_events([make_event(1)])
    holder.close()
    with connect_sqlite(path, readonly=True) as conn:
        assert _events(conn) == [make_event(1)]


def test_short_busy_timeout_gives_up_with_the_lock_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    sink = SQLiteSink(path, busy_timeout_s=0.2)
    with connect_sqlite(path) as holder:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            sink.write_events([make_event(1)])
        holder.execute("ROLLBACK")
    sink.write_events([make_event(1)])
    sink.close()


def test_timestamps_sort_as_text(tmp_path: Path) -> None:
    stamps = [datetime(2026, 1, 1, 0, 0, 0, us, tzinfo=UTC) for us in (0, 5, 500_000)]
    events = [make_event(i, ts=ts) for i, ts in enumerate(reversed(stamps))]
    with SQLiteSink(tmp_path / "s.db") as sink:
        sink.write_events(events)
    with connect_sqlite(tmp_path / "s.db", readonly=True) as conn:
        assert [row_to_event(r).ts for r in conn.execute("SELECT * FROM events ORDER BY ts")] == stamps


def test_open_sink_picks_the_store_by_target(tmp_path: Path) -> None:
    sqlite_sink = open_sink(tmp_path / "a.db")
    jsonl_sink = open_sink(str(tmp_path / "a.jsonl"))
    assert isinstance(sqlite_sink, SQLiteSink)
    assert isinstance(jsonl_sink, JsonlSink)
    sqlite_sink.close()
    jsonl_sink.close()


def test_a_file_from_before_the_speed_column_is_read_as_it_is_then_upgraded(tmp_path: Path) -> None:
    """A reader never migrates; a file from before the column still reads, and the next writer adds it."""
    path = tmp_path / "old.db"
    old = sqlite3.connect(path, isolation_level=None)
    migrate(old, MIGRATIONS[:2])  # the third adds the column
    row = {k: v for k, v in event_to_row(make_event(1)).items() if k != "speed"}
    old.execute(
        f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
    )
    old.close()
    with connect_sqlite(path, readonly=True) as reader:
        assert "speed" not in _columns(reader, "events")
        assert _events(reader) == [make_event(1)]
    fast = make_event(2).model_copy(update={"speed": "fast"})
    with SQLiteSink(path) as sink:
        sink.write_events([fast])
    with connect_sqlite(path, readonly=True) as reader:
        assert reader.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert _events(reader) == [make_event(1), fast]
