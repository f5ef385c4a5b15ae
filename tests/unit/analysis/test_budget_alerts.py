"""Budget thresholds fire once per UTC month, survive restarts, fire again next month, run the command."""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.budget import BudgetAlerts, alert_env, budget_alerts_for, crossed, run_in_background
from claudetop.analysis.rates import RateTable
from claudetop.analysis.snapshot import build_snapshot
from claudetop.config import Config
from claudetop.model import PolicySet, micros_from_usd
from tests.unit.analysis.helpers import TablePricer, ev

BUDGET = micros_from_usd("100")
NOV = datetime(2026, 11, 20, 12, tzinfo=UTC)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str], float]] = []

    def __call__(self, command: str, env: dict[str, str], timeout_s: float) -> None:
        self.calls.append((command, env, timeout_s))


def test_crossed_is_exact_at_the_boundary() -> None:
    assert crossed([0.5, 0.8, 1.0], micros_from_usd("49.999999"), BUDGET) == []
    assert crossed([0.5, 0.8, 1.0], micros_from_usd("50"), BUDGET) == [0.5]
    assert crossed([0.5, 0.8, 1.0], micros_from_usd("100"), BUDGET) == [0.5, 0.8, 1.0]


def test_each_threshold_fires_once_per_month_and_is_recorded(tmp_path: Path) -> None:
    state = tmp_path / "alerts.json"
    run = Recorder()
    alerts = BudgetAlerts(BUDGET, [0.5, 0.8, 1.0], state, command="notify", runner=run)
    assert alerts.check(NOV, micros_from_usd("40")) == []
    assert [a.threshold for a in alerts.check(NOV + timedelta(hours=1), micros_from_usd("55"))] == [0.5]
    assert alerts.check(NOV + timedelta(hours=2), micros_from_usd("60")) == []
    assert [a.threshold for a in alerts.check(NOV + timedelta(hours=3), micros_from_usd("85"))] == [0.8]
    assert [c[1]["CLAUDETOP_ALERT_THRESHOLD"] for c in run.calls] == ["0.5", "0.8"]
    assert run.calls[0][1]["CLAUDETOP_ALERT_MONTH_TO_DATE_USD"] == "55.000000"
    assert run.calls[0][1]["CLAUDETOP_ALERT_BUDGET_USD"] == "100.000000"
    saved = json.loads(state.read_text())["fired"]
    assert [(a["month"], a["threshold"]) for a in saved] == [("2026-11", 0.5), ("2026-11", 0.8)]


def test_a_restart_does_not_fire_again_but_next_month_does(tmp_path: Path) -> None:
    state = tmp_path / "alerts.json"
    BudgetAlerts(BUDGET, [0.5, 0.8], state, runner=Recorder()).check(NOV, micros_from_usd("90"))
    run = Recorder()
    restarted = BudgetAlerts(BUDGET, [0.5, 0.8], state, command="notify", runner=run)
    assert restarted.check(NOV + timedelta(days=1), micros_from_usd("95")) == []
    assert [a.threshold for a in restarted.fired("2026-11")] == [0.5, 0.8]
    assert run.calls == []
    december = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    assert restarted.check(december, micros_from_usd("10")) == []
    assert [a.threshold for a in restarted.check(december, micros_from_usd("50"))] == [0.5]
    assert [c[1]["CLAUDETOP_ALERT_MONTH"] for c in run.calls] == ["2026-12"]


def test_unreadable_state_is_reported_and_ignored(tmp_path: Path, capsys: object) -> None:
    state = tmp_path / "alerts.json"
    state.write_text("{not json")
    alerts = BudgetAlerts(BUDGET, [0.5], state, runner=Recorder())
    assert [a.threshold for a in alerts.check(NOV, micros_from_usd("60"))] == [0.5]
    assert "ignoring unreadable" in capsys.readouterr().err  # type: ignore[attr-defined]


