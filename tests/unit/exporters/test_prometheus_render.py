"""The exposition parses with prometheus_client and carries the report's own figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from claudetop.analysis.report import build_report
from claudetop.config import Config
from claudetop.exporters.prometheus import LiveReport, render
from claudetop.sinks import SQLiteSink
from claudetop.sources import open_sources
from tests.unit.sinks.factories import make_event

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _sink(tmp_path: Path) -> Path:
    path = tmp_path / "s.db"
    events = [
        make_event(i, ts=NOW - timedelta(minutes=3 * i), host=("web-1", 'odd "host"\nname')[i % 2])
        for i in range(200)
    ]
    with SQLiteSink(path) as sink:
        sink.write_events(events)
    return path


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_every_figure_is_the_reports(tmp_path: Path) -> None:
    report = build_report(open_sources(sinks=[_sink(tmp_path)]), Config(), now=NOW)
    got = _samples(render(report))
    assert got[("claudetop_cost_usd", ())] == float(Decimal(report["totals"]["cost_usd"]))
    assert got[("claudetop_requests", ())] == report["totals"]["requests"] == 200
    for kind, n in report["totals"]["tokens"].items():
        assert got[("claudetop_tokens", (("kind", kind),))] == n
    assert got[("claudetop_cache_hit_ratio", ())] == report["cache"]["hit_ratio"]
    assert report["by_host"].keys() == {"web-1", 'odd "host"\nname'}
    for by in ("model", "task", "host"):
        for group, usage in report[f"by_{by}"].items():
            key = (("by", by), ("group", group))
            assert got[("claudetop_group_cost_usd", key)] == float(Decimal(usage["cost_usd"]))
            assert got[("claudetop_group_requests", key)] == usage["requests"]
    assert got[("claudetop_projected_month_usd", (("scenario", "now"),))] == float(
        Decimal(report["projection"]["projected_month_usd"])
    )
    assert got[("claudetop_month_to_date_usd", ())] == float(
        Decimal(report["projection"]["month_to_date_usd"])
    )


def test_money_is_written_as_the_reports_exact_decimal(tmp_path: Path) -> None:
    report = build_report(open_sources(sinks=[_sink(tmp_path)]), Config(), now=NOW)
    assert f"claudetop_cost_usd {report['totals']['cost_usd']}\n" in render(report)


def test_the_live_report_is_the_report_and_follows_new_events(tmp_path: Path) -> None:
    path = _sink(tmp_path)
    live = LiveReport(lambda: open_sources(sinks=[path]), Config(), clock=lambda: NOW)
    live.refresh()
    assert live.text.startswith(render(build_report(open_sources(sinks=[path]), Config(), now=NOW)))
    with SQLiteSink(path) as sink:
        sink.write_events([make_event(1000 + i, ts=NOW - timedelta(minutes=i)) for i in range(5)])
    live.refresh()
    fresh = build_report(open_sources(sinks=[path]), Config(), now=NOW)
    assert fresh["totals"]["requests"] == 205
    assert live.text.startswith(render(fresh)) and live.text.endswith("\nclaudetop_refresh_ok 1\n")


def test_a_sink_gone_bad_keeps_the_last_figures_and_says_so(tmp_path: Path) -> None:
    path = _sink(tmp_path)
    live = LiveReport(lambda: open_sources(sinks=[path]), Config(), clock=lambda: NOW)
    live.try_refresh()
    up = ("claudetop_source_up", (("source", f"sqlite:{path}"),))
    good = _samples(live.text)
    assert (good[("claudetop_refresh_ok", ())], good[up], good[("claudetop_requests", ())]) == (1, 1, 200)
    for stale in path.parent.glob(path.name + "*"):
        stale.unlink()
    path.write_bytes(b"not a database" * 512)
    live.try_refresh()
    after = _samples(live.text)
    assert (after[("claudetop_refresh_ok", ())], after[("claudetop_requests", ())]) == (0, 200)


def test_absent_figures_are_left_out_not_zeroed() -> None:
    report = build_report([], Config(), now=NOW)
    got = _samples(render(report))
    assert ("claudetop_cache_hit_ratio", ()) not in got
    assert got[("claudetop_requests", ())] == 0
