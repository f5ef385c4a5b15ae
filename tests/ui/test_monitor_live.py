"""The monitor on the real pipeline: a real sink (a SQLite file in tmp_path, or a database on a real
PostgreSQL server), read by the real sources, folded by the real aggregator, policies in the real
store. No stand-ins."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from claudetop.config import Config, config_from_data
from claudetop.model import PolicyMode, PolicyName, UsageEvent, format_usd
from claudetop.policies import PolicyStore
from claudetop.sinks import SQLiteSink, open_sink
from claudetop.ui.options import MonitorOptions
from claudetop.ui.run import build_app
from tests.integration.sources.transcript_lines import assistant_line
from tests.ui.screen_text import screen_text

SONNET_INPUT_PER_MTOK = 3  # USD, published price for claude-sonnet-4-6
SONNET_OUTPUT_PER_MTOK = 15


def _events(n: int) -> list[UsageEvent]:
    now = datetime.now(UTC)
    cost = 1000 * SONNET_INPUT_PER_MTOK + 200 * SONNET_OUTPUT_PER_MTOK  # micro-dollars per call
    return [
        UsageEvent(
            id=f"e{i}",
            ts=now - timedelta(seconds=30 * i),
            task="chat",
            model="claude-sonnet-4-6",
            input_tokens=1000,
            output_tokens=200,
            cost_micros=cost,
        )
        for i in range(n)
    ]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sink_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the monitor reads: a SQLite file, or a fresh database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "events.db")
    dsn: str = request.getfixturevalue("pg_dsn")
    return dsn


async def _until(pilot: Pilot[Any], condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    """Let the app run until ``condition`` holds: the feed thread's pace on a loaded machine is unknown."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def _write(target: str, events: list[UsageEvent]) -> None:
    sink = open_sink(target)
    try:
        sink.write_events(events)
    finally:
        sink.close()


async def test_new_events_in_the_sink_reach_the_screen(sink_target: str) -> None:
    _write(sink_target, _events(10))
    app = build_app(MonitorOptions(sinks=(sink_target,), no_claude_code=True, delay_s=0.1), Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.6)
        first = app.latest
        assert first is not None and first.total_requests == 10
        _write(sink_target, [e.model_copy(update={"id": f"n{e.id}"}) for e in _events(5)])
        for _ in range(40):
            await pilot.pause(0.1)
            if app.latest is not None and app.latest.total_requests == 15:
                break
        assert app.latest is not None and app.latest.total_requests == 15
        text = screen_text(app)
    per_call = 1000 * SONNET_INPUT_PER_MTOK + 200 * SONNET_OUTPUT_PER_MTOK
    assert format_usd(15 * per_call) in text


async def test_c_on_the_live_pipeline_changes_the_store_and_the_screen(sink_target: str) -> None:
    _write(sink_target, _events(3))
    app = build_app(MonitorOptions(sinks=(sink_target,), no_claude_code=True, delay_s=0.1), Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.5)
        await pilot.press("c")
        await pilot.pause(0.6)
        cache_line = next(line for line in screen_text(app).splitlines() if "│ cache" in line)
        assert "shadow" in cache_line
        assert app.latest is not None
        assert {r.name: r.mode for r in app.latest.policies}[PolicyName.CACHE] is PolicyMode.SHADOW
    with PolicyStore(sink_target, config=Config()) as store:
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.SHADOW


