"""Monitor benchmarks: first paint over a big sink, event-to-screen latency under load, memory after a day.

    python bench/tui.py [--events 1000000] [--rate 1000] [--seconds 10] [--day-rate 100] [--day-hours 24]

Every figure is printed next to a baseline measured in the same run:

- first paint: seconds from building the monitor to its first snapshot on screen, over a sink of
  ``--events`` events, against the same over an empty sink; also when the full history is in;
- latency: a separate writer process appends ``--rate`` events/s to a SQLite sink through
  ``SQLiteSink.write_events``; for every write, the time until the monitor shows a snapshot that
  counts it (against the monitor's own refresh interval, the floor of that latency);
- memory: a separate monitor process (the real app, headless) folds a simulated day at
  ``--day-rate`` events/s (8.64 M events by default) through its real pipeline at full speed,
  from a source that generates the events in chunks; the parent reads the child's VmRSS and VmHWM
  from /proc afterwards, against the same process's RSS before the first event.

Targets (issue 9): first paint < 1 s with 1,000,000 events; p95 latency < 250 ms at 1,000 events/s;
RSS < 150 MB after a simulated day at 100 events/s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from claudetop.config import Config
from claudetop.model import PrefixFingerprint, UsageEvent
from claudetop.sinks import SQLiteSink
from claudetop.sources.types import SourceDelta, SourceHealth
from claudetop.ui.options import MonitorOptions
from claudetop.ui.run import build_app

MODELS = ("claude-opus-4-1", "claude-sonnet-4-6", "claude-haiku-4-5")
TASKS = ("chat", "extraction", "summarisation", "reasoning")
DELAY_S = 0.1
"""The monitor's refresh interval in every run."""

_TEMPLATES = [
    UsageEvent(
        id="template",
        ts=datetime(2026, 1, 1, tzinfo=UTC),
        task=TASKS[i % 4],
        model=MODELS[i % 3],
        app=f"app-{i % 2}",
        input_tokens=800 + i * 7,
        output_tokens=150 + i * 11,
        cache_read_tokens=(i % 5) * 400,
        cache_write_5m_tokens=1_200 if i % 5 == 1 else 0,
        cost_micros=4_000 + i * 97,
        prefixes=(PrefixFingerprint(scope="system", sha256=f"{i % 6:064x}", tokens=1_200, breakpoint=True),),
    )
    for i in range(60)
]


def event(i: int, ts: datetime, prefix: str = "e") -> UsageEvent:
    """The ``i``-th synthetic event: validated templates copied with a new id and time (fast)."""
    return _TEMPLATES[i % len(_TEMPLATES)].model_copy(update={"id": f"{prefix}{i}", "ts": ts})


def fill(path: Path, n: int, span: timedelta, chunk: int = 50_000) -> float:
    started = time.perf_counter()
    first = datetime.now(UTC) - span
    step = span / max(n, 1)
    with SQLiteSink(path) as sink:
        for start in range(0, n, chunk):
            sink.write_events([event(i, first + step * i) for i in range(start, min(start + chunk, n))])
    return time.perf_counter() - started


# --- first paint -----------------------------------------------------------------------------


async def first_paint(path: Path) -> tuple[float, float]:
    """(seconds to the first snapshot on screen, seconds until the whole history is in)."""
    started = time.perf_counter()
    app = build_app(MonitorOptions(sinks=(str(path),), no_claude_code=True, delay_s=DELAY_S), Config())
    async with app.run_test(size=(120, 40)) as pilot:
        while app.snapshots_shown == 0:
            await pilot.pause(0.005)
        paint = time.perf_counter() - started
        while app.loading is not None:
            await pilot.pause(0.05)
        return paint, time.perf_counter() - started


# --- latency -----------------------------------------------------------------------------------


