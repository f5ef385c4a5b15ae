"""Anthropic's published prices, typed in by hand, and the arithmetic the tests expect.

Nothing here calls claudetop.pricing: every expectation is computed from these numbers.

Sources (read 2026-11-25):
- PRICING_PAGE model table (Base Input | 5m Cache Writes | 1h Cache Writes | Cache Hits | Output), its
  batch table, its long-context table and its data-residency section;
- BATCH_DOCS: "All usage is charged at 50% of the standard API prices";
- WEB_SEARCH_DOCS: "$10 per 1,000 searches"; web fetch has no additional charge;
- RESIDENCY_DOCS: US-only inference billed at 1.1x for Opus 4.6, Sonnet 4.6 and later models;
- FAST_MODE_DOCS: fast mode (``speed: "fast"``) Opus 4.6 / 4.7 at $30 input / $150 output, Opus 4.8
  at $10 / $50, prompt-caching multipliers on top (as quoted by ccusage/ccusage#886 and
  vellum-ai/vellum-assistant#22021 for 4.6, genai-prices 0.2.3's price_comments for 4.8).
The rows for the 5.x families (Haiku 5.5, Sonnet 5.5, Fable 5.1/5.2) are as genai-prices 0.2.3
transcribes PRICING_PAGE (its price_comments cite the page); the older rows were checked against the
page's own tables.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, NamedTuple

from claudetop.model import Endpoint, UsageEvent

PRICING_PAGE = "https://platform.claude.com/docs/en/about-claude/pricing"
BATCH_DOCS = "https://platform.claude.com/docs/en/build-with-claude/batch-processing#pricing"
WEB_SEARCH_DOCS = "https://platform.claude.com/docs/en/agents-and-tools/tool-use/web-search-tool"
FAST_MODE_DOCS = "https://platform.claude.com/docs/en/about-claude/pricing#fast-mode-pricing"
RESIDENCY_DOCS = (
    "https://support.claude.com/en/articles/15422948-enable-us-only-inference-for-your-organization"
)

D = Decimal
MTOK = D(1_000_000)
MICROS_PER_USD = D(1_000_000)


class Published(NamedTuple):
    """USD per million tokens, in the column order of the pricing page's model table."""

    input: Decimal
    write_5m: Decimal
    write_1h: Decimal
    read: Decimal
    output: Decimal


# PRICING_PAGE, model pricing table
OPUS_4_7 = Published(D("5"), D("6.25"), D("10"), D("0.50"), D("25"))
OPUS_4_6 = Published(D("5"), D("6.25"), D("10"), D("0.50"), D("25"))
OPUS_4_5 = Published(D("5"), D("6.25"), D("10"), D("0.50"), D("25"))
OPUS_4_1 = Published(D("15"), D("18.75"), D("30"), D("1.50"), D("75"))
OPUS_4 = Published(D("15"), D("18.75"), D("30"), D("1.50"), D("75"))
SONNET_4_6 = Published(D("3"), D("3.75"), D("6"), D("0.30"), D("15"))
SONNET_4_5 = Published(D("3"), D("3.75"), D("6"), D("0.30"), D("15"))
SONNET_4 = Published(D("3"), D("3.75"), D("6"), D("0.30"), D("15"))
SONNET_3_7 = Published(D("3"), D("3.75"), D("6"), D("0.30"), D("15"))
HAIKU_4_5 = Published(D("1"), D("1.25"), D("2"), D("0.10"), D("5"))
HAIKU_3_5 = Published(D("0.80"), D("1"), D("1.6"), D("0.08"), D("4"))
HAIKU_3 = Published(D("0.25"), D("0.30"), D("0.50"), D("0.03"), D("1.25"))
HAIKU_5_5 = Published(D("0.10"), D("0.125"), D("0.20"), D("0.01"), D("0.50"))
SONNET_5_5 = Published(D("2"), D("2.50"), D("4"), D("0.10"), D("10"))  # cache hits 0.05x input
FABLE_5_1 = Published(D("10"), D("12.50"), D("20"), D("0.25"), D("50"))  # cache hits 0.025x input
FABLE_5_2 = Published(D("8"), D("10"), D("16"), D("0.20"), D("40"))

# FAST_MODE_DOCS: input, then the usual 1.25x / 2x / 0.1x cache multipliers, then output
OPUS_4_6_FAST = Published(D("30"), D("37.50"), D("60"), D("3"), D("150"))
OPUS_4_8_FAST = Published(D("10"), D("12.50"), D("20"), D("1"), D("50"))

# PRICING_PAGE, long-context pricing: every token of a request whose prompt (input + cache writes +
# cache reads) exceeds the threshold is billed at these rates.
SONNET_4_5_OVER_200K = Published(D("6"), D("7.50"), D("12"), D("0.60"), D("22.50"))
OPUS_4_6_OVER_200K_UNTIL_2026_03_13 = Published(D("10"), D("12.50"), D("20"), D("1.00"), D("37.50"))
HAIKU_5_5_OVER_100K = Published(D("0.50"), D("0.625"), D("1"), D("0.05"), D("2.50"))

# PRICING_PAGE, batch table (Batch input | Batch output)
OPUS_4_1_BATCH_IN_OUT = (D("7.50"), D("37.50"))
HAIKU_3_BATCH_IN_OUT = (D("0.125"), D("0.625"))
HAIKU_3_5_BATCH_IN_OUT = (D("0.40"), D("2"))
SONNET_4_BATCH_IN_OUT = (D("1.50"), D("7.50"))

BATCH = D("0.5")  # BATCH_DOCS: 50% of standard on every token kind, cache included
US_ONLY = D("1.1")  # RESIDENCY_DOCS
WEB_SEARCH_PER_1K = D("10")  # WEB_SEARCH_DOCS

NOW = date(2026, 11, 24)
"""After 2026-10-14, when genai-prices 0.2.3 starts its own batch variants."""
BEFORE_BATCH_VARIANTS = date(2026, 6, 1)

# One request with every token kind, as ``UsageEvent`` fields (TOK) and in ``all_kinds`` order (T):
# uncached 1,000 · 5m write 2,000 · 1h write 3,000 · read 4,000 · output 500
TOK = {
    "input_tokens": 1000,
    "cache_write_5m_tokens": 2000,
    "cache_write_1h_tokens": 3000,
    "cache_read_tokens": 4000,
    "output_tokens": 500,
}
T = (1000, 2000, 3000, 4000, 500)


def micros(usd: Decimal) -> int:
    """Dollars to integer micro-dollars, rounding half to even, exactly as billed once per event."""
    return int((usd * MICROS_PER_USD).to_integral_value(rounding=ROUND_HALF_EVEN))


def all_kinds(p: Published, uncached: int, w5: int, w1h: int, read: int, out: int) -> Decimal:
    """USD for one request: sum of tokens x USD/MTok over every token kind, divided by a million."""
    return (uncached * p.input + w5 * p.write_5m + w1h * p.write_1h + read * p.read + out * p.output) / MTOK


def event(
    model: str | None,
    *,
    day: date = NOW,
    batch: bool = False,
    geo: str | None = None,
    speed: str | None = None,
    endpoint: Endpoint = Endpoint.MESSAGES,
    **fields: Any,
) -> UsageEvent:
    return UsageEvent(
        id="e1",
        ts=datetime(day.year, day.month, day.day, 12, 30, tzinfo=UTC),
        model=model,
        endpoint=endpoint,
        service_tier="batch" if batch else "standard",
        inference_geo=geo,
        speed=speed,
        **fields,
    )
