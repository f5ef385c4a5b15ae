from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.rates import RateTable
from claudetop.analysis.whatif import replay
from claudetop.config import Config
from claudetop.model import UsageEvent
from tests.unit.analysis.helpers import TablePricer, ev, prefix

_events = st.lists(
    st.builds(
        lambda i, minute, model, task, inp, out, w, r, pfx, tier: ev(
            timedelta(minutes=minute),
            id=f"p{i}",
            model=model,
            task=task,
            input_tokens=inp,
            output_tokens=out,
            cache_write_5m_tokens=w,
            cache_read_tokens=r,
            prefixes=(prefix(pfx, 1500),) if pfx else (),
            service_tier=tier,
        ),
        st.integers(0, 60),
        st.integers(0, 5000),
        st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-7", "claude-nope"]),
        st.sampled_from([None, "chat", "extraction", "summarisation"]),
        st.integers(0, 5000),
        st.integers(0, 3000),
        st.integers(0, 3000),
        st.integers(0, 3000),
        st.sampled_from(["", "a", "b"]),
        st.sampled_from([None, "standard", "batch"]),
    ),
    max_size=40,
    unique_by=lambda e: e.id,
)


def _state(a: Aggregator) -> dict[tuple[object, ...], tuple[int, ...]]:
    return {k: c.as_tuple() for k, c in a.window(by=("model", "task", "batch")).items()}


@settings(max_examples=40, deadline=None)
@given(_events, st.randoms(use_true_random=False), st.lists(st.integers(1, 10), min_size=1))
def test_any_order_and_any_chunking_give_the_same_aggregates(
    events: list[UsageEvent], rnd: object, cuts: list[int]
) -> None:
    one = Aggregator(minute_horizon=timedelta(hours=24), dedupe_horizon=timedelta(days=30))
    one.add(events)
    shuffled = list(events) + list(events[:3])
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    other = Aggregator(minute_horizon=timedelta(hours=24), dedupe_horizon=timedelta(days=30))
    i = 0
    for n in cuts * 50:
        if i >= len(shuffled):
            break
        other.add(shuffled[i : i + n])
        i += n
    assert _state(one) == _state(other)
    assert one.total().as_tuple() == other.total().as_tuple()


@settings(max_examples=40, deadline=None)
@given(_events)
def test_what_if_with_every_policy_off_reproduces_actual_cost(events: list[UsageEvent]) -> None:
    unique = list({e.id: e for e in events}.values())
    result = replay(unique, (), Config(), RateTable(TablePricer()), min_cacheable_tokens=lambda _m: 1024)
    assert result.cost_micros == sum(e.cost_micros or 0 for e in unique)
    assert result.unpriced == sum(e.cost_micros is None for e in unique)
    assert result.requests == len(unique)
