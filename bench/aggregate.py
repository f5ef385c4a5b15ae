"""Aggregation speed: fold 1,000,000 events from a real SQLite sink, and add 1,000 live events.

Prints events/s for each, against a baseline measured in the same run: a plain loop summing one
column over the same rows. Targets (issue 7): the 1M fold under 5 s, a 1,000-event live add under 20 ms.

    .venv/bin/python bench/aggregate.py [N]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claudetop.analysis.aggregate import ROWS_SQL, Aggregator
from claudetop.model import PrefixFingerprint, UsageEvent
from claudetop.sinks import open_sink

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


def main(n: int = 1_000_000) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        sink = open_sink(db)
        chunk = 50_000
        for lo in range(0, n, chunk):
            sink.write_events(_events(min(chunk, n - lo), start + timedelta(seconds=lo * 2), lo))
        sink.close()

        conn = sqlite3.connect(db)
        t = time.perf_counter()
        total = sum(r[13] for r in conn.execute(ROWS_SQL))
        baseline = time.perf_counter() - t

        agg = Aggregator()
        t = time.perf_counter()
        folded = agg.add_rows(conn.execute(ROWS_SQL))
        fold = time.perf_counter() - t
        assert folded == n and agg.total().input == total, (folded, agg.total().input, total)

        live = _events(1_000, start + timedelta(seconds=n * 2 + 10), n)
        t = time.perf_counter()
        agg.add(live)
        add_ms = (time.perf_counter() - t) * 1000

    print(f"baseline: sum one column over {n:,} rows   {baseline:6.2f} s  {n / baseline:12,.0f} rows/s")
    print(
        f"fold {n:,} sink rows into aggregates    {fold:6.2f} s  {n / fold:12,.0f} events/s "
        f"({fold / baseline:.1f}x baseline; target < 5 s)"
    )
    print(f"add 1,000 live events                     {add_ms:6.1f} ms (target < 20 ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
