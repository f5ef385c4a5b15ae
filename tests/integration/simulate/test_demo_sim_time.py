"""``claudetop demo --speed N`` records on simulated time, so ``claudetop report`` sees the spend of
``duration x speed`` simulated seconds, not of ``duration`` wall seconds."""

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from claudetop.analysis.projection import month_bounds
from claudetop.model import micros_from_usd

DURATION_S, SPEED = 5, 3600
SIM_SPAN_S = DURATION_S * SPEED


def claudetop(*args: str, config: Path, timeout: float) -> str:
    env = {**os.environ, "CLAUDETOP_CONFIG": str(config)}
    done = subprocess.run(
        [sys.executable, "-m", "claudetop", *args], capture_output=True, text=True, env=env, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_headless_demo_is_reported_on_simulated_time(tmp_path: Path) -> None:
    sink, config = tmp_path / "sim.db", tmp_path / "config.toml"
    config.write_text("")
    now = datetime.now(UTC)
    start: list[str] = []
    if now + timedelta(seconds=SIM_SPAN_S * 2) >= month_bounds(now)[1]:  # keep the run in one month
        start = ["--start", (month_bounds(now)[1] + timedelta(hours=1)).isoformat()]
    claudetop(
        "demo",
        "--headless",
        "--duration",
        str(DURATION_S),
        "--speed",
        str(SPEED),
        "--sink",
        str(sink),
        *start,
        config=config,
        timeout=120,
    )
    with sqlite3.connect(sink) as conn:
        first, last, cost, n = conn.execute(
            "SELECT min(ts), max(ts), sum(cost_micros), count(*) FROM events"
        ).fetchone()
    assert n > 50, n
    span = (datetime.fromisoformat(last) - datetime.fromisoformat(first)).total_seconds()
    assert 0.5 * SIM_SPAN_S <= span <= 1.5 * SIM_SPAN_S, span  # wall-clock stamps would span ~5 s

    report = json.loads(
        claudetop("report", "--sink", str(sink), "--format", "json", config=config, timeout=120)
    )
    projection = report["projection"]
    mtd = micros_from_usd(Decimal(projection["month_to_date_usd"]))
    assert mtd == cost  # nothing recorded ahead of the wall clock is left out
    # the projection extrapolates ~SIM_SPAN_S of spend, not SIM_SPAN_S / SPEED seconds of it
    generated = datetime.fromisoformat(report["generated_at"])
    days_left = (month_bounds(generated)[1] - generated).total_seconds() / 86_400
    daily_rate = cost * 86_400 / max(span, 3_600)
    projected = micros_from_usd(Decimal(projection["projected_month_usd"]))
    assert projected <= (cost + daily_rate * days_left) * 1.3, (projected, cost, daily_rate, days_left)
