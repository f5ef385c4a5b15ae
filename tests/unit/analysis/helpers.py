"""Small event builders and a price table for the analysis tests.

Prices are the published list prices in USD per million tokens (input, output, 5m write, 1h write,
cache read), written here so every expected figure in the tests can be recomputed by hand.
Batch results cost half of every rate.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from claudetop.model import PrefixFingerprint, UsageEvent, micros_from_usd

PRICES: dict[str, tuple[str, str, str, str, str]] = {
    "claude-sonnet-4-6": ("3", "15", "3.75", "6", "0.30"),
    "claude-haiku-4-5": ("1", "5", "1.25", "2", "0.10"),
    "claude-opus-4-7": ("5", "25", "6.25", "10", "0.50"),
}
T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


class TablePricer:
    """Linear pricing from ``PRICES``: the analysis layer's stand-in for the price book."""

    def cost(self, event: UsageEvent) -> int | None:
        return self.message_cost(
            event.model,
            event.ts.date(),
            event.input_tokens,
            event.output_tokens,
            event.cache_write_5m_tokens,
            event.cache_write_1h_tokens,
            event.cache_read_tokens,
            batch=event.is_batch,
        )

    def message_cost(self, model: str | None, day: date, *tokens: int, batch: bool = False) -> int | None:
        row = PRICES.get(model or "")
        if row is None:
            return None
        usd = sum(n * Decimal(price) for n, price in zip(tokens, row, strict=True)) / 1_000_000
        return micros_from_usd(usd / 2 if batch else usd)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def prefix(name: str, tokens: int, *, scope: str = "system", ttl: str | None = None) -> PrefixFingerprint:
    return PrefixFingerprint.model_validate(
        {"scope": scope, "sha256": sha(name), "tokens": tokens, "breakpoint": True, "ttl": ttl}
    )


_counter = iter(range(10**9))


def ev(at: timedelta | datetime = timedelta(0), **fields: Any) -> UsageEvent:
    """A priced event at ``T0 + at`` (or at an absolute time); cost computed by ``TablePricer``."""
    ts = at if isinstance(at, datetime) else T0 + at
    fields.setdefault("id", f"e{next(_counter)}")
    fields.setdefault("model", "claude-sonnet-4-6")
    event = UsageEvent(ts=ts, **fields)
    if "cost_micros" not in fields:
        event = event.model_copy(update={"cost_micros": TablePricer().cost(event)})
    return event
