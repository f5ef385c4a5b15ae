"""The PostgreSQL sink against a real server: same schema as SQLite, idempotent, migrations, outages."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from claudetop.model import BatchStatus, Endpoint
from claudetop.sinks import SQLiteSink, connect_sqlite, open_sink
from claudetop.sinks.postgres import PostgresSink, connect_postgres, migrate_postgres, schema_version_pg
from claudetop.sinks.schema import MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, row_to_batch, row_to_event
from tests.pg_server import PostgresServer
from tests.unit.sinks.factories import T0, make_batch, make_event

pytestmark = pytest.mark.postgres


def _pg_columns(dsn: str) -> dict[str, list[str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        ).fetchall()
    tables: dict[str, list[str]] = {}
    for table, column in rows:
        tables.setdefault(table, []).append(column)
    return tables


def _sqlite_columns(path: Path) -> dict[str, list[str]]:
    conn = connect_sqlite(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {
            name: [c[1] for c in conn.execute(f"PRAGMA table_info({name})")]
            for name in names
            if not name.startswith("sqlite_")
        }
    finally:
        conn.close()


def test_the_database_gets_the_sqlite_sinks_tables_and_columns(pg_dsn: str, tmp_path: Path) -> None:
    PostgresSink(pg_dsn).close()
    assert _pg_columns(pg_dsn) == _sqlite_columns(tmp_path / "same.db")
    with connect_postgres(pg_dsn, migrate=False) as conn:
        assert schema_version_pg(conn) == SCHEMA_VERSION
        meta = {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM meta")}
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["created_at"].startswith("20")


def test_hosts_migrating_at_once_agree(pg_dsn: str) -> None:
    errors: list[BaseException] = []
    before: list[int] = []
    go = threading.Barrier(8)

    def open_one() -> None:
        try:
            conn = connect_postgres(pg_dsn, migrate=False)
            go.wait()
            before.append(migrate_postgres(conn))
            conn.close()
        except BaseException as err:
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(before) == [0] + [SCHEMA_VERSION] * 7, "exactly one opener migrated"


def test_migrations_apply_one_step_at_a_time(pg_dsn: str) -> None:
    with connect_postgres(pg_dsn, migrate=False) as conn:
        assert migrate_postgres(conn, MIGRATIONS[:1]) == 0
        assert schema_version_pg(conn) == 1
        assert conn.execute("SELECT to_regclass('deferred_requests') AS t").fetchone() == {"t": None}
        assert migrate_postgres(conn) == 1
        assert conn.execute("SELECT to_regclass('deferred_requests')::text AS t").fetchone() == {
            "t": "deferred_requests"
        }


def test_a_database_from_a_newer_claudetop_is_refused(pg_dsn: str) -> None:
    PostgresSink(pg_dsn).close()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    with pytest.raises(SchemaTooNewError, match="upgrade claudetop"):
        PostgresSink(pg_dsn)


def test_events_round_trip_and_rewriting_is_idempotent(pg_dsn: str) -> None:
    events = [make_event(i) for i in range(500)]
    with open_sink(pg_dsn) as sink:
        assert isinstance(sink, PostgresSink)
        sink.write_events(events[:300])
        sink.write_events(events)
        sink.write_events(events[250:260])
    with connect_postgres(pg_dsn, migrate=False) as conn:
        rows = conn.execute("SELECT * FROM events ORDER BY seq").fetchall()
        api_calls = conn.execute("SELECT sum(api_calls) AS n FROM rollups").fetchone()
    assert [row_to_event(r) for r in rows] == events
    assert api_calls == {"n": 500}
    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)


def _mixed_events() -> list[Any]:
    """Events that exercise every rollup counter: errors, unpriced, batch results, other endpoints."""
    out = []
    for i in range(240):
        changes: dict[str, object] = {"ts": T0 + timedelta(minutes=7 * i)}
        if i % 9 == 0:
            changes.update(status=529, error_type="overloaded_error")
        if i % 13 == 0:
            changes.update(cost_micros=None, model="claude-unknown-9")
        if i % 4 == 0:
            changes.update(endpoint=Endpoint.BATCH_RESULT, batch_id=f"msgbatch_{i % 3}")
        if i % 17 == 0:
            changes.update(endpoint=Endpoint.COUNT_TOKENS, cost_micros=None)
        out.append(make_event(i, **changes))
    return out


def test_rollups_equal_the_sqlite_sinks_rollups(pg_dsn: str, tmp_path: Path) -> None:
    events = _mixed_events()
    with SQLiteSink(tmp_path / "ref.db") as ref, PostgresSink(pg_dsn) as sink:
        for start in range(0, len(events), 50):
            ref.write_events(events[start : start + 50])
            sink.write_events(events[start : start + 50])
        sink.write_events(events[:10])
    with sqlite3.connect(tmp_path / "ref.db") as lite:
        lite.row_factory = sqlite3.Row
        expected = [dict(r) for r in lite.execute("SELECT * FROM rollups ORDER BY hour, model, task, source")]
    with connect_postgres(pg_dsn, migrate=False) as conn:
        got = conn.execute("SELECT * FROM rollups ORDER BY hour, model, task, source").fetchall()
    assert got == expected
    assert sum(r["errors"] for r in got) > 0 and sum(r["unpriced"] for r in got) > 0
    assert sum(r["requests"] for r in got) < sum(r["api_calls"] for r in got)


def test_a_batch_keeps_its_newest_state(pg_dsn: str) -> None:
    with PostgresSink(pg_dsn) as sink:
        sink.write_batches([make_batch("b1", minutes=5), make_batch("b2", minutes=1)])
        sink.write_batches([make_batch("b1", minutes=2, status=BatchStatus.ENDED)])
        sink.write_batches([make_batch("b2", minutes=9, status=BatchStatus.ENDED)])
    with connect_postgres(pg_dsn, migrate=False) as conn:
        states = {r["id"]: row_to_batch(r) for r in conn.execute("SELECT * FROM batches")}
    assert states["b1"] == make_batch("b1", minutes=5)
    assert states["b2"] == make_batch("b2", minutes=9, status=BatchStatus.ENDED)


def test_meta_rows_are_set_and_replaced(pg_dsn: str) -> None:
    with PostgresSink(pg_dsn) as sink:
        sink.write_meta("hook_health:h:1", '{"dropped": 1}')
        sink.write_meta("hook_health:h:1", '{"dropped": 2}')
    with connect_postgres(pg_dsn, migrate=False) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'hook_health:h:1'").fetchone()
    assert row == {"value": '{"dropped": 2}'}


def test_an_unreachable_server_fails_at_once() -> None:
    with pytest.raises(psycopg.OperationalError):
        open_sink("postgresql://postgres@127.0.0.1:1/claudetop")


def test_a_write_during_an_outage_raises_and_the_next_one_reconnects(
    pg_dsn: str, postgres: PostgresServer
) -> None:
    sink = PostgresSink(pg_dsn, statement_timeout_s=2.0)
    sink.write_events([make_event(0)])
    postgres.stop()
    try:
        with pytest.raises(psycopg.OperationalError):
            sink.write_events([make_event(1)])
        with pytest.raises(psycopg.OperationalError):
            sink.write_events([make_event(1)])
    finally:
        postgres.start()
    sink.write_events([make_event(1), make_event(2)])
    sink.close()
    with connect_postgres(pg_dsn, migrate=False) as conn:
        assert conn.execute("SELECT count(*) AS n FROM events").fetchone() == {"n": 3}


def test_a_slow_statement_is_cut_by_the_statement_timeout(pg_dsn: str) -> None:
    """A writer stuck behind another's insert lock gives up after its timeout instead of hanging."""
    with PostgresSink(pg_dsn, statement_timeout_s=0.5) as sink, psycopg.connect(pg_dsn) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (0x636C_7464_6576_74,))
        with pytest.raises(psycopg.errors.QueryCanceled):
            sink.write_events([make_event(0)])
        holder.rollback()
        sink.write_events([make_event(0)])
