"""Admin API reports built from served traffic, and injected faults as the SDK sees them."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import anthropic
import httpx2
import pytest

from claudetop.simulate import FakeAnthropic, FakeConfig, FaultRule, SimClock
from claudetop.simulate.tokens import marker

START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ADMIN = {"x-api-key": "sk-ant-admin01-test", "anthropic-version": "2023-06-01"}
SYSTEM = "Reference manual for the extraction task. " * 500  # 21,500 bytes → 5,375 tokens


def served(client: anthropic.Anthropic, model: str, out: int, cache: bool = False) -> Any:
    system: Any = (
        [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}] if cache else SYSTEM
    )
    return client.messages.create(
        model=model,
        max_tokens=1000,
        system=system,
        messages=[{"role": "user", "content": f"go {marker(out)}"}],
    ).usage


def report(fake: FakeAnthropic, path: str, **params: Any) -> Any:
    r = httpx2.get(f"{fake.base_url}/v1/organizations/{path}", params=params, headers=ADMIN)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def at_start() -> SimClock:
    return SimClock(speed=0, start=START)


def test_usage_report_sums_what_was_served(at_start: SimClock) -> None:
    with FakeAnthropic(clock=at_start) as fake, anthropic.Anthropic(base_url=fake.base_url, api_key="k") as c:
        a = served(c, "claude-sonnet-4-6", 100, cache=True)
        b = served(c, "claude-sonnet-4-6", 50, cache=True)
        at_start.advance(3 * 3600)
        h = served(c, "claude-haiku-4-5", 20)
        body = report(
            fake,
            "usage_report/messages",
            starting_at="2026-03-10T00:00:00Z",
            ending_at="2026-03-11T00:00:00Z",
            bucket_width="1h",
            **{"group_by[]": "model"},
            limit=24,
        )
        buckets = {d["starting_at"]: d["results"] for d in body["data"]}
        assert len(buckets) == 24 and body["has_more"] is False
        noon = {r["model"]: r for r in buckets["2026-03-10T12:00:00Z"]}
        assert noon["claude-sonnet-4-6"]["output_tokens"] == 150
        assert noon["claude-sonnet-4-6"]["cache_read_input_tokens"] == b.cache_read_input_tokens
        assert (
            noon["claude-sonnet-4-6"]["cache_creation"]["ephemeral_5m_input_tokens"]
            == a.cache_creation_input_tokens
        )
        assert noon["claude-sonnet-4-6"]["uncached_input_tokens"] == a.input_tokens + b.input_tokens
        three = buckets["2026-03-10T15:00:00Z"]
        assert [(r["model"], r["uncached_input_tokens"]) for r in three] == [
            ("claude-haiku-4-5", h.input_tokens)
        ]
        paged = report(
            fake,
            "usage_report/messages",
            starting_at="2026-03-10T00:00:00Z",
            ending_at="2026-03-11T00:00:00Z",
            bucket_width="1h",
            limit=10,
        )
        assert paged["has_more"] is True and len(paged["data"]) == 10
        nxt = report(
            fake,
            "usage_report/messages",
            starting_at="2026-03-10T00:00:00Z",
            ending_at="2026-03-11T00:00:00Z",
            bucket_width="1h",
            limit=10,
            page=paged["next_page"],
        )
        assert nxt["data"][0]["starting_at"] == "2026-03-10T10:00:00Z"


def test_cost_report_in_cents_and_skew(at_start: SimClock) -> None:
    # Published prices, USD per million tokens: Sonnet 4.6 input 3, output 15, 5m write 3.75, read 0.30.
    per_token = {"in": Decimal(3), "out": Decimal(15), "w5m": Decimal("3.75"), "read": Decimal("0.30")}
    for skew in (Decimal(1), Decimal("1.1")):
        config = FakeConfig(cost_report_skew=skew)
        with (
            FakeAnthropic(clock=at_start, config=config) as fake,
            anthropic.Anthropic(base_url=fake.base_url, api_key="k") as c,
        ):
            usages = [served(c, "claude-sonnet-4-6", 100, cache=True) for _ in range(3)]
            body = report(
                fake, "cost_report", starting_at="2026-03-10T00:00:00Z", ending_at="2026-03-11T00:00:00Z"
            )
        dollars = sum(
            (
                u.input_tokens * per_token["in"]
                + u.output_tokens * per_token["out"]
                + u.cache_creation_input_tokens * per_token["w5m"]
                + u.cache_read_input_tokens * per_token["read"]
            )
            / Decimal(1_000_000)
            for u in usages
        )
        (bucket,) = body["data"]
        (row,) = bucket["results"]
        assert row["currency"] == "USD"
        # claudetop's price book rounds each priced component to a micro-dollar (0.0001 cent)
        components = sum(
            bool(getattr(u, f))
            for u in usages
            for f in (
                "input_tokens",
                "output_tokens",
                "cache_creation_input_tokens",
                "cache_read_input_tokens",
            )
        )
        assert abs(Decimal(row["amount"]) - dollars * 100 * skew) <= Decimal("0.0001") * components * skew


def test_admin_endpoints_need_admin_key(fake: FakeAnthropic) -> None:
    r = httpx2.get(
        f"{fake.base_url}/v1/organizations/usage_report/messages",
        params={"starting_at": "2026-01-01T00:00:00Z"},
        headers={"x-api-key": "sk-ant-api03-normal"},
    )
    assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"


def test_rate_limit_with_retry_after_is_retried_by_the_sdk(clock: SimClock) -> None:
    config = FakeConfig(faults=[FaultRule("rate_limit", next_n=2, retry_after_s=0.01)])
    with (
        FakeAnthropic(clock=clock, config=config) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=2) as c,
    ):
        msg = c.messages.create(
            model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
        assert msg.type == "message"
        assert fake.stats.status_counts == {429: 2, 200: 1}


def test_overloaded_500_and_dropped_connection(clock: SimClock) -> None:
    with (
        FakeAnthropic(clock=clock) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0) as c,
    ):
        kwargs: Any = {
            "model": "claude-haiku-4-5",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "x"}],
        }
        fake.faults.add(FaultRule("overloaded", next_n=1))
        with pytest.raises(anthropic.InternalServerError) as exc:
            c.messages.create(**kwargs)
        assert exc.value.status_code == 529 and exc.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
        fake.faults.add(FaultRule("server_error", next_n=1))
        with pytest.raises(anthropic.InternalServerError) as exc:
            c.messages.create(**kwargs)
        assert exc.value.status_code == 500
        fake.faults.add(FaultRule("drop", next_n=1))
        with pytest.raises(anthropic.APIConnectionError):
            c.messages.create(**kwargs)
        assert c.messages.create(**kwargs).type == "message"


def test_slow_response_hits_client_timeout(clock: SimClock) -> None:
    config = FakeConfig(faults=[FaultRule("slow", next_n=1, delay_s=1.0)])
    with (
        FakeAnthropic(clock=clock, config=config) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0, timeout=0.2) as c,
        pytest.raises(anthropic.APITimeoutError),
    ):
        c.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=[{"role": "user", "content": "x"}])


def test_probabilistic_faults_are_seeded(clock: SimClock) -> None:
    def fired(seed: int) -> list[int]:
        rule = FaultRule("server_error", path="/v1/models", probability=0.3)
        config = FakeConfig(faults=[rule], seed=seed)
        with (
            FakeAnthropic(clock=clock, config=config) as fake,
            anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0) as c,
        ):
            out = []
            for _ in range(30):
                try:
                    c.models.list()
                    out.append(200)
                except anthropic.InternalServerError:
                    out.append(500)
            return out

    first = fired(1)
    assert first == fired(1)
    assert 0 < first.count(500) < 30
