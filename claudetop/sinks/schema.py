"""The SQLite sink's schema: tables, forward migrations, and the event/batch <-> row mapping.

The database carries its schema version in ``PRAGMA user_version``. ``MIGRATIONS`` is an
ordered list; migration *n* (1-based) moves a database from version *n-1* to *n*.
Migrations are history: never edit one that has shipped. To change the schema, append a
``Migration`` at the end (``SCHEMA_VERSION`` follows automatically), e.g.::

    Migration(
        "deferred requests waiting for a batch",
        ("CREATE TABLE deferred_requests (...)", "CREATE INDEX ..."),
    )

``migrate`` applies the missing ones inside one ``BEGIN IMMEDIATE`` transaction, so several
processes opening a new file at once agree on the result, and a crash leaves the old version.

Tables:

- ``events``: one row per ``UsageEvent``; a column per field (``EVENT_COLUMNS``), prefixes and
  policy decisions as JSON text, ``ts`` as fixed-width UTC text (sorts as it reads). ``seq`` is an
  ``AUTOINCREMENT`` alias of the rowid, so it only grows: incremental readers remember the last
  ``seq`` they saw. ``id`` is UNIQUE and writers use ``INSERT OR IGNORE``: re-writing is idempotent.
  The only other index is on ``ts`` (time ranges); per-model and per-task history comes from
  ``rollups``, which keeps inserts fast (each index costs the writers ~8%).
- ``batches``: the latest ``BatchState`` per batch id (an older ``updated_at`` never overwrites a newer).
- ``policies`` / ``policy_audit``: the policy store's current settings and its append-only trail.
- ``rollups``: hourly totals per (hour, model, task, source), maintained by the SQLite sink in the
  same transaction as the events it inserts, so history views never scan ``events``. Key columns
  hold ``''`` where the event had no model/task. ``requests`` counts billable events (messages and
  batch results), ``api_calls`` every event, ``unpriced`` billable events without a cost, ``errors``
  events with an error type or an HTTP status >= 400.
- ``meta``: key/value facts about the file (who created it, when).
- ``deferred_requests`` (``claudetop.policies.batching``): requests the batch deferral queue holds,
  ``queued`` → ``submitting`` → ``submitted`` (with ``batch_id``) → ``done`` (with the ``event_id``
  its result was recorded under). ``params`` holds the request body only until it is submitted;
  ``policies`` the JSON policy decisions applied to it, copied onto its result's event. ``owner`` is
  the token of the queue that submits, polls and collects it (``claudetop.policies.queue_owners``);
  rows written before the column existed have none, and the first queue that looks adopts them.
- ``eval_results`` (``claudetop.policies.evals``): pass/fail of a task on a model, the routing gate.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from pydantic import TypeAdapter

from claudetop.model import BatchState, PolicyDecision, PrefixFingerprint, UsageEvent


@dataclass(frozen=True)
class Migration:
    description: str
    statements: tuple[str, ...]
    """Executed one by one (never ``executescript``, which would commit half-way)."""


_EVENT_COLUMNS_V1: dict[str, str] = {
    "id": "TEXT NOT NULL UNIQUE",
    "ts": "TEXT NOT NULL",
    "source": "TEXT NOT NULL",
    "app": "TEXT",
    "host": "TEXT",
    "pid": "INTEGER",
    "api_key_fp": "TEXT",
    "project": "TEXT",
    "session": "TEXT",
    "task": "TEXT",
    "endpoint": "TEXT NOT NULL",
    "requested_model": "TEXT",
    "model": "TEXT",
    "batch_id": "TEXT",
    "custom_id": "TEXT",
    "deferred": "INTEGER NOT NULL",
    "stream": "INTEGER NOT NULL",
    "status": "INTEGER",
    "error_type": "TEXT",
    "retries": "INTEGER NOT NULL",
    "latency_ms": "REAL",
    "ttft_ms": "REAL",
    "input_tokens": "INTEGER NOT NULL",
    "output_tokens": "INTEGER NOT NULL",
    "cache_write_5m_tokens": "INTEGER NOT NULL",
    "cache_write_1h_tokens": "INTEGER NOT NULL",
    "cache_read_tokens": "INTEGER NOT NULL",
    "thinking_tokens": "INTEGER NOT NULL",
    "web_search_requests": "INTEGER NOT NULL",
    "web_fetch_requests": "INTEGER NOT NULL",
    "service_tier": "TEXT",
    "inference_geo": "TEXT",
    "max_tokens": "INTEGER",
    "stop_reason": "TEXT",
    "prefixes": "TEXT NOT NULL",
    "policies": "TEXT NOT NULL",
    "cost_micros": "INTEGER",
}
"""The ``events`` table as the first migration creates it: history, never to be edited."""

_EVENT_COLUMNS_ADDED = {"speed": "TEXT"}
"""Columns added by later migrations, which a file not yet migrated (read-only) lacks."""

EVENT_COLUMNS: dict[str, str] = {**_EVENT_COLUMNS_V1, **_EVENT_COLUMNS_ADDED}
"""``events`` columns besides ``seq``, one per ``UsageEvent`` field. A test checks they match."""

BATCH_COLUMNS: dict[str, str] = {
    "id": "TEXT PRIMARY KEY",
    "status": "TEXT NOT NULL",
    "processing": "INTEGER NOT NULL",
    "succeeded": "INTEGER NOT NULL",
    "errored": "INTEGER NOT NULL",
    "canceled": "INTEGER NOT NULL",
    "expired": "INTEGER NOT NULL",
    "created_at": "TEXT NOT NULL",
    "ended_at": "TEXT",
    "expires_at": "TEXT",
    "updated_at": "TEXT NOT NULL",
    "retrieve_calls": "INTEGER NOT NULL",
    "deferred": "INTEGER NOT NULL",
    "app": "TEXT",
    "host": "TEXT",
}

_JSON_EVENT_FIELDS = ("prefixes", "policies")

ROLLUP_COUNTERS: tuple[str, ...] = (
    "requests",
    "api_calls",
    "errors",
    "unpriced",
    "input_tokens",
    "output_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "cache_read_tokens",
    "thinking_tokens",
    "cost_micros",
)


def _columns_sql(columns: Mapping[str, str]) -> str:
    return ",\n    ".join(f"{name} {decl}" for name, decl in columns.items())


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "initial schema: events, batches, policies, policy_audit, rollups, meta",
        (
            f"CREATE TABLE events (\n    seq INTEGER PRIMARY KEY AUTOINCREMENT,\n    "
            f"{_columns_sql(_EVENT_COLUMNS_V1)}\n)",
            "CREATE INDEX events_ts ON events (ts)",
            f"CREATE TABLE batches (\n    {_columns_sql(BATCH_COLUMNS)}\n)",
            "CREATE INDEX batches_status ON batches (status)",
            """CREATE TABLE policies (
    name TEXT PRIMARY KEY,
    mode TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
)""",
            """CREATE TABLE policy_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    from_mode TEXT NOT NULL,
    to_mode TEXT NOT NULL,
    params TEXT NOT NULL DEFAULT '{}',
    reason TEXT
)""",
            """CREATE TABLE rollups (
    hour TEXT NOT NULL,
    model TEXT NOT NULL,
    task TEXT NOT NULL,
    source TEXT NOT NULL,
    """
            + ",\n    ".join(f"{c} INTEGER NOT NULL DEFAULT 0" for c in ROLLUP_COUNTERS)
            + """,
    PRIMARY KEY (hour, model, task, source)
) WITHOUT ROWID""",
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ),
    ),
    Migration(
        "policies: durable deferred-request queue and eval results",
        (
            """CREATE TABLE deferred_requests (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    app TEXT,
    task TEXT,
    model TEXT,
    params TEXT,
    policies TEXT NOT NULL DEFAULT '[]',
    state TEXT NOT NULL,
    claimed_at TEXT,
    batch_id TEXT,
    event_id TEXT
)""",
            "CREATE INDEX deferred_requests_state ON deferred_requests (state, created_at)",
            "CREATE INDEX deferred_requests_batch ON deferred_requests (batch_id)",
            """CREATE TABLE eval_results (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    task TEXT NOT NULL,
    model TEXT NOT NULL,
    passed INTEGER NOT NULL
)""",
            "CREATE INDEX eval_results_task_model ON eval_results (task, model, seq)",
        ),
    ),
    Migration("events: fast-mode speed", ("ALTER TABLE events ADD COLUMN speed TEXT",)),
    Migration(
        "deferred_requests: the queue that owns each request",
        (
            "ALTER TABLE deferred_requests ADD COLUMN owner TEXT",
            "CREATE INDEX deferred_requests_owner ON deferred_requests (owner, state, created_at)",
        ),
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNewError(RuntimeError):
    """The file was written by a newer claudetop; an older one must not guess at its tables."""


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception; ``conn`` must be autocommit.

    Taking the write lock at ``BEGIN`` means a busy database fails here, before any work, and
    never with a half-done transaction that cannot upgrade its lock.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def refuse_newer(version: int, known: int) -> None:
    """Raise ``SchemaTooNewError`` for a database at a version past the ``known`` migrations."""
    if version > known:
        raise SchemaTooNewError(
            f"database schema version {version} is newer than this claudetop understands ({known}); "
            "upgrade claudetop"
        )


def schema_version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database up to ``len(migrations)``; returns the version it was at before.

    ``conn`` must be in autocommit mode (``isolation_level=None``); this opens its own
    ``BEGIN IMMEDIATE`` so that concurrent openers serialise on the write lock and re-read the
    version under it.
    """
    if schema_version(conn) == len(migrations):
        return len(migrations)
    with immediate_transaction(conn):
        before = schema_version(conn)
        refuse_newer(before, len(migrations))
        for migration in migrations[before:]:
            for statement in migration.statements:
                conn.execute(statement)
        if before == 0:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('created_at', ?)",
                (format_ts(datetime.now(UTC)),),
            )
        conn.execute(f"PRAGMA user_version = {len(migrations):d}")
    return before


