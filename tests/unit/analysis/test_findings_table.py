"""Each pitfall: a small stream that fires (impact computed by hand from PRICES) and one that must not.

Sonnet-4-6 per MTok: input $3, 5m write $3.75, 1h write $6, read $0.30.
"""

from datetime import timedelta

from claudetop.analysis import findings as f
from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.rates import RateTable
from claudetop.config import Config, config_from_data
from claudetop.model import BatchState, BatchStatus, PolicyMode, PolicyName, PolicySet, PolicySetting
from tests.unit.analysis.helpers import T0, TablePricer, ev, prefix

RATES = RateTable(TablePricer())
DAY = 86_400.0


def _agg(events: list) -> Aggregator:  # type: ignore[type-arg]
    a = Aggregator()
    a.add(events)
    return a


def test_fragmentation_fires_for_many_single_use_prefixes_of_similar_length() -> None:
    events = [
        ev(
            timedelta(minutes=i),
            task="chat",
            cache_write_5m_tokens=2000 + i,
            prefixes=(prefix(f"s{i}", 2000 + i),),
        )
        for i in range(6)
    ]
    found = f.find_cache_fragmentation(_agg(events).prefixes.values(), RATES, DAY)
    assert [x.id for x in found] == ["cache_fragmentation"]
    # five of six writes could have been reads: tokens x ($3.75 - $0.30) per MTok, one day -> a month
    lost = sum((2000 + i) * 3_450_000 for i in range(1, 6)) / 1_000_000
    assert found[0].monthly_impact_micros == round(round(lost) * 30.4375)


def test_fragmentation_quiet_when_prefixes_are_reused() -> None:
    p = prefix("stable", 2000)
    events = [ev(timedelta(minutes=0), task="chat", cache_write_5m_tokens=2000, prefixes=(p,))] + [
        ev(timedelta(minutes=i), task="chat", cache_read_tokens=2000, prefixes=(p,)) for i in range(1, 6)
    ]
    assert f.find_cache_fragmentation(_agg(events).prefixes.values(), RATES, DAY) == []


def test_cache_write_overhead_fires_below_break_even_and_not_above() -> None:
    p = prefix("p", 10_000)
    writes = [ev(timedelta(hours=i), task="t", cache_write_5m_tokens=10_000, prefixes=(p,)) for i in range(4)]
    found = f.find_cache_write_overhead(_agg(writes).prefixes.values(), RATES, DAY)
    # 4 writes x 10,000 tokens x ($3.75 - $3.00) = $0.03 a day
    assert found[0].monthly_impact_micros == round(30_000 * 30.4375)
    reads = [
        ev(timedelta(hours=i, minutes=1 + j), task="t", cache_read_tokens=10_000, prefixes=(p,))
        for i in range(4)
        for j in range(2)
    ]
    assert f.find_cache_write_overhead(_agg(writes + reads).prefixes.values(), RATES, DAY) == []


def test_system_prompt_drift_fires_on_frequent_changes_only() -> None:
    drifting = [
        ev(timedelta(hours=i), task="t", input_tokens=3000, prefixes=(prefix(f"v{i}", 3000),))
        for i in range(6)
    ]
    a = _agg(drifting)
    found = f.find_system_prompt_drift(a.tasks, a.prefixes, RATES)
    assert found[0].id == "system_prompt_drift"
    assert "5 changes" in found[0].evidence[0]
    stable = [
        ev(timedelta(hours=i), task="t", input_tokens=3000, prefixes=(prefix("v", 3000),)) for i in range(6)
    ]
    b = _agg(stable)
    assert f.find_system_prompt_drift(b.tasks, b.prefixes, RATES) == []


def test_blind_downshifting_fires_when_enforced_unvalidated() -> None:
    routed = [
        ev(timedelta(minutes=i), task="review", model="claude-haiku-4-5", requested_model="claude-sonnet-4-6")
        for i in range(3)
    ]
    enforce = PolicySet(
        settings={PolicyName.ROUTING: PolicySetting(name=PolicyName.ROUTING, mode=PolicyMode.ENFORCE)}
    )
    a = _agg(routed)
    assert [x.id for x in f.find_blind_downshifting(a.tasks, enforce, Config())] == ["blind_downshifting"]
    validated = config_from_data({"routing": {"validated_tasks": ["review"]}})
    assert f.find_blind_downshifting(a.tasks, enforce, validated) == []
    assert f.find_blind_downshifting(a.tasks, PolicySet(), Config()) == []


def test_batch_polling_storm_fires_on_fast_polling_only() -> None:
    def batch(calls: int) -> BatchState:
        return BatchState(
            id=f"b{calls}",
            status=BatchStatus.ENDED,
            created_at=T0,
            ended_at=T0 + timedelta(minutes=10),
            updated_at=T0 + timedelta(minutes=10),
            retrieve_calls=calls,
        )

    # 10 minutes at a 60 s interval: the limit is 2 polls per minute
    assert [x.subject for x in f.find_batch_polling_storms([batch(300)], {}, T0, poll_interval_s=60)] == [
        "b300"
    ]
    assert f.find_batch_polling_storms([batch(10)], {}, T0, poll_interval_s=60) == []


def test_ttl_misalignment_fires_on_rewrites_after_5m_gaps_within_the_hour() -> None:
    p = prefix("hourly", 10_000)
    events = [
        ev(timedelta(minutes=20 * i), task="job", cache_write_5m_tokens=10_000, prefixes=(p,))
        for i in range(5)
    ]
    found = f.find_ttl_misalignment(_agg(events).prefixes.values(), RATES, DAY)
    # 4 rewrites x 10,000 x ($3.75 - $0.30) saved, minus 1 remaining write x 10,000 x ($6 - $3.75)
    assert found[0].monthly_impact_micros == round((4 * 34_500 - 22_500) * 30.4375)
    frequent = [
        ev(timedelta(minutes=2 * i), task="job", cache_write_5m_tokens=10_000, prefixes=(p,))
        for i in range(5)
    ]
    assert f.find_ttl_misalignment(_agg(frequent).prefixes.values(), RATES, DAY) == []


def test_ignoring_output_costs_fires_for_uncapped_output_heavy_task() -> None:
    events = [
        ev(
            timedelta(minutes=i),
            task="essay",
            input_tokens=100,
            output_tokens=4000,
            stop_reason="max_tokens" if i == 0 else "end_turn",
        )
        for i in range(4)
    ]
    a = _agg(events)
    groups = a.window(by=("task", "model", "batch"))
    found = f.find_ignoring_output_costs(groups, RATES, Config(), DAY)  # type: ignore[arg-type]
    assert found[0].id == "ignoring_output_costs"
    # 16,000 output tokens x $15 = $0.24; a quarter of requests hit max_tokens -> $0.06 a day
    assert found[0].monthly_impact_micros == round(60_000 * 30.4375)
    capped = config_from_data({"output_caps": {"essay": 1000}})
    assert f.find_ignoring_output_costs(groups, RATES, capped, DAY) == []  # type: ignore[arg-type]


def test_ignoring_output_costs_without_truncations_is_a_risk_not_zero_dollars() -> None:
    events = [ev(timedelta(minutes=i), task="essay", input_tokens=100, output_tokens=4000) for i in range(4)]
    groups = _agg(events).window(by=("task", "model", "batch"))
    found = f.find_ignoring_output_costs(groups, RATES, Config(), DAY)  # type: ignore[arg-type]
    assert [(x.id, x.monthly_impact_micros) for x in found] == [("ignoring_output_costs", None)]