async def test_a_sink_that_does_not_exist_is_created_by_a_policy_change_not_by_watching(
    tmp_path: Path,
) -> None:
    db = tmp_path / "not-yet.db"
    app = build_app(MonitorOptions(sinks=(str(db),), no_claude_code=True, delay_s=0.1), Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await _until(pilot, lambda: app.latest is not None)  # built after the policy modes were read
        assert not db.exists()
        await pilot.press("c")
        await _until(pilot, db.exists)
    with PolicyStore(str(db), config=Config()) as store:
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.SHADOW


async def test_a_corrupt_sink_shows_a_banner_not_a_crash(tmp_path: Path) -> None:
    sink_path = tmp_path / "events.db"
    sink_path.write_bytes(b"this is not a database" * 100)
    app = build_app(MonitorOptions(sinks=(str(sink_path),), no_claude_code=True, delay_s=0.1), Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.6)
        text = screen_text(app)
        assert app.is_running
    assert app.trouble is not None or "✖" in text
    assert "cannot read" in text or "✖" in text


async def test_a_big_sink_shows_a_marked_preview_first_then_the_whole_history(tmp_path: Path) -> None:
    from claudetop.ui.pipeline import PREVIEW_ROWS

    sink_path = tmp_path / "events.db"
    total = PREVIEW_ROWS * 3
    with SQLiteSink(sink_path) as sink:
        sink.write_events(_events(total))
    app = build_app(MonitorOptions(sinks=(str(sink_path),), no_claude_code=True, delay_s=0.1), Config())
    shown: list[tuple[int, bool | None]] = []
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(200):
            await pilot.pause(0.02)
            if app.latest is not None and (not shown or shown[-1][0] != app.latest.total_requests):
                shown.append((app.latest.total_requests, app.loading.preview if app.loading else None))
                if len(shown) == 1:
                    line = app.query_one("#loading", Static)
                    assert line.display and "reading history" in str(line.content)
            if app.latest is not None and app.latest.total_requests == total and app.loading is None:
                break
        await pilot.pause()
        text = screen_text(app)
    assert shown[0] == (PREVIEW_ROWS, True), shown
    assert shown[-1] == (total, None), shown
    assert "reading history" not in text
    per_call = 1000 * SONNET_INPUT_PER_MTOK + 200 * SONNET_OUTPUT_PER_MTOK
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_month = sum(1 for e in _events(total) if e.ts >= month_start)
    assert format_usd(this_month * per_call) in text


async def test_history_from_an_earlier_month_is_read_but_the_panels_say_this_month_had_none(
    tmp_path: Path,
) -> None:
    sink_path = tmp_path / "events.db"
    month_start = datetime.now(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    earlier = [
        e.model_copy(update={"ts": month_start - timedelta(days=3, minutes=i)})
        for i, e in enumerate(_events(4))
    ]
    _write(str(sink_path), earlier)
    app = build_app(MonitorOptions(sinks=(str(sink_path),), no_claude_code=True, delay_s=0.1), Config())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.6)
        text = screen_text(app)
        assert app.latest is not None
        assert app.latest.total_requests == 0
        assert [s.events_read for s in app.latest.header.sources] == [4]
    assert "no calls this month" in text


async def test_claude_code_spend_on_screen_follows_the_config_price_overrides(tmp_path: Path) -> None:
    session = tmp_path / "claude" / "projects" / "-home-u-app" / "S9.jsonl"
    session.parent.mkdir(parents=True)
    ts = datetime.now(UTC) - timedelta(minutes=5)
    session.write_text(assistant_line("msgA", ts.strftime("%Y-%m-%dT%H:%M:%S.000Z"), 40) + "\n")
    settled = ts.timestamp()
    os.utime(session, (settled, settled))  # the reply is over: no need to wait for the file to settle
    config = config_from_data(
        {"pricing": {"models": {"claude-haiku-4-5": {"input_per_mtok": 2, "output_per_mtok": 10}}}}
    )
    options = MonitorOptions(
        sinks=(str(tmp_path / "events.db"),), claude_code=(tmp_path / "claude",), delay_s=0.1
    )
    app = build_app(options, config)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.6)
        assert app.latest is not None
        assert (app.latest.total_requests, app.latest.total_cost_micros) == (1, 7 * 2 + 40 * 10)


async def test_a_shorter_refresh_interval_applies_at_once(tmp_path: Path) -> None:
    """With a minute between refreshes, a key that shortens it must not wait out the minute."""
    sink_path = tmp_path / "events.db"
    _write(str(sink_path), _events(2))
    app = build_app(MonitorOptions(sinks=(str(sink_path),), no_claude_code=True, delay_s=60), Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.6)
        assert app.latest is not None and app.latest.total_requests == 2
        _write(str(sink_path), [e.model_copy(update={"id": f"n{e.id}"}) for e in _events(3)])
        await pilot.press("plus")
        for _ in range(30):
            await pilot.pause(0.1)
            if app.latest.total_requests == 5:
                break
        assert app.latest.total_requests == 5


async def test_the_monitor_fires_budget_alerts_once_and_shows_them(tmp_path: Path) -> None:
    db = str(tmp_path / "events.db")
    events = _events(10)  # this month's spend, priced independently below
    if any(e.ts.month != datetime.now(UTC).month for e in events):
        pytest.skip("the events would straddle a month boundary")
    _write(db, events)
    spend = 10 * (1000 * SONNET_INPUT_PER_MTOK + 200 * SONNET_OUTPUT_PER_MTOK)  # micro-dollars
    budget = Decimal(spend) / 1_000_000 / Decimal("0.6")  # spend is 60% of it: 50% fires, 80% does not
    fired = tmp_path / "fired.txt"
    config = config_from_data(
        {
            "monitoring": {
                "alert_thresholds": [0.5, 0.8],
                "alert_command": f'echo "$CLAUDETOP_ALERT_PERCENT"'
                f' "$CLAUDETOP_ALERT_MONTH_TO_DATE_USD" >> {fired}',
            }
        }
    )
    options = MonitorOptions(
        sinks=(db,), no_claude_code=True, delay_s=0.1, budget_usd=budget, alert_state=tmp_path / "alerts.json"
    )
    recorded = []
    for _ in range(2):  # a restarted monitor does not fire it again
        app = build_app(options, config)
        async with app.run_test(size=(120, 40)) as pilot:
            await _until(pilot, lambda app=app: fired.exists() and "alerts 50%" in screen_text(app))
            text = screen_text(app)
        assert "80%" not in text.split("alerts", 1)[1].split("\n", 1)[0]
        recorded.append((tmp_path / "alerts.json").read_text())  # a new firing records a new time
    assert recorded[0] == recorded[1]
    assert fired.read_text().splitlines() == [f"50 {Decimal(spend) / 1_000_000:.6f}"]


async def test_without_an_alert_state_no_budget_alert_fires_as_in_the_demo(tmp_path: Path) -> None:
    db = str(tmp_path / "events.db")
    _write(db, _events(10))
    options = MonitorOptions(sinks=(db,), no_claude_code=True, delay_s=0.1, budget_usd=Decimal("0.01"))
    app = build_app(options, Config())
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.latest is not None and app.latest.total_requests == 10)
        assert app.latest is not None and app.latest.header.budget_alerts == ()
