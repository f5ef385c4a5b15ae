"""Admin API import and reconciliation against the fake server's report endpoints (real HTTP, paging)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anthropic
import pytest

from claudetop.cli import main
from claudetop.model import UsageEvent
from claudetop.pricing import default_pricebook
from claudetop.simulate import FakeAnthropic, FakeConfig, SimClock
from claudetop.sinks import SQLiteSink
from claudetop.sources.admin_api import (
    AdminClient,
    AdminStore,
    import_admin,
    our_costs,
    reconcile,
    their_costs,
)

START = datetime(2026, 2, 1, 9, tzinfo=UTC)
DAYS = 10  # more than one page of daily buckets (the API's default page is 7 days)
MODELS = ("claude-sonnet-4-6", "claude-haiku-4-5")


def _serve_days(fake: FakeAnthropic, clock: SimClock, sink_path: Path, skip: tuple[int, str] | None) -> None:
    """Two requests per model per day through the real SDK; the hook's view written to a sink."""
    client = anthropic.Anthropic(api_key="sk-ant-api-test", base_url=fake.base_url, max_retries=0)
    book = default_pricebook()
    events = []
    for day in range(DAYS):
        for model in MODELS:
            for n in range(2):
                reply = client.messages.create(
                    model=model,
                    max_tokens=64,
                    messages=[{"role": "user", "content": f"day {day} call {n} " * 40}],
                )
                if skip == (day, model) and n == 0:
                    continue  # a request claudetop never saw: its day/model must be flagged
                u = reply.usage
                event = UsageEvent(
                    id=reply.id,
                    ts=clock.now_dt(),
                    model=reply.model,
                    input_tokens=u.input_tokens,
                    output_tokens=u.output_tokens,
                    cache_read_tokens=u.cache_read_input_tokens or 0,
                    cache_write_5m_tokens=u.cache_creation_input_tokens or 0,
                )
                events.append(event.model_copy(update={"cost_micros": book.cost(event)}))
        clock.advance(timedelta(days=1).total_seconds())
    with SQLiteSink(sink_path) as sink:
        sink.write_events(events)


def test_import_pages_and_reconcile_flags_the_missing_request(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    clock = SimClock(start=START)
    sink = tmp_path / "sink.db"
    with FakeAnthropic(clock=clock) as fake:
        _serve_days(fake, clock, sink, skip=(3, "claude-haiku-4-5"))
        monkeypatch.setenv("ANTHROPIC_ADMIN_KEY", "sk-ant-admin01-test")
        code = main(
            ["import", "admin", "--since", "2026-02-01", "--until", "2026-02-10", "--base-url", fake.base_url,
             "--store", str(tmp_path / "admin.sqlite"), "--reconcile", "--sink", str(sink),
             "--threshold", "0.5"]
        )  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    requests = int(re.search(r"\((\d+) requests\)", err).group(1))  # type: ignore[union-attr]
    assert requests == 4  # two pages (7 + 3 days) for each of the two reports
    flagged = [line for line in out.splitlines() if line.endswith("<-- mismatch")]
    assert len(flagged) == 1 and flagged[0].startswith("2026-02-04  claude-haiku-4-5"), out
    assert f"1 of {DAYS * len(MODELS)} day/model rows differ by more than 0.5%" in out

    store = AdminStore(tmp_path / "admin.sqlite")
    usage = store.usage()
    store.close()
    assert {u.day for u in usage} == {date(2026, 2, d) for d in range(1, 11)}
    assert sum(u.output_tokens for u in usage) > 0


def test_cost_skew_flags_every_row_and_matching_costs_flag_none(tmp_path: Path) -> None:
    since, until = date(2026, 2, 1), date(2026, 2, 11)
    for skew, expect_flagged in ((Decimal(1), 0), (Decimal("1.05"), DAYS * len(MODELS))):
        clock = SimClock(start=START)
        sink = tmp_path / f"sink-{skew}.db"
        with FakeAnthropic(clock=clock, config=FakeConfig(cost_report_skew=skew)) as fake:
            _serve_days(fake, clock, sink, skip=None)
            store = AdminStore(tmp_path / f"admin-{skew}.sqlite")
            import_admin(AdminClient("sk-ant-admin01-test", fake.base_url), store, since, until)
        from claudetop.sources.sink import read_all_events

        rows = reconcile(our_costs(read_all_events(sink)), their_costs(store.costs()), Decimal("1"))
        store.close()
        assert len(rows) == DAYS * len(MODELS)
        assert sum(r.flagged for r in rows) == expect_flagged
        if skew != 1:  # ours / (theirs x 1.05) - 1 = -4.76%, give or take a micro-dollar of rounding
            assert all(r.diff_pct is not None and Decimal(-5) < r.diff_pct < Decimal("-4.5") for r in rows)


def test_admin_key_required(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    assert main(["import", "admin", "--since", "2026-02-01", "--store", str(tmp_path / "a.sqlite")]) == 2
    assert "ANTHROPIC_ADMIN_KEY" in capsys.readouterr().err


@pytest.mark.parametrize(
    "ours,theirs,flag", [(1_000_000, 1_000_000, False), (1_020_000, 1_000_000, True), (5, 0, True)]
)
def test_reconcile_thresholds(ours: int, theirs: int, flag: bool) -> None:
    key = (date(2026, 1, 1), "claude-haiku-4-5")
    rows = reconcile({key: ours}, {key: theirs} if theirs else {}, Decimal("1"))
    assert [r.flagged for r in rows] == [flag]
