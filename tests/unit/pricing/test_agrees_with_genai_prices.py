"""Our fast integer path agrees with genai-prices' own calculator wherever the library models the case.

The library is the price source, not the code under test: this catches adapter mistakes (a tier
threshold, a dated price change, the total-prompt ``input_tokens`` trap) across every model it knows.
Batch is compared only where the library has batch prices (from 2026-10-14, for the models it lists).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import genai_prices
from genai_prices import data_snapshot
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from claudetop.pricing import PriceBook, known_models
from tests.unit.pricing.published import event, micros

MODEL_IDS = [m.id for m in known_models()]
BATCH_VARIANTS_FROM = date(2026, 10, 14)


def _library_has_batch_prices(model: str) -> bool:
    """Older models have no batch variant in the library (it prices them at standard rates; we halve)."""
    _, info = data_snapshot.get_snapshot().find_provider_model(model, None, "anthropic", None)
    return any(v.when == {"processing": "batch"} for v in info.price_variants or ())


tokens = st.integers(min_value=0, max_value=400_000)


@settings(max_examples=300, deadline=None)
@given(
    model=st.sampled_from(MODEL_IDS),
    day=st.dates(min_value=date(2024, 6, 1), max_value=date(2027, 12, 31)),
    batch=st.booleans(),
    uncached=tokens,
    w5=tokens,
    w1h=tokens,
    read=tokens,
    out=st.integers(min_value=0, max_value=128_000),
    searches=st.integers(min_value=0, max_value=50),
)
def test_matches_genai_prices_calc_price(
    model: str, day: date, batch: bool, uncached: int, w5: int, w1h: int, read: int, out: int, searches: int
) -> None:
    assume(not batch or (day >= BATCH_VARIANTS_FROM and _library_has_batch_prices(model)))
    usage = genai_prices.Usage(
        input_tokens=uncached + w5 + w1h + read,  # genai-prices wants the TOTAL prompt here
        cache_write_tokens=w5 + w1h,
        cache_write_5m_tokens=w5,
        cache_write_1h_tokens=w1h,
        cache_read_tokens=read,
        output_tokens=out,
        web_searches=searches,
    )
    reference = genai_prices.calc_price(
        usage,
        model,
        provider_id="anthropic",
        genai_request_timestamp=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
        price_context={"processing": "batch"} if batch else None,
    )
    ours = PriceBook().cost(
        event(
            model,
            day=day,
            batch=batch,
            input_tokens=uncached,
            cache_write_5m_tokens=w5,
            cache_write_1h_tokens=w1h,
            cache_read_tokens=read,
            output_tokens=out,
            web_search_requests=searches,
        )
    )
    assert ours == micros(reference.total_price)
