"""``PriceBook.message_cost``: a standard Messages call priced from its tokens alone, each expectation
written out from published prices (published.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from claudetop.pricing import PriceBook
from tests.unit.pricing.published import (
    HAIKU_4_5,
    MTOK,
    NOW,
    OPUS_4_1,
    SONNET_4_5,
    SONNET_4_5_OVER_200K,
    T,
    all_kinds,
    micros,
)

book = PriceBook()

CASES: list[tuple[str, str | None, tuple[int, int, int, int, int], Decimal | None]] = [
    ("sonnet-4-5 dated, every kind", "claude-sonnet-4-5-20250929", T, all_kinds(SONNET_4_5, *T)),
    ("haiku-4-5 dated, every kind", "claude-haiku-4-5-20251001", T, all_kinds(HAIKU_4_5, *T)),
    ("opus-4-1 dated, every kind", "claude-opus-4-1-20250805", T, all_kinds(OPUS_4_1, *T)),
    (
        "long-context tier: prompt over 200k bills every token at the higher rates",
        "claude-sonnet-4-5-20250929",
        (150_000, 40_000, 0, 20_000, 1000),
        all_kinds(SONNET_4_5_OVER_200K, 150_000, 40_000, 0, 20_000, 1000),
    ),
    (
        "prompt of exactly 200k stays at base rates",
        "claude-sonnet-4-5-20250929",
        (200_000, 0, 0, 0, 1000),
        (200_000 * SONNET_4_5.input + 1000 * SONNET_4_5.output) / MTOK,
    ),
    ("unknown model is unpriced, never $0", "gpt-4o", T, None),
    ("no model is unpriced", None, T, None),
]


@pytest.mark.parametrize(("model", "tokens", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_message_cost_matches_published_prices(
    model: str | None, tokens: tuple[int, int, int, int, int], expected: Decimal | None
) -> None:
    uncached, w5, w1h, read, out = tokens
    got = book.message_cost(model, NOW, uncached, out, w5, w1h, read)
    assert got == (None if expected is None else micros(expected))


def test_message_cost_rounds_once_half_to_even() -> None:
    # 1 uncached token of haiku-4-5 is $0.000001 = 1 micro; 1 cache read is 0.1 micro: 5 reads = 0.5
    # micro rounds to even (0), 15 reads = 1.5 micros rounds to 2.
    assert book.message_cost("claude-haiku-4-5", date(2026, 1, 5), 0, 0, 0, 0, 5) == micros(
        5 * HAIKU_4_5.read / MTOK
    )
    assert book.message_cost("claude-haiku-4-5", date(2026, 1, 5), 0, 0, 0, 0, 15) == micros(
        15 * HAIKU_4_5.read / MTOK
    )


def test_fingerprint_tells_books_that_price_differently_apart() -> None:
    discounted = PriceBook.from_overrides({"claude-sonnet-4-5": {"multiplier": Decimal("0.8")}})
    assert PriceBook().fingerprint == PriceBook().fingerprint
    assert discounted.fingerprint != PriceBook().fingerprint
    assert PriceBook(residency_multiplier=Decimal("1.2")).fingerprint != PriceBook().fingerprint