def format_ts(value: datetime) -> str:
    """Fixed-width UTC text (``2026-01-02T03:04:05.000006Z``): sorts lexically in time order."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _to_column(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return format_ts(value)
    return value


_PREFIXES = TypeAdapter(tuple[PrefixFingerprint, ...])
_DECISIONS = TypeAdapter(tuple[PolicyDecision, ...])
_TS = list(EVENT_COLUMNS).index("ts")
_ENDPOINT = list(EVENT_COLUMNS).index("endpoint")
_JSON_COLUMNS = (
    (list(EVENT_COLUMNS).index("prefixes"), _PREFIXES),
    (list(EVENT_COLUMNS).index("policies"), _DECISIONS),
)


def event_values(event: UsageEvent) -> tuple[Any, ...]:
    """The ``events`` column values for ``event`` in ``EVENT_COLUMNS`` order: the sink's hot path.

    Booleans stay ``bool`` (sqlite3 stores them as 0/1); JSON is encoded by pydantic's core.
    """
    fields = event.__dict__
    values = [fields[name] for name in EVENT_COLUMNS]
    values[_TS] = format_ts(values[_TS])
    values[_ENDPOINT] = values[_ENDPOINT].value
    for index, adapter in _JSON_COLUMNS:
        values[index] = adapter.dump_json(values[index]).decode() if values[index] else "[]"
    return tuple(values)


def event_to_row(event: UsageEvent) -> dict[str, Any]:
    """The ``events`` row for ``event`` (without ``seq``), keyed by column name."""
    return dict(zip(EVENT_COLUMNS, event_values(event), strict=True))


def row_to_event(row: Mapping[str, Any] | sqlite3.Row) -> UsageEvent:
    """The event a row holds; extra columns such as ``seq`` are ignored, and so are columns a file
    read before its migration does not have yet."""
    data = {name: row[name] for name in _EVENT_COLUMNS_V1}
    for name in _EVENT_COLUMNS_ADDED:
        with suppress(IndexError, KeyError):
            data[name] = row[name]
    for name in _JSON_EVENT_FIELDS:
        data[name] = json.loads(data[name])
    return UsageEvent.model_validate(data)


def batch_to_row(state: BatchState) -> dict[str, Any]:
    return {name: _to_column(getattr(state, name)) for name in BATCH_COLUMNS}


def row_to_batch(row: Mapping[str, Any] | sqlite3.Row) -> BatchState:
    return BatchState.model_validate({name: row[name] for name in BATCH_COLUMNS})


def _named_params(columns: Sequence[str]) -> str:
    return ", ".join(f":{c}" for c in columns)


_EVENT_PLACEHOLDERS = ", ".join("?" * len(EVENT_COLUMNS))
INSERT_EVENT_SQL = f"INSERT OR IGNORE INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({_EVENT_PLACEHOLDERS})"
"""Takes ``event_values`` tuples."""

UPSERT_BATCH_SQL = (
    f"INSERT INTO batches ({', '.join(BATCH_COLUMNS)}) VALUES ({_named_params(list(BATCH_COLUMNS))}) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in BATCH_COLUMNS if c != "id")
    + " WHERE excluded.updated_at >= batches.updated_at"
)

ROLLUP_FROM_EVENTS_SQL = f"""
INSERT INTO rollups (hour, model, task, source, {", ".join(ROLLUP_COUNTERS)})
SELECT substr(ts, 1, 13) || ':00:00Z', coalesce(model, ''), coalesce(task, ''), source,
    sum(endpoint IN ('messages', 'batch_result')),
    count(*),
    sum(error_type IS NOT NULL OR coalesce(status, 0) >= 400),
    sum(endpoint IN ('messages', 'batch_result') AND cost_micros IS NULL),
    sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens),
    sum(cache_read_tokens), sum(thinking_tokens), coalesce(sum(cost_micros), 0)
FROM events WHERE seq > ?
GROUP BY 1, 2, 3, 4
ON CONFLICT (hour, model, task, source) DO UPDATE SET
    {", ".join(f"{c} = {c} + excluded.{c}" for c in ROLLUP_COUNTERS)}
"""
"""Folds the events inserted after a given ``seq`` into ``rollups``; run in the inserting transaction."""
