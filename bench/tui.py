"""Monitor benchmarks: first paint over a big sink, event-to-screen latency under load, memory.

    python bench/tui.py [--events 1000000] [--rate 1000] [--seconds 10] [--day-rate 100] [--day-hours 24]

Prints figures with a baseline measured in the same run (first paint over an empty sink).
Targets (issue 9): first paint < 1 s with 1,000,000 events; p95 latency < 250 ms at 1,000 events/s;
RSS < 150 MB after a simulated day at 100 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from claudetop.config import Config
from claudetop.model import UsageEvent
from claudetop.sinks import SQLiteSink
from claudetop.ui.options import MonitorOptions
from claudetop.ui.run import build_app

MODELS = ("claude-opus-4-1", "claude-sonnet-4-6", "claude-haiku-4-5")
TASKS = ("chat", "extraction", "summarisation", "reasoning")


def event(i: int, ts: datetime, prefix: str = "e") -> UsageEvent:
    return UsageEvent(
        id=f"{prefix}{i}",
        ts=ts,
        task=TASKS[i % 4],
        model=MODELS[i % 3],
        input_tokens=800 + i % 500,
        output_tokens=150 + i % 300,
        cache_read_tokens=(i % 5) * 400,
        cost_micros=4_000 + i % 9_000,
    )


def fill(path: Path, n: int, span: timedelta) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    step = span / max(n, 1)
    with SQLiteSink(path) as sink:
        for start in range(0, n, 10_000):
            sink.write_events([event(i, now - span + step * i) for i in range(start, min(start + 10_000, n))])
    return time.perf_counter() - started


async def first_paint(path: Path) -> float:
    """Seconds from building the app to the first snapshot on screen."""
    started = time.perf_counter()
    app = build_app(MonitorOptions(sinks=(str(path),), no_claude_code=True, delay_s=0.1), Config())
    async with app.run_test(size=(120, 40)) as pilot:
        while app.snapshots_shown == 0:
            await pilot.pause(0.005)
        return time.perf_counter() - started


async def latency(path: Path, rate: int, seconds: float) -> list[float]:
    """Per written chunk: seconds from the write returning to a snapshot that counts it, on screen."""
    app = build_app(MonitorOptions(sinks=(str(path),), no_claude_code=True, delay_s=0.1), Config())
    written: list[tuple[int, float]] = []
    stop = threading.Event()

    def writer() -> None:
        chunk = max(rate // 20, 1)
        n = 0
        with SQLiteSink(path) as sink:
            while not stop.is_set():
                sink.write_events([event(n + k, datetime.now(UTC), "live") for k in range(chunk)])
                n += chunk
                written.append((n, time.perf_counter()))
                time.sleep(chunk / rate)

    lat: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        while app.latest is None:
            await pilot.pause(0.01)
        base = app.latest.total_requests
        thread = threading.Thread(target=writer)
        thread.start()
        end = time.perf_counter() + seconds
        seen_shown = app.snapshots_shown
        pending = 0
        while time.perf_counter() < end:
            await pilot.pause(0.005)
            if app.snapshots_shown == seen_shown or app.latest is None:
                continue
            seen_shown = app.snapshots_shown
            shown_total = app.latest.total_requests - base
            now = time.perf_counter()
            while pending < len(written) and written[pending][0] <= shown_total:
                lat.append(now - written[pending][1])
                pending += 1
        stop.set()
        thread.join()
    return lat


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--day-rate", type=int, default=100)
    parser.add_argument("--day-hours", type=float, default=24.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty, big, live, day = (Path(tmp) / name for name in ("empty.db", "big.db", "live.db", "day.db"))
        fill(empty, 0, timedelta(days=1))
        base = asyncio.run(first_paint(empty))
        print(f"first paint, empty sink (baseline): {base * 1000:.0f} ms")
        took = fill(big, args.events, timedelta(days=20))
        print(f"wrote {args.events:,} events in {took:.1f} s")
        paint = asyncio.run(first_paint(big))
        print(
            f"first paint, {args.events:,} events: {paint * 1000:.0f} ms "
            f"({paint / base:.1f}x baseline; target < 1000 ms)"
        )
        fill(live, 0, timedelta(days=1))
        lat = sorted(asyncio.run(latency(live, args.rate, args.seconds)))
        if lat:
            p50, p95 = statistics.median(lat), lat[int(len(lat) * 0.95) - 1 if len(lat) > 1 else 0]
            print(
                f"event-to-screen at {args.rate}/s: p50 {p50 * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms (target p95 < 250 ms)"
            )
        day_events = int(args.day_rate * 3600 * args.day_hours)
        before = rss_mb()
        fill(day, day_events, timedelta(hours=args.day_hours))
        asyncio.run(first_paint(day))
        print(
            f"peak RSS after {day_events:,} events ({args.day_hours:g} h at {args.day_rate}/s): "
            f"{rss_mb():.0f} MB "
            f"(before: {before:.0f} MB; target < 150 MB)"
        )


if __name__ == "__main__":
    main()
