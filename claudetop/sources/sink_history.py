"""A SQLite sink's ``History`` (``sources.history``), aggregated by SQL, so a monitor or report starts
fast on millions of rows.

SQLite computes the bucket sums (``GROUP BY`` per bucket and group, in C); only the detail rows
(``ts >= detail_since``, selected as plain ``ROW_COLUMNS`` tuples, never as pydantic objects) and the
newest ``live`` rows (as ``UsageEvent``\\ s) travel to Python one by one.

Everything is read up to one ``last_seq`` inside one read transaction, so the parts agree with each
other, and a ``SinkSource`` that handed it over (``take_history``) continues exactly where it ends.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from claudetop.model import UsageEvent
from claudetop.sinks.schema import format_ts, row_to_event
from claudetop.sources.history import ROW_COLUMNS, History

ROWS_SQL = f"SELECT {', '.join(ROW_COLUMNS)} FROM events"

# Grouping by the raw ``endpoint`` and ``service_tier`` columns (not by expressions of them) and summing
# plain columns keeps SQLite's sorter records small: about twice as fast as computing "billable" and
# "batch" per row in SQL. The sums come in ``BUCKET_SUMS`` order.
_BUCKETS_SQL = """
SELECT CASE WHEN ts >= :minute_since THEN substr(ts, 1, 16) ELSE substr(ts, 1, 13) END,
    model, task, app, host, api_key_fp, endpoint, service_tier,
    count(*), total(error_type IS NOT NULL OR status >= 400), total(retries > 0),
    sum(input_tokens), sum(output_tokens), sum(cache_write_5m_tokens), sum(cache_write_1h_tokens),
    sum(cache_read_tokens), coalesce(sum(cost_micros), 0), count(*) - count(cost_micros),
    total(stop_reason = 'max_tokens'), total(deferred)
FROM events WHERE seq <= :last_seq
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
"""

_POLLS_SQL = """
SELECT batch_id, count(*), sum(coalesce(status, 0) = 429), min(ts), max(ts)
FROM events WHERE endpoint = 'batch_retrieve' AND batch_id IS NOT NULL AND seq <= :last_seq
GROUP BY batch_id
"""

_TALLIES_SQL = """
SELECT d.value ->> '$.policy', d.value ->> '$.mode', substr(events.ts, 1, 7), count(*),
    sum(coalesce(d.value ->> '$.saving_micros', 0))
FROM events, json_each(events.policies) AS d
WHERE events.policies != '[]' AND events.seq <= :last_seq
GROUP BY 1, 2, 3
"""

DEFERRED_DEPTH_SQL = "SELECT count(*) FROM deferred_requests WHERE state IN ('queued', 'submitting')"
"""Requests the deferral queue holds and has not handed to the Batches API yet."""


def epoch_of(ts: str) -> float:
    """Seconds since the epoch of a sink timestamp or a prefix of one (``2026-11-01T10`` is an hour)."""
    text = ts.rstrip("Z")
    if len(text) == 13:
        text += ":00"
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _open(path: Path, immutable: bool) -> sqlite3.Connection:
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    uri = f"{path.resolve().as_uri()}?{query}"
    return sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None, check_same_thread=False)


def connect_readonly(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection to a sink, and whether it had to be ``immutable``.

    A reader that can write neither the sink's directory nor its ``-shm`` file cannot take WAL read
    locks; it then reads the main file without locking (``immutable=1``), which does not see rows
    still only in the ``-wal`` file until a writer checkpoints them."""
    conn = _open(path, immutable=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn, False
    except sqlite3.OperationalError:
        conn.close()
    return _open(path, immutable=True), True


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def read_sink_history(
    path: Path | str, *, minute_span_s: float, detail_span_s: float, live: int = 200
) -> History:
    """Aggregate every event of the sink at ``path``: minute buckets for the ``minute_span_s`` before
    the newest event and hour buckets before that; detail rows for the last ``detail_span_s``."""
    with closing(connect_readonly(Path(path).expanduser())[0]) as conn:
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("BEGIN")
        try:
            return _read(conn, minute_span_s, detail_span_s, live)
        finally:
            conn.execute("COMMIT")


def _read(conn: sqlite3.Connection, minute_span_s: float, detail_span_s: float, live: int) -> History:
    history = History()
    tables = _tables(conn)
    if "deferred_requests" in tables:
        history.deferred_queue_depth = int(conn.execute(DEFERRED_DEPTH_SQL).fetchone()[0])
    if "events" not in tables:
        return history
    last_seq, count, oldest, newest = conn.execute(
        "SELECT max(seq), count(*), min(ts), max(ts) FROM events"
    ).fetchone()
    if not count:
        return history
    history.last_seq, history.events = int(last_seq), int(count)
    history.oldest, history.newest = epoch_of(oldest), epoch_of(newest)
    minute_since = datetime.fromtimestamp(history.newest - minute_span_s, UTC)
    history.minute_since = (minute_since.timestamp() // 60) * 60
    args = {"last_seq": history.last_seq, "minute_since": format_ts(minute_since)[:16]}
    starts: dict[str, float] = {}
    for key, *rest in conn.execute(_BUCKETS_SQL, args):
        start = starts.get(key)
        if start is None:
            start = starts[key] = epoch_of(key)
        history.buckets.append((start, len(key) == 16, *rest[:7], *map(int, rest[7:])))
    history.polls = [
        (batch_id, calls, limited, epoch_of(first), epoch_of(last))
        for batch_id, calls, limited, first, last in conn.execute(_POLLS_SQL, args)
    ]
    history.tallies = [
        (policy, mode, int(month[:4]) * 12 + int(month[5:7]) - 1, n, int(saving))
        for policy, mode, month, n, saving in conn.execute(_TALLIES_SQL, args)
        if policy is not None and mode is not None
    ]
    detail_since = format_ts(datetime.fromtimestamp(history.newest - detail_span_s, UTC))
    history.detail = conn.execute(
        f"{ROWS_SQL} WHERE ts >= ? AND seq <= ? ORDER BY ts", (detail_since, history.last_seq)
    ).fetchall()
    conn.row_factory = sqlite3.Row
    newest_rows = conn.execute(
        "SELECT * FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT ?", (history.last_seq, live)
    ).fetchall()
    history.live = _events(reversed(newest_rows))
    return history


def _events(rows: Iterator[sqlite3.Row] | Sequence[sqlite3.Row]) -> list[UsageEvent]:
    out = []
    for row in rows:
        try:
            out.append(row_to_event(row))
        except (ValueError, TypeError):
            continue
    return out


def deferred_queue_depth(conn: sqlite3.Connection) -> int | None:
    """The deferral queue's depth, or ``None`` for a sink without the queue's table."""
    try:
        return int(conn.execute(DEFERRED_DEPTH_SQL).fetchone()[0])
    except sqlite3.OperationalError:
        return None


__all__ = [
    "DEFERRED_DEPTH_SQL",
    "ROWS_SQL",
    "deferred_queue_depth",
    "epoch_of",
    "read_sink_history",
]
