"""``claudetop report`` end to end over a real SQLite sink, priced by the real price book.

Expected dollars are recomputed here from the published per-million-token prices
(sonnet-4-6: $3 input, $15 output, $0.30 cache read; opus-4-7: $5 / $25).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from claudetop.cli import main
from claudetop.model import UsageEvent
from claudetop.pricing import price_event
from claudetop.sinks import open_sink


def _sink(path: Path, now: datetime) -> None:
    sink = open_sink(path)
    events = [
        UsageEvent(
            id=f"s{i}",
            ts=now - timedelta(hours=i + 1),
            model="claude-sonnet-4-6",
            task="chat",
            input_tokens=1_000,
            output_tokens=100,
            cache_read_tokens=10_000,
        )
        for i in range(10)
    ] + [
        UsageEvent(
            id="o1",
            ts=now - timedelta(minutes=30),
            model="claude-opus-4-7",
            task="reasoning",
            input_tokens=2_000,
            output_tokens=1_000,
        ),
        UsageEvent(
            id="u1", ts=now - timedelta(minutes=20), model="claude-mystery-9", task="chat", input_tokens=5
        ),
    ]
    sink.write_events([price_event(e) for e in events])
    sink.close()


def _empty_config(tmp_path: Path) -> str:
    path = tmp_path / "claudetop.toml"
    path.write_text("")
    return str(path)


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["report", *args])
    return code, capsys.readouterr().out


def test_json_report_totals_by_model_and_unpriced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    if now.day == 1 and now.hour < 12:
        pytest.skip("events would fall in the previous month")
    db = tmp_path / "usage.db"
    _sink(db, now)
    code, out = _run(capsys, "--sink", str(db), "--format", "json", "--config", _empty_config(tmp_path))
    data = json.loads(out)
    assert data["schema_version"] == 1
    sonnet = Decimal(10) * (1_000 * 3 + 100 * 15 + 10_000 * Decimal("0.30")) / 1_000_000
    opus = (Decimal(2_000) * 5 + 1_000 * 25) / 1_000_000
    assert Decimal(data["totals"]["cost_usd"]) == sonnet + opus
    assert data["totals"]["requests"] == 12
    assert data["totals"]["tokens"]["cache_read"] == 100_000
    assert Decimal(data["by_model"]["claude-opus-4-7"]["cost_usd"]) == opus
    assert data["unpriced"] == [{"model": "claude-mystery-9", "requests": 1, "tokens": 5}]
    assert data["cache"]["hit_ratio"] == pytest.approx(100_000 / (100_000 + 10_000 + 2_000 + 5))
    assert code == 0
    proj = data["projection"]
    assert Decimal(proj["month_to_date_usd"]) == sonnet + opus
    assert Decimal(proj["projected_month_usd"]) >= Decimal(proj["month_to_date_usd"])


def test_budget_exit_code_and_markdown_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    db = tmp_path / "usage.db"
    _sink(db, now)
    code, out = _run(
        capsys,
        "--sink",
        str(db),
        "--format",
        "markdown",
        "--budget",
        "0.01",
        "--config",
        _empty_config(tmp_path),
    )
    assert code == 3
    assert "| strategy | monthly cost | cache hit rate | model use | batch use |" in out
    assert "| naive (no cache, no batch) |" in out
    assert "| with all policies |" in out


def test_bad_config_exits_2_with_path_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[cache]\nttl = 5\n")
    db = tmp_path / "usage.db"
    _sink(db, datetime.now(UTC))
    assert main(["report", "--sink", str(db), "--config", str(cfg)]) == 2
    assert f"{cfg}:2:" in capsys.readouterr().err


def test_text_projection_shows_a_band_only_when_there_is_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from claudetop.analysis.report import render

    db = tmp_path / "usage.db"
    _sink(db, datetime.now(UTC))
    _, out = _run(capsys, "--sink", str(db), "--format", "json", "--config", _empty_config(tmp_path))
    data = json.loads(out)
    proj = data["projection"]
    line = next(x for x in render(data, "text").splitlines() if x.startswith("month to date:"))
    assert line.endswith(f"projected month: ${Decimal(proj['projected_month_usd']):,.2f}")  # under two days
    assert "over the last" in proj["method"] and "hours x" in proj["method"]
    proj["projected_low_usd"], proj["projected_high_usd"] = "10.000000", "1234.500000"
    line = next(x for x in render(data, "text").splitlines() if x.startswith("month to date:"))
    assert line.endswith("($10.00 - $1,234.50)")
