"""Processes that check the same budget state file at the same moment fire each threshold once."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime
from multiprocessing.synchronize import Barrier
from pathlib import Path

from claudetop.analysis.budget import BudgetAlerts
from claudetop.model import micros_from_usd

PROCESSES = 12
MONTHS = range(1, 13)
SPEND_STEPS = ("55", "85", "105")
"""Each step crosses the next threshold of 0.5, 0.8 and 1.0 of a $100 budget."""


def _check_every_step(state: Path, out: Path, barrier: Barrier) -> None:
    """One monitor or report run: its instance predates the race, like a monitor that has been up for
    days; every process checks each step at the same moment and writes down what it fired."""
    alerts = BudgetAlerts(micros_from_usd("100"), [0.5, 0.8, 1.0], state)
    fired: list[tuple[str, float]] = []
    for month in MONTHS:
        for spend in SPEND_STEPS:
            barrier.wait(30)
            now = datetime(2026, month, 15, tzinfo=UTC)
            fired += [(a.month, a.threshold) for a in alerts.check(now, micros_from_usd(spend))]
    out.write_text(json.dumps(fired))


def test_processes_racing_on_one_state_file_fire_each_threshold_once_per_month(tmp_path: Path) -> None:
    state = tmp_path / "state" / "budget_alerts.json"
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(PROCESSES)
    outs = [tmp_path / f"fired-{i}.json" for i in range(PROCESSES)]
    procs = [ctx.Process(target=_check_every_step, args=(state, out, barrier)) for out in outs]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    fired = sorted(tuple(f) for out in outs for f in json.loads(out.read_text()))
    expected = sorted((f"2026-{m:02d}", t) for m in MONTHS for t in (0.5, 0.8, 1.0))
    assert fired == expected
    saved = json.loads(state.read_text())["fired"]
    assert sorted((a["month"], a["threshold"]) for a in saved) == [
        (month, t) for month in ("2026-11", "2026-12") for t in (0.5, 0.8, 1.0)
    ]
