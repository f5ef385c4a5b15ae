"""Aggregation speed: fold 1,000,000 events from a real SQLite sink, and add 1,000 live events.

The fold is what a monitor or report does on start: ``read_sink_history`` (SQL aggregates plus the
detail rows of the last day) and ``Aggregator.add_history``. Prints events/s against a baseline measured
in the same run: fetching the same rows into Python and summing one column (what any per-row fold pays
before doing anything). Targets (issue 7): the 1M fold under 5 s, a 1,000-event live add under 20 ms.

    .venv/bin/python bench/aggregate.py [N] [--db PATH]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claudetop.analysis.aggregate import Aggregator
from claudetop.model import PrefixFingerprint, UsageEvent
from claudetop.sinks import open_sink
from claudetop.sources.sink_history import ROWS_SQL, read_sink_history

MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-7")
TASKS = ("chat", "extraction", "summarisation", "reasoning", "code_review")


def _events(n: int, start: datetime, first: int = 0) -> list[UsageEvent]:
    shas = [f"{i:064x}" for i in range(200)]
    return [
        UsageEvent(
            id=f"bench-{first + i}",
            ts=start + timedelta(seconds=i * 2),
            model=MODELS[i % 3],
            task=TASKS[i % 5],
            host=f"h{i % 4}",
            input_tokens=200 + i % 50,
            output_tokens=300,
            cache_read_tokens=2048 if i % 3 else 0,
            cache_write_5m_tokens=0 if i % 3 else 2048,
            cost_micros=1234 + i % 7,
            prefixes=(PrefixFingerprint(scope="system", sha256=shas[i % 200], tokens=2048, breakpoint=True),),
        )
        for i in range(n)
    ]


def _sink(path: Path, n: int, start: datetime) -> None:
    sink = open_sink(path)
    chunk = 50_000
    for lo in range(0, n, chunk):
        sink.write_events(_events(min(chunk, n - lo), start + timedelta(seconds=lo * 2), lo))
    sink.close()


def main(n: int, keep: Path | None) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = keep or Path(tmp) / "bench.db"
        if not db.exists():
            _sink(db, n, start)
        conn = sqlite3.connect(db)
        n = conn.execute("SELECT count(*) FROM events").fetchone()[0]

        t = time.perf_counter()
        total = sum(r[13] for r in conn.execute(ROWS_SQL))
        baseline = time.perf_counter() - t

        agg = Aggregator()
        t = time.perf_counter()
        history = read_sink_history(
            db, minute_span_s=48 * 3600, detail_span_s=agg.detail_horizon.total_seconds()
        )
        agg.add_history(history)
        fold = time.perf_counter() - t
        assert agg.events_folded == n and agg.total().input == total, (
            agg.events_folded,
            agg.total().input,
            total,
        )

        newest = datetime.fromtimestamp(agg.newest or 0, UTC)
        adds = []
        for round_ in range(5):
            live = _events(1_000, newest + timedelta(seconds=10 + round_ * 2_000), n + round_ * 1_000)
            t = time.perf_counter()
            agg.add(live)
            adds.append((time.perf_counter() - t) * 1000)
        conn.close()

    print(
        f"baseline: fetch the rows into Python, sum one column ({n:,} rows)  {baseline:6.2f} s  "
        f"{n / baseline:12,.0f} rows/s"
    )
    print(
        f"fold {n:,} sink events (SQL history + {len(history.detail):,} detail rows)  {fold:6.2f} s  "
        f"{n / fold:12,.0f} events/s ({fold / baseline:.2f}x baseline; target < 5 s)"
    )
    print(
        f"add 1,000 live events to {n:,} folded: median {statistics.median(adds):.1f} ms, "
        f"max {max(adds):.1f} ms (target < 20 ms)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="keep (or reuse) the generated sink at this path")
    args = parser.parse_args()
    main(args.n, args.db)
