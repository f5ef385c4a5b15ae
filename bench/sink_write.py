"""Sink write throughput: events/second for batched SQLite inserts and JSONL appends.

Each figure comes with a baseline measured in the same run on the same machine and the same
rows, so the ratio says what claudetop's schema costs rather than how fast this disk is:

- SQLite: ``SQLiteSink.write_events`` (row conversion, unique-id index, three query indexes,
  rollup maintenance, one ``BEGIN IMMEDIATE`` per batch) vs ``executemany`` of the already
  converted rows into a bare table with the same columns and no index, same pragmas and batching.
- JSONL: ``JsonlSink.write_events`` (flock, inode and size check, one ``write`` per batch) vs the
  naive logger: the same ``model_dump_json`` lines written to a plain ``O_APPEND`` file, one
  ``write`` per batch, no lock and no rotation.

Target (issue 3): at least 50,000 events/s for SQLite batched.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from claudetop.model import PrefixFingerprint, UsageEvent
from claudetop.sinks import JsonlSink, SQLiteSink
from claudetop.sinks.schema import EVENT_COLUMNS, event_values

EVENTS = 200_000
BATCH = 1_000
TARGET_SQLITE = 50_000

T0 = datetime(2026, 11, 1, tzinfo=UTC)
MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-7")
TASKS = ("chat", "extraction", "summarisation", "reasoning", "code_review")


def make_events(n: int) -> list[UsageEvent]:
    prefix = PrefixFingerprint(scope="system", sha256="0f" * 32, tokens=2048, breakpoint=True)
    return [
        UsageEvent(
            id=f"bench-{i}",
            ts=T0 + timedelta(milliseconds=37 * i),
            app="bench",
            host="h1",
            pid=1000 + i % 8,
            task=TASKS[i % len(TASKS)],
            requested_model=MODELS[i % 3],
            model=MODELS[i % 3],
            status=200,
            latency_ms=900.0 + i % 100,
            input_tokens=1200 + i % 50,
            output_tokens=350 + i % 40,
            cache_read_tokens=2048 if i % 4 else 0,
            cache_write_5m_tokens=0 if i % 4 else 2048,
            max_tokens=1024,
            stop_reason="end_turn",
            prefixes=(prefix,),
            cost_micros=4000 + i % 997,
        )
        for i in range(n)
    ]


def timed(fn: Callable[[], None]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


T = TypeVar("T")


def batches(items: list[T]) -> list[list[T]]:
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def write_all(sink: SQLiteSink | JsonlSink, event_batches: list[list[UsageEvent]]) -> None:
    for batch in event_batches:
        sink.write_events(batch)


def main() -> int:
    events = make_events(EVENTS)
    event_batches = batches(events)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)

        sink = SQLiteSink(root / "sink.db")
        ours_sqlite = timed(lambda: write_all(sink, event_batches))
        sink.close()

        row_batches = batches([event_values(e) for e in events])
        bare = sqlite3.connect(root / "bare.db", isolation_level=None)
        bare.execute("PRAGMA journal_mode = WAL")
        bare.execute("PRAGMA synchronous = NORMAL")
        bare.execute(f"CREATE TABLE events ({', '.join(EVENT_COLUMNS)})")
        insert = f"INSERT INTO events VALUES ({', '.join('?' * len(EVENT_COLUMNS))})"

        def bare_inserts() -> None:
            for rows in row_batches:
                bare.execute("BEGIN")
                bare.executemany(insert, rows)
                bare.execute("COMMIT")

        base_sqlite = timed(bare_inserts)
        bare.close()

        jsonl = JsonlSink(root / "sink.jsonl")
        ours_jsonl = timed(lambda: write_all(jsonl, event_batches))
        jsonl.close()

        fd = os.open(root / "bare.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

        def bare_appends() -> None:
            for batch in event_batches:
                os.write(fd, b"".join(e.model_dump_json().encode() + b"\n" for e in batch))

        base_jsonl = timed(bare_appends)
        os.close(fd)

    def rate(seconds: float) -> float:
        return EVENTS / seconds

    print(f"{EVENTS:,} events in batches of {BATCH:,}")
    print(
        f"sqlite batched : {rate(ours_sqlite):>11,.0f} events/s   "
        f"baseline bare executemany {rate(base_sqlite):>11,.0f} events/s   "
        f"ours/baseline {base_sqlite / ours_sqlite:.2f}"
    )
    print(
        f"jsonl append   : {rate(ours_jsonl):>11,.0f} events/s   "
        f"baseline unlocked append   {rate(base_jsonl):>11,.0f} events/s   "
        f"ours/baseline {base_jsonl / ours_jsonl:.2f}"
    )
    met = rate(ours_sqlite) >= TARGET_SQLITE
    print(f"target sqlite >= {TARGET_SQLITE:,} events/s: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