def _writer(path: str, rate: int, seconds: float, out: Connection) -> None:
    """Child process: once told to go, ``rate`` events/s in 20 writes a second; reports (events so
    far, monotonic time) after each write."""
    out.recv()
    chunk = max(rate // 20, 1)
    n = 0
    end = time.monotonic() + seconds
    with SQLiteSink(path) as sink:
        while time.monotonic() < end:
            due = time.monotonic() + chunk / rate
            sink.write_events([event(n + k, datetime.now(UTC), "live") for k in range(chunk)])
            n += chunk
            out.send((n, time.monotonic()))
            time.sleep(max(due - time.monotonic(), 0))
    out.send(None)
    out.close()


async def latency(path: Path, rate: int, seconds: float) -> tuple[list[float], list[float]]:
    """Per write of the writer process: seconds from the write returning to a snapshot that counts it."""
    app = build_app(MonitorOptions(sinks=(str(path),), no_claude_code=True, delay_s=DELAY_S), Config())
    lat: list[float] = []
    receive, send = mp.Pipe()
    writer = mp.get_context("spawn").Process(target=_writer, args=(str(path), rate, seconds, send))
    writer.start()  # before the app takes over stdio: spawning needs the real file descriptors
    async with app.run_test(size=(120, 40)) as pilot:
        while app.latest is None:
            await pilot.pause(0.01)
        base = app.latest.total_requests
        receive.send("go")
        written: list[tuple[int, float]] = []
        seen = app.snapshots_shown
        done = False
        deadline = time.monotonic() + seconds + 10
        while time.monotonic() < deadline:
            await pilot.pause(0.002)
            while receive.poll():
                item = receive.recv()
                if item is None:
                    done = True
                else:
                    written.append(item)
            if app.snapshots_shown == seen or app.latest is None:
                continue
            seen = app.snapshots_shown
            shown = app.latest.total_requests - base
            now = time.monotonic()
            while len(lat) < len(written) and written[len(lat)][0] <= shown:
                lat.append(now - written[len(lat)][1])
            if done and len(lat) == len(written):
                break
        writer.join(10)
    return lat, list(app.build_times_s)


# --- memory after a day ----------------------------------------------------------------------


class DaySource:
    """A source that plays a day of events at ``rate``/s, ``chunk`` events per poll, as fast as polled."""

    name = "simulated-day"

    def __init__(self, total: int, rate: int, chunk: int = 20_000) -> None:
        self.total, self.chunk = total, chunk
        self.playing = False
        """Nothing is played until set, so the process's size before the first event can be read."""
        self.start = datetime.now(UTC) - timedelta(seconds=total / rate)
        self.step = timedelta(seconds=1 / rate)
        self.read = 0

    def poll(self) -> SourceDelta:
        n = min(self.chunk, self.total - self.read) if self.playing else 0
        events = [event(i, self.start + self.step * i, "day") for i in range(self.read, self.read + n)]
        self.read += n
        return SourceDelta(events=events)

    def health(self) -> SourceHealth:
        return SourceHealth(name=self.name, ok=True, events_read=self.read)


def _rss_kb() -> dict[str, int]:
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def _day_monitor(total: int, rate: int, report: Connection) -> None:
    """Child process: the real monitor app on the real pipeline, fed a day from ``DaySource``."""
    from claudetop.ui.pipeline import Pipeline

    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(
            MonitorOptions(sinks=(str(Path(tmp) / "empty.db"),), no_claude_code=True, delay_s=DELAY_S),
            Config(),
        )
        pipeline = app.feed.build  # type: ignore[attr-defined]
        assert isinstance(pipeline, Pipeline)
        source = DaySource(total, rate)
        pipeline.sources = [source]

        async def run() -> None:
            async with app.run_test(size=(120, 40)) as pilot:
                while app.latest is None:
                    await pilot.pause(0.01)
                await pilot.pause(0.5)
                report.send(("before", _rss_kb()))
                started = time.perf_counter()
                source.playing = True
                while app.latest is None or app.latest.total_requests < total:
                    await pilot.pause(0.5)
                report.send(("after", {**_rss_kb(), "seconds": round(time.perf_counter() - started)}))
                report.recv()  # the parent has read /proc: quit

        asyncio.run(run())


def day_memory(total: int, rate: int) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """(child's own figures before, after; the parent's reading of the child's /proc status after)."""
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_day_monitor, args=(total, rate, child))
    proc.start()
    try:
        _, before = parent.recv()
        _, after = parent.recv()
        seen = {}
        for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                seen[key] = int(value.split()[0])
        parent.send("quit")
        proc.join(30)
    finally:
        if proc.is_alive():
            proc.kill()
    return before, after, seen


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--day-rate", type=int, default=100)
    parser.add_argument("--day-hours", type=float, default=24.0)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (timings scale with it)")
    with tempfile.TemporaryDirectory() as tmp:
        empty, big, live = (Path(tmp) / name for name in ("empty.db", "big.db", "live.db"))
        fill(empty, 0, timedelta(days=1))
        base, _ = asyncio.run(first_paint(empty))
        print(f"first paint, empty sink (baseline): {base * 1000:.0f} ms")
        took = fill(big, args.events, timedelta(days=20))
        print(f"wrote {args.events:,} events in {took:.1f} s")
        paint, full = asyncio.run(first_paint(big))
        print(
            f"first paint, {args.events:,} events: {paint * 1000:.0f} ms "
            f"({paint / base:.1f}x baseline; target < 1000 ms); whole history in after {full:.1f} s"
        )
        fill(live, 0, timedelta(days=1))
        lat, builds = asyncio.run(latency(live, args.rate, args.seconds))
        print(
            f"  snapshot builds during that run: p50 {statistics.median(builds) * 1000:.0f} ms, "
            f"p95 {_p95(builds) * 1000:.0f} ms, max {max(builds) * 1000:.0f} ms"
        )
        if lat:
            p50, p95 = statistics.median(lat) * 1000, _p95(lat) * 1000
            print(
                f"event-to-screen at {args.rate:,}/s ({len(lat)} writes): p50 {p50:.0f} ms, p95 {p95:.0f} ms "
                f"max {max(lat) * 1000:.0f} ms (refresh interval {DELAY_S * 1000:.0f} ms: "
                f"p95 = {p95 / 1000 / DELAY_S:.1f}x; target p95 < 250 ms)"
            )
        day_events = int(args.day_rate * 3600 * args.day_hours)
        before, after, seen = day_memory(day_events, args.day_rate)
        rss, peak, start = (v / 1024 for v in (seen["VmRSS"], seen["VmHWM"], before["VmRSS"]))
        print(
            f"monitor process after {day_events:,} events ({args.day_hours:g} h at {args.day_rate}/s, "
            f"folded in {after['seconds']} s): RSS {rss:.0f} MB, peak {peak:.0f} MB "
            f"(before the first event: {start:.0f} MB, {rss / start:.1f}x; target < 150 MB)"
        )


if __name__ == "__main__":
    main()
