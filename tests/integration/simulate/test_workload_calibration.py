"""The naive mix costs about $4,200 a month, measured from what the fake served in one simulated day."""

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import anthropic
import pytest

from claudetop.simulate import FakeAnthropic, SimClock
from claudetop.simulate.workload import Workload

# Published Claude Opus 4.7 prices, USD per million tokens (see docs/facts): input $5, output $25.
OPUS_INPUT = Decimal(5) / 1_000_000
OPUS_OUTPUT = Decimal(25) / 1_000_000
DAYS_PER_MONTH = 30
TARGET = Decimal(4200)


@pytest.fixture(scope="module")
def one_day() -> Iterator[tuple[FakeAnthropic, Workload]]:
    clock = SimClock(speed=30_000, start=datetime(2026, 3, 2, tzinfo=UTC))
    with FakeAnthropic(clock=clock) as fake:
        workload = Workload(
            lambda: anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-t", max_retries=0),
            clock,
            async_client_factory=lambda: anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-t"),
            seed=3,
        )
        workload.run(86_400)
        yield fake, workload


def test_naive_month_costs_about_4200(one_day: tuple[FakeAnthropic, Workload]) -> None:
    fake, workload = one_day
    rows = fake.ledger.rows()
    assert not workload.stats.errors
    assert set(workload.stats.calls) == {"chat", "summarisation", "extraction", "reasoning", "code_review"}
    assert {r.model for r in rows} == {"claude-opus-4-7"}
    assert {r.service_tier for r in rows} == {"standard"}
    assert sum(r.cache_read + r.cache_write_5m + r.cache_write_1h for r in rows) == 0
    day = sum(OPUS_INPUT * r.input_tokens + OPUS_OUTPUT * r.output_tokens for r in rows)
    month = day * DAYS_PER_MONTH
    assert abs(month - TARGET) / TARGET < Decimal("0.10"), f"naive month ${month:.2f}"


def test_claudetop_pricing_agrees(one_day: tuple[FakeAnthropic, Workload]) -> None:
    from claudetop.model import UsageEvent, usd
    from claudetop.pricing import default_pricebook

    fake, _ = one_day
    book = default_pricebook()
    rows = fake.ledger.rows()
    total = 0
    for i, r in enumerate(rows):
        event = UsageEvent(
            id=f"e{i}",
            ts=datetime.fromtimestamp(r.ts, UTC),
            model=r.model,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
        )
        cost = book.cost(event)
        assert cost is not None
        total += cost
    by_hand = sum(OPUS_INPUT * r.input_tokens + OPUS_OUTPUT * r.output_tokens for r in rows)
    assert abs(usd(total) - by_hand) < Decimal("0.000001") * len(rows)


def test_cacheable_share_makes_caching_worthwhile(one_day: tuple[FakeAnthropic, Workload]) -> None:
    """Stable prefixes (system + tools) are most of the prompt tokens, so >60% hit ratio is reachable."""
    _, workload = one_day
    stable = 0
    total = 0
    for name, calls in workload.stats.calls.items():
        body = workload.request(name, 0, 0.0)
        prefix = len(str(body.get("tools", ""))) + len(body["system"])
        whole = prefix + len(str(body["messages"]))
        stable += calls * prefix
        total += calls * whole
    assert stable / total > 0.6
