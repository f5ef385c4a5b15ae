from dataclasses import fields
from datetime import timedelta

from claudetop.analysis.aggregate import Aggregator, Counts
from claudetop.model import Endpoint
from tests.unit.analysis.helpers import T0, ev, prefix


def test_totals_tokens_cost_and_unpriced_by_model() -> None:
    a = Aggregator()
    a.add(
        [
            ev(input_tokens=1000, output_tokens=500, task="chat"),  # 3000 + 7500 = 10,500 micros
            ev(timedelta(minutes=1), input_tokens=100, cache_read_tokens=4000, task="chat"),  # 300 + 1200
            ev(timedelta(minutes=2), model="claude-unknown-9", input_tokens=10, cost_micros=None),
            ev(timedelta(minutes=3), endpoint=Endpoint.BATCH_RETRIEVE, batch_id="b1"),
        ]
    )
    total = a.total()
    assert (total.requests, total.api_calls) == (3, 4)
    assert total.cost_micros == 10_500 + 1_500
    assert total.unpriced == 1
    assert (total.input, total.output, total.read) == (1110, 500, 4000)
    by_model = a.window(by=("model",))
    assert by_model[("claude-unknown-9",)].unpriced == 1
    assert by_model[("claude-unknown-9",)].cost_micros == 0
    assert by_model[("claude-sonnet-4-6",)].requests == 2


def test_hit_ratio_is_token_weighted() -> None:
    a = Aggregator()
    a.add([ev(input_tokens=100, cache_write_5m_tokens=900), ev(input_tokens=100, cache_read_tokens=900)])
    # read / (read + write + uncached) = 900 / (900 + 900 + 200)
    assert a.total().hit_ratio == 900 / 2000


def test_duplicates_counted_once_and_reported() -> None:
    a = Aggregator()
    e = ev(input_tokens=10)
    assert a.add([e, e]) == 1
    assert a.add([e]) == 0
    assert a.total().requests == 1
    assert a.duplicates == 2


def test_windows_by_time_and_group() -> None:
    a = Aggregator()
    a.add(
        [
            ev(timedelta(minutes=0), input_tokens=1, task="a"),
            ev(timedelta(minutes=10), input_tokens=1, task="b"),
            ev(timedelta(hours=2), input_tokens=1, task="b", host="h1"),
        ]
    )
    assert a.total(T0 + timedelta(minutes=5), T0 + timedelta(hours=3)).requests == 2
    assert a.total(T0, T0 + timedelta(minutes=5)).requests == 1
    by = a.window(by=("task", "host"))
    assert {k: c.requests for k, c in by.items()} == {("a", None): 1, ("b", None): 1, ("b", "h1"): 1}


def test_old_minutes_fold_into_hours_without_changing_totals() -> None:
    a = Aggregator(minute_horizon=timedelta(hours=1))
    a.add([ev(timedelta(minutes=m), input_tokens=1) for m in range(0, 300, 7)])
    assert a.total().requests == len(range(0, 300, 7))
    assert min(a.minutes) * 60 >= (T0 + timedelta(minutes=290 - 60 - 11)).timestamp()
    assert a.hours


def test_max_tokens_stops_and_series() -> None:
    a = Aggregator()
    a.add(
        [
            ev(timedelta(minutes=m), output_tokens=10, stop_reason="max_tokens" if m else "end_turn")
            for m in (0, 6, 7)
        ]
    )
    assert a.total().max_tokens_stops == 2
    series = a.series(T0, T0 + timedelta(minutes=15), 300)
    assert [c.requests for _, c in series] == [1, 2, 0]


def test_prefix_reads_writes_and_ttl_gaps() -> None:
    p = prefix("sys", 2000)
    a = Aggregator()
    a.add(
        [
            ev(timedelta(minutes=0), cache_write_5m_tokens=2000, prefixes=(p,), task="t"),
            ev(timedelta(minutes=2), cache_read_tokens=2000, prefixes=(p,), task="t"),
            ev(timedelta(minutes=30), cache_write_5m_tokens=2000, prefixes=(p,), task="t"),
            ev(timedelta(minutes=200), cache_write_5m_tokens=2000, prefixes=(p,), task="t"),
        ]
    )
    stats = a.prefixes[("claude-sonnet-4-6", p.sha256)]
    assert (stats.writes_5m, stats.reads, stats.rewrites_after_gap, stats.rewrites_gap_under_1h) == (
        3,
        1,
        2,
        1,
    )


def test_repeated_windows_follow_new_folds_and_are_the_callers_own() -> None:
    a = Aggregator()
    a.add([ev(input_tokens=1, task="a"), ev(timedelta(minutes=1), input_tokens=2, task="b")])
    first = a.window(by=("task",))
    assert {k: c.input for k, c in first.items()} == {("a",): 1, ("b",): 2}
    first[("a",)].input += 100  # the caller may change what it got
    assert a.window(by=("task",))[("a",)].input == 1
    assert a.total().input == 3
    a.add([ev(timedelta(minutes=2), input_tokens=4, task="a")])
    assert {k: c.input for k, c in a.window(by=("task",)).items()} == {("a",): 5, ("b",): 2}
    assert a.total().input == 7


def test_merge_adds_every_counter() -> None:
    """``Counts.merge`` names each field: a counter added to ``Counts`` must be added there too."""
    names = [f.name for f in fields(Counts)]
    one = Counts(**{name: i + 1 for i, name in enumerate(names)})
    total = Counts()
    total.merge(one)
    total.merge(one)
    assert total.as_tuple() == tuple(2 * (i + 1) for i in range(len(names)))
