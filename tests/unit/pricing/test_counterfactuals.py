"""Counterfactual re-pricing, each expectation written out from published prices (published.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claudetop.model import UsageEvent
from claudetop.pricing import PriceBook
from tests.unit.pricing.published import (
    BATCH,
    BEFORE_BATCH_VARIANTS,
    HAIKU_4_5,
    MTOK,
    OPUS_4_1,
    OPUS_4_7,
    SONNET_4_5,
    SONNET_4_5_OVER_200K,
    SONNET_4_6,
    TOK,
    US_ONLY,
    WEB_SEARCH_PER_1K,
    T,
    all_kinds,
    event,
    micros,
)

PROMPT = 1000 + 2000 + 3000 + 4000

book = PriceBook()

ON_MODEL: list[tuple[str, UsageEvent, str, Decimal | None]] = [
    (
        "opus-4-7 → sonnet-4-6",
        event("claude-opus-4-7", **TOK),
        "claude-sonnet-4-6",
        all_kinds(SONNET_4_6, *T),
    ),
    ("opus-4-7 → haiku-4-5", event("claude-opus-4-7", **TOK), "claude-haiku-4-5", all_kinds(HAIKU_4_5, *T)),
    (
        "sonnet-4-6 → dated opus-4-1",
        event("claude-sonnet-4-6", **TOK),
        "claude-opus-4-1-20250805",
        all_kinds(OPUS_4_1, *T),
    ),
    (
        "batch stays batch",
        event("claude-opus-4-7", batch=True, day=BEFORE_BATCH_VARIANTS, **TOK),
        "claude-sonnet-4-6",
        all_kinds(SONNET_4_6, *T) * BATCH,
    ),
    (
        "US-only kept where the target supports it",
        event("claude-opus-4-7", geo="us", **TOK),
        "claude-sonnet-4-6",
        all_kinds(SONNET_4_6, *T) * US_ONLY,
    ),
    (
        "US-only dropped where it does not",
        event("claude-opus-4-7", geo="us", **TOK),
        "claude-haiku-4-5",
        all_kinds(HAIKU_4_5, *T),
    ),
    (
        "long-context tier of the target model",
        event("claude-sonnet-4-6", input_tokens=250_000, output_tokens=1000),
        "claude-sonnet-4-5",
        (250_000 * SONNET_4_5_OVER_200K.input + 1000 * SONNET_4_5_OVER_200K.output) / MTOK,
    ),
    ("unknown target", event("claude-opus-4-7", **TOK), "gpt-4o", None),
]


@pytest.mark.parametrize(("event_", "target", "expected"), [pytest.param(*c[1:], id=c[0]) for c in ON_MODEL])
def test_cost_on_model(event_: UsageEvent, target: str, expected: Decimal | None) -> None:
    assert book.cost_on_model(event_, target) == (None if expected is None else micros(expected))


WITHOUT_CACHE: list[tuple[str, UsageEvent, Decimal | None]] = [
    (
        "sonnet-4-6: writes and reads as uncached input",
        event("claude-sonnet-4-6", **TOK),
        (PROMPT * SONNET_4_6.input + 500 * SONNET_4_6.output) / MTOK,
    ),
    (
        "opus-4-7 batch",
        event("claude-opus-4-7", batch=True, **TOK),
        (PROMPT * OPUS_4_7.input + 500 * OPUS_4_7.output) / MTOK * BATCH,
    ),
    (
        "long context tier unchanged (same total prompt)",
        event("claude-sonnet-4-5", input_tokens=1000, cache_read_tokens=210_000, output_tokens=100),
        (211_000 * SONNET_4_5_OVER_200K.input + 100 * SONNET_4_5_OVER_200K.output) / MTOK,
    ),
    (
        "web searches still billed",
        event("claude-haiku-4-5", web_search_requests=4, **TOK),
        (PROMPT * HAIKU_4_5.input + 500 * HAIKU_4_5.output) / MTOK + 4 * WEB_SEARCH_PER_1K / 1000,
    ),
    ("unknown model", event("claude-nonexistent-9", **TOK), None),
]


@pytest.mark.parametrize(("event_", "expected"), [pytest.param(*c[1:], id=c[0]) for c in WITHOUT_CACHE])
def test_cost_without_cache(event_: UsageEvent, expected: Decimal | None) -> None:
    assert book.cost_without_cache(event_) == (None if expected is None else micros(expected))


AT_BATCH: list[tuple[str, UsageEvent, Decimal | None]] = [
    ("opus-4-7 now", event("claude-opus-4-7", **TOK), all_kinds(OPUS_4_7, *T) * BATCH),
    (
        "sonnet-4-5 in 2025",
        event("claude-sonnet-4-5", day=BEFORE_BATCH_VARIANTS, **TOK),
        all_kinds(SONNET_4_5, *T) * BATCH,
    ),
    ("already batch", event("claude-opus-4-1", batch=True, **TOK), all_kinds(OPUS_4_1, *T) * BATCH),
    ("US-only stacks", event("claude-opus-4-7", geo="us", **TOK), all_kinds(OPUS_4_7, *T) * US_ONLY * BATCH),
    ("unknown model", event("mystery", **TOK), None),
]


@pytest.mark.parametrize(("event_", "expected"), [pytest.param(*c[1:], id=c[0]) for c in AT_BATCH])
def test_cost_at_batch_rate(event_: UsageEvent, expected: Decimal | None) -> None:
    assert book.cost_at_batch_rate(event_) == (None if expected is None else micros(expected))


def test_cost_with_token_changes() -> None:
    e = event("claude-sonnet-4-6", **TOK)
    expected = (1000 * SONNET_4_6.input + 2000 * SONNET_4_6.write_5m + 3000 * SONNET_4_6.write_1h) / MTOK + (
        4000 * SONNET_4_6.read + 120 * SONNET_4_6.output
    ) / MTOK
    assert book.cost_with(e, output_tokens=120) == micros(expected)


def test_cost_with_model_and_geo() -> None:
    e = event("claude-haiku-4-5", input_tokens=10_000, output_tokens=1000)
    expected = (10_000 * OPUS_4_7.input + 1000 * OPUS_4_7.output) / MTOK * US_ONLY
    assert book.cost_with(e, model="claude-opus-4-7", inference_geo="us") == micros(expected)


def test_cost_with_leaves_the_event_alone() -> None:
    e = event("claude-sonnet-4-6", **TOK)
    book.cost_with(e, output_tokens=1)
    assert e.output_tokens == 500


def test_cost_with_rejects_unknown_fields_and_bad_counts() -> None:
    e = event("claude-sonnet-4-6", **TOK)
    with pytest.raises(TypeError, match="no field"):
        book.cost_with(e, output=3)
    with pytest.raises(ValueError, match="non-negative"):
        book.cost_with(e, input_tokens=-1)
    with pytest.raises(ValueError, match="non-negative"):
        book.cost_with(e, output_tokens=1.5)
