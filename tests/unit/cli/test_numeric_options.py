"""Amounts, durations and speeds must be finite and in range: argparse rejects the rest (exit 2), so a
report never crashes on ``--budget nan`` and a demo never runs forever on ``--duration nan``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.conftest import Cli


@pytest.mark.parametrize("budget", ["nan", "NaN", "Infinity", "-inf", "1e999999999", "0", "-1", "five"])
def test_report_and_monitor_reject_a_budget_that_is_not_a_positive_finite_amount(
    cli: Cli, sink: Path, budget: str
) -> None:
    proc = cli("report", "--sink", sink, "--budget", budget)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert "claudetop report: error: argument --budget: " in proc.stderr
    proc = cli("--budget", budget)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert "claudetop: error: argument --budget: " in proc.stderr


def test_one_budget_parser_takes_dollar_signs() -> None:
    from claudetop.cli import positive_usd

    assert str(positive_usd("$5.50")) == "5.50"
    assert str(positive_usd("1000000000000")) == "1000000000000"


@pytest.mark.parametrize(
    "option",
    [
        ["--speed", "inf"],
        ["--speed", "1e300"],
        ["--speed", "nan"],
        ["--duration", "nan"],
        ["--duration", "inf"],
    ],
)
def test_demo_rejects_a_speed_or_duration_that_never_ends(cli: Cli, option: list[str]) -> None:
    proc = cli("demo", "--headless", *option, timeout=30)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert f"claudetop demo: error: argument {option[0]}: " in proc.stderr
