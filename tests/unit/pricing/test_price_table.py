"""The pricing table: each expected cost written out from published per-MTok prices (see published.py).

Read a case as: tokens x USD-per-million-tokens, summed, / 1,000,000 → USD → micro-dollars.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claudetop.model import Endpoint, UsageEvent
from claudetop.pricing import PriceBook
from tests.unit.pricing.published import (
    BATCH,
    BEFORE_BATCH_VARIANTS,
    FABLE_5_1,
    FABLE_5_2,
    HAIKU_3,
    HAIKU_3_5,
    HAIKU_3_5_BATCH_IN_OUT,
    HAIKU_3_BATCH_IN_OUT,
    HAIKU_4_5,
    HAIKU_5_5,
    HAIKU_5_5_OVER_100K,
    MTOK,
    OPUS_4,
    OPUS_4_1,
    OPUS_4_1_BATCH_IN_OUT,
    OPUS_4_5,
    OPUS_4_6,
    OPUS_4_6_FAST,
    OPUS_4_6_OVER_200K_UNTIL_2026_03_13,
    OPUS_4_7,
    OPUS_4_8_FAST,
    SONNET_3_7,
    SONNET_4,
    SONNET_4_5,
    SONNET_4_5_OVER_200K,
    SONNET_4_6,
    SONNET_4_BATCH_IN_OUT,
    SONNET_5_5,
    TOK,
    US_ONLY,
    WEB_SEARCH_PER_1K,
    D,
    T,
    all_kinds,
    event,
    micros,
)

S46 = "claude-sonnet-4-6"
H3 = "claude-3-haiku-20240307"
BEFORE = BEFORE_BATCH_VARIANTS
S45L = SONNET_4_5_OVER_200K
O46L = OPUS_4_6_OVER_200K_UNTIL_2026_03_13
H55L = HAIKU_5_5_OVER_100K

CASES: list[tuple[str, UsageEvent, Decimal]] = [
    # --- every token kind, one at a time (Sonnet 4.6: $3 in, $3.75 5m, $6 1h, $0.30 read, $15 out) ---
    ("uncached input", event(S46, input_tokens=1000), 1000 * SONNET_4_6.input / MTOK),
    ("output", event(S46, output_tokens=500), 500 * SONNET_4_6.output / MTOK),
    (
        "5m write 1.25x",
        event(S46, cache_write_5m_tokens=2000),
        2000 * SONNET_4_6.write_5m / MTOK,
    ),
    (
        "1h write 2x",
        event(S46, cache_write_1h_tokens=3000),
        3000 * SONNET_4_6.write_1h / MTOK,
    ),
    ("cache read 0.1x", event(S46, cache_read_tokens=4000), 4000 * SONNET_4_6.read / MTOK),
    ("sonnet-4-6 all kinds ($0.0372)", event(S46, **TOK), all_kinds(SONNET_4_6, *T)),
    # --- 1h vs 5m on the same tokens ---
    ("opus-4-7 10k 5m", event("claude-opus-4-7", cache_write_5m_tokens=10_000), 10_000 * D("6.25") / MTOK),
    ("opus-4-7 10k 1h", event("claude-opus-4-7", cache_write_1h_tokens=10_000), 10_000 * D("10") / MTOK),
    # --- newest models ---
    ("opus-4-7 all kinds", event("claude-opus-4-7", **TOK), all_kinds(OPUS_4_7, *T)),
    ("opus-4-6 all kinds", event("claude-opus-4-6", **TOK), all_kinds(OPUS_4_6, *T)),
    ("haiku-4-5 all kinds", event("claude-haiku-4-5", **TOK), all_kinds(HAIKU_4_5, *T)),
    ("sonnet-5-5 read 0.05x", event("claude-sonnet-5-5", **TOK), all_kinds(SONNET_5_5, *T)),
    ("fable-5-1 read 0.025x", event("claude-fable-5-1", **TOK), all_kinds(FABLE_5_1, *T)),
    # --- dated ids and aliases ---
    ("claude-haiku-4-5-20251001", event("claude-haiku-4-5-20251001", **TOK), all_kinds(HAIKU_4_5, *T)),
    ("claude-sonnet-4-20250514", event("claude-sonnet-4-20250514", **TOK), all_kinds(SONNET_4, *T)),
    ("claude-3-5-haiku-20241022", event("claude-3-5-haiku-20241022", **TOK), all_kinds(HAIKU_3_5, *T)),
    ("claude-3-5-haiku-latest", event("claude-3-5-haiku-latest", **TOK), all_kinds(HAIKU_3_5, *T)),
    ("claude-opus-4-1-20250805", event("claude-opus-4-1-20250805", **TOK), all_kinds(OPUS_4_1, *T)),
    ("claude-opus-4-20250514", event("claude-opus-4-20250514", **TOK), all_kinds(OPUS_4, *T)),
    ("claude-opus-4-5-20251101", event("claude-opus-4-5-20251101", **TOK), all_kinds(OPUS_4_5, *T)),
    ("claude-3-7-sonnet-20250219", event("claude-3-7-sonnet-20250219", **TOK), all_kinds(SONNET_3_7, *T)),
    ("claude-3-haiku-20240307", event(H3, **TOK), all_kinds(HAIKU_3, *T)),
    ("claude-sonnet-4-5-20250929", event("claude-sonnet-4-5-20250929", **TOK), all_kinds(SONNET_4_5, *T)),
    ("upper-case id", event("Claude-Opus-4-7", **TOK), all_kinds(OPUS_4_7, *T)),
    # --- batch: 50% on every token kind, before and after genai-prices' 2026-10-14 batch variants ---
    (
        "sonnet-4-6 batch now",
        event(S46, batch=True, **TOK),
        all_kinds(SONNET_4_6, *T) * BATCH,
    ),
    (
        "sonnet-4-6 batch before 2026-10-14",
        event(S46, batch=True, day=BEFORE, **TOK),
        all_kinds(SONNET_4_6, *T) * BATCH,
    ),
    (
        "sonnet-4-6 batch on 2026-10-13",
        event(S46, batch=True, day=date(2026, 10, 13), **TOK),
        all_kinds(SONNET_4_6, *T) * BATCH,
    ),
    (
        "haiku-4-5 batch 2025",
        event("claude-haiku-4-5", batch=True, day=date(2025, 11, 1), **TOK),
        all_kinds(HAIKU_4_5, *T) * BATCH,
    ),
    (
        "opus-4-1 batch table ($7.50/$37.50)",
        event("claude-opus-4-1", batch=True, day=date(2025, 9, 1), input_tokens=10_000, output_tokens=2_000),
        (10_000 * OPUS_4_1_BATCH_IN_OUT[0] + 2_000 * OPUS_4_1_BATCH_IN_OUT[1]) / MTOK,
    ),
    (
        "opus-4-1 batch caches halved now",
        event("claude-opus-4-1", batch=True, **TOK),
        all_kinds(OPUS_4_1, *T) * BATCH,
    ),
    (
        "claude-3-haiku batch table ($0.125/$0.625)",
        event(H3, batch=True, input_tokens=40_000, output_tokens=8_000),
        (40_000 * HAIKU_3_BATCH_IN_OUT[0] + 8_000 * HAIKU_3_BATCH_IN_OUT[1]) / MTOK,
    ),
    (
        "claude-3-5-haiku batch table ($0.40/$2)",
        event(
            "claude-3-5-haiku-20241022",
            batch=True,
            day=BEFORE,
            input_tokens=5000,
            output_tokens=700,
        ),
        (5000 * HAIKU_3_5_BATCH_IN_OUT[0] + 700 * HAIKU_3_5_BATCH_IN_OUT[1]) / MTOK,
    ),
    (
        "batch result endpoint, no service tier",
        UsageEvent(
            id="r",
            ts=event(None).ts,
            model="claude-sonnet-4-20250514",
            endpoint=Endpoint.BATCH_RESULT,
            input_tokens=3000,
            output_tokens=400,
        ),
        (3000 * SONNET_4_BATCH_IN_OUT[0] + 400 * SONNET_4_BATCH_IN_OUT[1]) / MTOK,
    ),
    ("fable-5-2 batch", event("claude-fable-5-2", batch=True, **TOK), all_kinds(FABLE_5_2, *T) * BATCH),
    # --- long context: the tier is chosen on the TOTAL prompt (input + writes + reads), strictly over ---
    (
        "sonnet-4-5 prompt exactly 200k: base",
        event("claude-sonnet-4-5", input_tokens=200_000, output_tokens=1000),
        (200_000 * SONNET_4_5.input + 1000 * SONNET_4_5.output) / MTOK,
    ),
    (
        "sonnet-4-5 prompt 200,001: long-context rates on everything",
        event("claude-sonnet-4-5", input_tokens=200_001, output_tokens=1000),
        (200_001 * S45L.input + 1000 * S45L.output) / MTOK,
    ),
    (
        "sonnet-4-5 threshold on total prompt, not uncached input",
        event("claude-sonnet-4-5", input_tokens=150_000, cache_read_tokens=60_000, output_tokens=2000),
        (150_000 * S45L.input + 60_000 * S45L.read + 2000 * S45L.output) / MTOK,
    ),
    (
        "sonnet-4-5 long context all kinds",
        event(
            "claude-sonnet-4-5",
            input_tokens=100_000,
            cache_write_5m_tokens=50_000,
            cache_write_1h_tokens=40_000,
            cache_read_tokens=30_000,
            output_tokens=5000,
        ),
        all_kinds(S45L, 100_000, 50_000, 40_000, 30_000, 5000),
    ),
    (
        "sonnet-4-5 long context batch",
        event(
            "claude-sonnet-4-5",
            batch=True,
            day=BEFORE,
            input_tokens=250_000,
            output_tokens=1000,
        ),
        (250_000 * S45L.input + 1000 * S45L.output) / MTOK * BATCH,
    ),
    (
        "opus-4-6 over 200k before 2026-03-13",
        event("claude-opus-4-6", day=date(2026, 3, 1), input_tokens=300_000, output_tokens=4000),
        (300_000 * O46L.input + 4000 * O46L.output) / MTOK,
    ),
    (
        "opus-4-6 over 200k from 2026-03-13: flat",
        event("claude-opus-4-6", day=date(2026, 3, 13), input_tokens=300_000, output_tokens=4000),
        (300_000 * OPUS_4_6.input + 4000 * OPUS_4_6.output) / MTOK,
    ),
    (
        "sonnet-4-6 1M prompt: flat",
        event(S46, input_tokens=900_000, cache_read_tokens=100_000, output_tokens=8000),
        (900_000 * SONNET_4_6.input + 100_000 * SONNET_4_6.read + 8000 * SONNET_4_6.output) / MTOK,
    ),
    (
        "haiku-5-5 prompt 100k: base",
        event("claude-haiku-5-5", input_tokens=100_000, output_tokens=3000),
        (100_000 * HAIKU_5_5.input + 3000 * HAIKU_5_5.output) / MTOK,
    ),
    (
        "haiku-5-5 prompt over 100k: 5x",
        event("claude-haiku-5-5", input_tokens=60_000, cache_write_5m_tokens=50_000, output_tokens=3000),
        (60_000 * H55L.input + 50_000 * H55L.write_5m + 3000 * H55L.output) / MTOK,
    ),
    # --- US-only inference: 1.1x on every token kind for Opus 4.6 / Sonnet 4.6 and later ---
    ("opus-4-7 us", event("claude-opus-4-7", geo="us", **TOK), all_kinds(OPUS_4_7, *T) * US_ONLY),
    ("sonnet-4-6 us", event(S46, geo="us", **TOK), all_kinds(SONNET_4_6, *T) * US_ONLY),
    ("opus-4-6 us", event("claude-opus-4-6", geo="us", **TOK), all_kinds(OPUS_4_6, *T) * US_ONLY),
    ("haiku-4-5 us: not eligible", event("claude-haiku-4-5", geo="us", **TOK), all_kinds(HAIKU_4_5, *T)),
    ("sonnet-4-5 us: not eligible", event("claude-sonnet-4-5", geo="us", **TOK), all_kinds(SONNET_4_5, *T)),
    ("opus-4-7 global", event("claude-opus-4-7", geo="global", **TOK), all_kinds(OPUS_4_7, *T)),
    (
        "opus-4-7 us + batch",
        event("claude-opus-4-7", geo="us", batch=True, day=BEFORE, **TOK),
        all_kinds(OPUS_4_7, *T) * US_ONLY * BATCH,
    ),
    # --- server tools: $10 per 1,000 web searches; web fetch free; not discounted or multiplied ---
    (
        "sonnet-4-6 3 web searches",
        event(S46, web_search_requests=3, **TOK),
        all_kinds(SONNET_4_6, *T) + 3 * WEB_SEARCH_PER_1K / 1000,
    ),
    (
        "haiku-4-5 web searches only",
        event("claude-haiku-4-5", web_search_requests=7),
        7 * WEB_SEARCH_PER_1K / 1000,
    ),
    (
        "web search in a batch keeps its fee",
        event(S46, batch=True, web_search_requests=2, **TOK),
        all_kinds(SONNET_4_6, *T) * BATCH + 2 * WEB_SEARCH_PER_1K / 1000,
    ),
    (
        "web search with US-only: fee not multiplied",
        event("claude-opus-4-7", geo="us", web_search_requests=5, **TOK),
        all_kinds(OPUS_4_7, *T) * US_ONLY + 5 * WEB_SEARCH_PER_1K / 1000,
    ),
    ("web fetch is free", event("claude-opus-4-7", web_fetch_requests=9, **TOK), all_kinds(OPUS_4_7, *T)),
    # --- thinking tokens are inside output_tokens: not added again ---
    (
        "thinking not double counted",
        event("claude-opus-4-7", input_tokens=200, output_tokens=1000, thinking_tokens=800),
        (200 * OPUS_4_7.input + 1000 * OPUS_4_7.output) / MTOK,
    ),
    # --- rounding: once per event, half to even ---
    (
        "0.25 micro → 0",
        event(H3, input_tokens=1),
        1 * HAIKU_3.input / MTOK,
    ),
    (
        "0.5 micro → 0 (even)",
        event(H3, input_tokens=2),
        2 * HAIKU_3.input / MTOK,
    ),
    (
        "1.5 micro → 2 (even)",
        event(H3, input_tokens=6),
        6 * HAIKU_3.input / MTOK,
    ),
    (
        "0.25 + 1.25 micro = 1.5 → 2, not 0 + 1 per kind",
        event(H3, input_tokens=1, output_tokens=1),
        (1 * HAIKU_3.input + 1 * HAIKU_3.output) / MTOK,
    ),
    # --- fast mode ---
    (
        "opus 4.6 fast: six times standard",
        event("claude-opus-4-6", speed="fast", **TOK),
        all_kinds(OPUS_4_6_FAST, *T),
    ),
    ("opus 4.7 fast", event("claude-opus-4-7", speed="fast", **TOK), all_kinds(OPUS_4_6_FAST, *T)),
    ("opus 4.8 fast", event("claude-opus-4-8", speed="fast", **TOK), all_kinds(OPUS_4_8_FAST, *T)),
    (
        "speed standard is standard",
        event("claude-opus-4-6", speed="standard", **TOK),
        all_kinds(OPUS_4_6, *T),
    ),
    # --- calls that bill no tokens ---
    (
        "count_tokens is free",
        event("claude-opus-4-7", endpoint=Endpoint.COUNT_TOKENS, input_tokens=50_000),
        D(0),
    ),
    ("batch polling is free", event(None, endpoint=Endpoint.BATCH_RETRIEVE), D(0)),
]


@pytest.mark.parametrize(("event_", "expected_usd"), [pytest.param(e, x, id=i) for i, e, x in CASES])
def test_cost_matches_published_prices(event_: UsageEvent, expected_usd: Decimal) -> None:
    assert PriceBook().cost(event_) == micros(expected_usd)


UNKNOWN = [
    event("gpt-4o", **TOK),
    event("claude-nonexistent-9", **TOK),
    event("claude-nonexistent-9", batch=True, geo="us", **TOK),
    event(None, **TOK),
    event("", input_tokens=10),
    event("anthropic.claude-unknown-v9:0", output_tokens=10),
    # fast mode with no published fast price is not priced at the standard rate
    event("claude-sonnet-4-6", speed="fast", **TOK),
    event("claude-opus-4-6", speed="fast", batch=True, **TOK),
]


@pytest.mark.parametrize("event_", UNKNOWN, ids=lambda e: repr(e.model))
def test_unknown_model_is_unpriced_never_zero(event_: UsageEvent) -> None:
    assert PriceBook().cost(event_) is None


def test_table_is_large_enough() -> None:
    assert len(CASES) + len(UNKNOWN) >= 40


def test_published_table_multipliers() -> None:
    """The typed-in rows follow the documented multipliers (a typo check on the test data itself)."""
    for row in (OPUS_4_7, OPUS_4_1, SONNET_4_6, HAIKU_4_5, HAIKU_3_5, S45L, OPUS_4_6_FAST, OPUS_4_8_FAST):
        assert row.write_5m == row.input * D("1.25")
        assert row.write_1h == row.input * 2
        assert row.read == row.input * D("0.1")
