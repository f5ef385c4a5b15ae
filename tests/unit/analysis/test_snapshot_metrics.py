"""Every headline metric of the snapshot on a four-event stream, expected values worked out by hand
from the list prices in ``helpers.PRICES`` (USD/MTok; sonnet-4-6 3/15/3.75/6/0.30, haiku-4-5 1/5/1.25/2/0.10,
batch half price) — 1 token at $3/MTok is 3 micro-dollars."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.rates import RateTable
from claudetop.analysis.snapshot import build_snapshot
from claudetop.config import Config, config_from_data
from claudetop.model import (
    BatchState,
    BatchStatus,
    Endpoint,
    PolicyMode,
    PolicyName,
    PolicySet,
    PolicySetting,
    Snapshot,
)
from tests.unit.analysis.helpers import T0, TablePricer, ev, prefix

NOW = T0  # 2026-11-10 12:00 UTC


def _snapshot() -> Snapshot:
    p = prefix("system-v1", 2000)
    agg = Aggregator()
    agg.add(
        [
            # 1000*3 + 2000*3.75 + 100*15 = 12,000
            ev(-timedelta(hours=2), input_tokens=1000, cache_write_5m_tokens=2000, output_tokens=100,
               prefixes=(p,)),
            # 1000*3 + 2000*0.30 + 100*15 = 5,100
            ev(-timedelta(minutes=90), input_tokens=1000, cache_read_tokens=2000, output_tokens=100,
               prefixes=(p,)),
            # batch: (10000*1 + 1000*5) / 2 = 7,500
            ev(-timedelta(minutes=30), model="claude-haiku-4-5", endpoint=Endpoint.BATCH_RESULT,
               input_tokens=10_000, output_tokens=1000),
            # 100*3 + 1000*15 = 15,300
            ev(-timedelta(minutes=10), input_tokens=100, output_tokens=1000, stop_reason="max_tokens"),
        ]
    )  # fmt: skip
    agg.add_batches(
        [
            BatchState(id="b1", status=BatchStatus.IN_PROGRESS, processing=5,
                       created_at=NOW - timedelta(hours=3), updated_at=NOW),
            BatchState(id="b2", status=BatchStatus.ENDED, succeeded=3, errored=1, expired=2,
                       created_at=NOW - timedelta(hours=5), ended_at=NOW - timedelta(hours=4),
                       updated_at=NOW),
        ]
    )  # fmt: skip
    agg.set_deferred_depth("sink", 4)
    return build_snapshot(agg, NOW, PolicySet(), Config(), RateTable(TablePricer()))


def test_totals_cache_and_output_share() -> None:
    s = _snapshot()
    assert s.total_cost_micros == 12_000 + 5_100 + 7_500 + 15_300
    assert s.cache.hit_ratio == 2000 / (3000 + 3000 + 100 + 10_000)
    # without cache, sonnet's 6,100 prompt tokens at $3 = 18,300 vs actual 2,100*3 + 2,000*3.75 + 2,000*0.30
    assert s.cache.saved_micros == 18_300 - (6_300 + 7_500 + 600)
    assert s.cache.reads_per_write == 1.0
    # output: sonnet 1,200*15 = 18,000; haiku batch 1,000*5/2 = 2,500
    assert s.mix.output_share_of_cost == (18_000 + 2_500) / 39_900


def test_model_mix_and_max_tokens_stop_rate() -> None:
    rows = {r.key: r for r in _snapshot().mix.by_model}
    assert rows["claude-sonnet-4-6"].calls == 3 and rows["claude-sonnet-4-6"].call_share == 3 / 4
    assert rows["claude-sonnet-4-6"].cost_share == 32_400 / 39_900
    assert rows["claude-haiku-4-5"].cost_micros == 7_500
    assert rows["claude-sonnet-4-6"].max_tokens_stop_rate == 1 / 3
    assert rows["claude-haiku-4-5"].max_tokens_stop_rate == 0


def test_batches_backlog_share_and_saving() -> None:
    b = _snapshot().batches
    assert b.share_of_requests == 1 / 4
    assert b.saved_micros == (10_000 + 5_000) - 7_500  # standard haiku price minus the batch price
    assert (b.batches_in_progress, b.batches_ended) == (1, 1)
    assert (b.requests_processing, b.requests_succeeded, b.requests_errored, b.requests_expired) == (
        5,
        3,
        1,
        2,
    )
    assert b.oldest_in_progress_age_s == 3 * 3600
    assert b.deferred_queue_depth == 4


def test_burn_rate_and_projection() -> None:
    s = _snapshot()
    assert s.header.burn_rate_micros_per_hour == 7_500 + 15_300  # the last hour's two events
    assert s.header.requests_last_5m == 0 and s.header.requests_today == 4
    p = s.projection
    assert p.month_to_date_micros == 39_900
    # trailing window = the 2 h since the first event: 39,900 per 2 h = 478,800 per day;
    # 20.5 days left (Nov 10 12:00 -> Dec 1 00:00)
    assert p.projected_month_micros == 39_900 + round(478_800 * 20.5)
    assert p.low_micros == p.high_micros == p.projected_month_micros  # under two full days: no band
    assert "over the last 2.0 hours x 20.5 days left" in p.method


def test_scenarios_with_no_policy_enabled_match_now() -> None:
    rows = {r.name: r for r in _snapshot().projection.scenarios}
    assert rows["enabled_policies"].monthly_cost_micros == rows["now"].monthly_cost_micros
    # a 30-day November at the trailing rate
    assert rows["now"].monthly_cost_micros == 478_800 * 30
    # naive: no cache (sonnet 18,300 + 18,000 output) and no batch discount (haiku 15,000)
    assert rows["naive"].monthly_cost_micros == round(478_800 * (36_300 + 15_000) / 39_900 * 30)
    assert rows["all_policies"].monthly_cost_micros <= rows["now"].monthly_cost_micros


def _daily_uncached_writes(days: int) -> Aggregator:
    """One 10,000-token system prefix written (5m) once a day and never read, from Oct 1 09:00 on."""
    p = prefix("nightly", 10_000)
    agg = Aggregator(detail_horizon=timedelta(days=3650))
    start = datetime(2026, 10, 1, 9, tzinfo=UTC)
    agg.add(
        [ev(start + timedelta(days=d), task="nightly", input_tokens=100, cache_write_5m_tokens=10_000,
            output_tokens=100, prefixes=(p,)) for d in range(days)]
    )  # fmt: skip
    return agg


def test_prefix_findings_are_scaled_by_the_time_the_prefix_tables_cover_not_the_period() -> None:
    """61 daily writes over Oct-Nov, each paying 10,000 x ($3.75 - $3)/MTok = 7,500 micro-dollars more
    than no caching: seen from Nov 30, that is 61 x 7,500 over 60.5 days, per 30.4375-day month."""
    now = datetime(2026, 11, 30, 21, tzinfo=UTC)
    snap = build_snapshot(_daily_uncached_writes(61), now, PolicySet(), Config(), RateTable(TablePricer()))
    overhead = [f for f in snap.findings if f.id == "cache_write_overhead"]
    covered_s = (now - datetime(2026, 10, 1, 9, tzinfo=UTC)).total_seconds()
    assert [f.monthly_impact_micros for f in overhead] == [round(61 * 7_500 * 30.4375 * 86_400 / covered_s)]


def test_a_prefix_not_seen_since_the_period_began_is_no_finding_of_the_period() -> None:
    december = datetime(2026, 12, 1, 21, tzinfo=UTC)
    snap = build_snapshot(
        _daily_uncached_writes(61), december, PolicySet(), Config(), RateTable(TablePricer())
    )
    assert [f.id for f in snap.findings if f.id.startswith("cache")] == []


def test_batch_saving_is_the_discount_on_tokens_whatever_else_the_cost_holds() -> None:
    """A batch result whose recorded cost also holds 5 web searches at $10/1,000 (not discounted):
    the saving is still (10,000 x $1 + 1,000 x $5)/MTok at half price, never the fee subtracted."""
    agg = Aggregator()
    agg.add(
        [ev(model="claude-haiku-4-5", endpoint=Endpoint.BATCH_RESULT, input_tokens=10_000,
            output_tokens=1000, web_search_requests=5, cost_micros=7_500 + 50_000)]
    )  # fmt: skip
    snap = build_snapshot(agg, NOW, PolicySet(), Config(), RateTable(TablePricer()))
    assert snap.batches.saved_micros == 7_500


def test_a_scenario_that_moves_requests_to_an_unpriced_model_shows_no_saving_for_them() -> None:
    """Routing half the traffic to a model with no price: those requests cannot be costed either way, so
    the scenario is the other half's change (none here), not half the bill saved."""
    agg = Aggregator()
    agg.add(
        [ev(-timedelta(minutes=m), task="extraction" if m % 2 else "chat", input_tokens=1000,
            output_tokens=100) for m in range(1, 41)]
    )  # fmt: skip
    config = config_from_data({"routing": {"tiers": {"extraction": "claude-unreleased-9"}}})
    routing = PolicySet(
        settings={PolicyName.ROUTING: PolicySetting(name=PolicyName.ROUTING, mode=PolicyMode.SHADOW)}
    )
    snap = build_snapshot(agg, NOW, routing, config, RateTable(TablePricer()))
    rows = {r.name: r for r in snap.projection.scenarios}
    assert rows["enabled_policies"].monthly_cost_micros == rows["now"].monthly_cost_micros