def test_the_command_runs_in_the_background_with_the_alert_in_its_environment(tmp_path: Path) -> None:
    out = tmp_path / "env.txt"
    alerts = BudgetAlerts(BUDGET, [0.5], tmp_path / "alerts.json", command=f"sleep 0.3; env > {out}")
    fired = alerts.check(NOV, micros_from_usd("51"))
    assert not out.exists()  # check() returned without waiting for the command
    deadline = time.monotonic() + 30
    while not (out.exists() and "CLAUDETOP_ALERT_PERCENT" in out.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    text = out.read_text()
    for key, value in alert_env(fired[0]).items():
        assert f"{key}={value}" in text


def test_a_command_that_hangs_is_killed_after_its_timeout(tmp_path: Path) -> None:
    marker = tmp_path / "late.txt"
    run_in_background(f"sleep 3; touch {marker}", {}, 0.2)
    time.sleep(4)
    assert not marker.exists()


def test_snapshot_header_shows_the_thresholds_crossed_and_when(tmp_path: Path) -> None:
    agg = Aggregator()
    # 3,000,000 input tokens on claude-sonnet-4-6 at $3/MTok = $9.00; budget $10 -> 90%
    agg.add([ev(NOV - timedelta(hours=2), input_tokens=3_000_000)])
    alerts = BudgetAlerts(micros_from_usd("10"), [0.5, 0.8, 1.0], tmp_path / "a.json", runner=Recorder())
    snap = build_snapshot(
        agg,
        NOV,
        PolicySet(),
        Config(),
        RateTable(TablePricer()),
        budget_micros=micros_from_usd("10"),
        alerts=alerts,
    )
    assert [(a.threshold, a.fired_at, a.month_to_date_micros) for a in snap.header.budget_alerts] == [
        (0.5, NOV, 9_000_000),
        (0.8, NOV, 9_000_000),
    ]


def test_raising_the_budget_mid_month_re_arms_the_thresholds_at_the_new_budget(tmp_path: Path) -> None:
    state = tmp_path / "alerts.json"
    old = BudgetAlerts(BUDGET, [0.5, 0.8], state, runner=Recorder())
    assert [a.threshold for a in old.check(NOV, micros_from_usd("85"))] == [0.5, 0.8]
    raised = BudgetAlerts(micros_from_usd("500"), [0.5, 0.8], state, runner=Recorder())
    assert raised.fired("2026-11") == []  # the alerts shown are those at the budget in force
    assert raised.check(NOV + timedelta(hours=1), micros_from_usd("240")) == []
    assert [a.threshold for a in raised.check(NOV + timedelta(hours=2), micros_from_usd("250"))] == [0.5]
    assert [a.threshold for a in raised.check(NOV + timedelta(hours=3), micros_from_usd("400"))] == [0.8]
    assert raised.check(NOV + timedelta(hours=4), micros_from_usd("450")) == []
    again = BudgetAlerts(micros_from_usd("500"), [0.5, 0.8], state, runner=Recorder())
    assert again.check(NOV + timedelta(hours=5), micros_from_usd("460")) == []  # once per budget, too
    assert [(a.threshold, a.budget_micros) for a in again.fired("2026-11")] == [
        (0.5, micros_from_usd("500")),
        (0.8, micros_from_usd("500")),
    ]


def test_a_state_that_cannot_be_saved_still_fires_each_threshold_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    run = Recorder()
    alerts = BudgetAlerts(BUDGET, [0.5], blocker / "alerts.json", command="notify", runner=run)
    for hour in range(3):  # a monitor checks at every refresh
        alerts.check(NOV + timedelta(hours=hour), micros_from_usd("60"))
    assert len(run.calls) == 1
    assert capsys.readouterr().err.count("cannot record budget alerts") == 1


def test_sources_measuring_different_spend_fire_their_own_alerts(tmp_path: Path) -> None:
    state = tmp_path / "alerts.json"
    monitor = budget_alerts_for(Config(), BUDGET, state, ["sqlite:events.db", "claude-code:~/.claude"])
    report = budget_alerts_for(Config(), BUDGET, state, ["sqlite:events.db"])
    again = budget_alerts_for(Config(), BUDGET, state, ["sqlite:events.db"])
    assert monitor is not None and report is not None and again is not None
    assert [a.threshold for a in monitor.check(NOV, micros_from_usd("85"))] == [0.5, 0.8]
    assert [a.threshold for a in report.check(NOV, micros_from_usd("55"))] == [0.5]
    assert again.check(NOV + timedelta(hours=1), micros_from_usd("60")) == []
    assert alert_env(report.fired("2026-11")[0])["CLAUDETOP_ALERT_SOURCES"] == "sqlite:events.db"


def test_a_check_does_not_wait_for_a_lock_held_elsewhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "alerts.json"
    run = Recorder()
    alerts = BudgetAlerts(BUDGET, [0.5], state, command="notify", runner=run)
    holder = os.open(tmp_path / ".alerts.json.lock", os.O_CREAT | os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)  # another open file description: flock excludes it as another process
    try:
        assert alerts.check(NOV, micros_from_usd("60")) == []
        assert "locked by another process" in capsys.readouterr().err
    finally:
        os.close(holder)
    assert [a.threshold for a in alerts.check(NOV, micros_from_usd("60"))] == [0.5]
    assert len(run.calls) == 1


def test_the_documented_alert_variables_are_the_ones_the_command_gets() -> None:
    root = Path(__file__).resolve().parents[3]
    given = set(alert_env(BudgetAlerts(BUDGET, [0.5], None).check(NOV, BUDGET)[0]))
    for doc in (root / "sample_config.toml", root / "docs" / "report-schema.md"):
        named = set(re.findall(r"CLAUDETOP_ALERT_[A-Z_]+", doc.read_text()))
        assert named == given - {"CLAUDETOP_ALERT"}, doc.name
