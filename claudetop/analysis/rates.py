"""Per-token rates of a model, derived once from the price book, for figures over aggregates.

Aggregates hold token sums, not events, so counterfactuals such as "what would these tokens have
cost without the cache" are computed as tokens x rate. The rates come from the same ``PriceBook``
that priced the events (pricing 100,000 tokens of one kind: below every long-context tier, and
exact for prices with up to five decimals per million tokens). Long-context premiums are therefore
not part of these counterfactuals; actual costs always come from the events themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from claudetop.model import Micros

_PROBE_TOKENS = 100_000
_PER_MTOK = 1_000_000 // _PROBE_TOKENS


class Pricer(Protocol):
    """What analysis needs from ``claudetop.pricing.PriceBook``: the list price of a call given by its
    model, UTC day and tokens (``None`` when the model cannot be priced)."""

    def message_cost(
        self,
        model: str | None,
        day: date,
        input_tokens: int,
        output_tokens: int,
        cache_write_5m: int,
        cache_write_1h: int,
        cache_read: int,
        *,
        batch: bool = False,
    ) -> Micros | None: ...


def _round_div(numerator: int, denominator: int) -> int:
    """Integer division rounding half to even, for exact money without floats."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


@dataclass(frozen=True, slots=True)
class Rates:
    """Micro-dollars per million tokens of each kind."""

    input: int
    output: int
    write_5m: int
    write_1h: int
    read: int

    def cost(
        self, *, input: int = 0, output: int = 0, write_5m: int = 0, write_1h: int = 0, read: int = 0
    ) -> Micros:
        total = (
            input * self.input
            + output * self.output
            + write_5m * self.write_5m
            + write_1h * self.write_1h
            + read * self.read
        )
        return _round_div(total, 1_000_000)


class RateTable:
    """Rates per (model, batch?) pair, looked up lazily and remembered; ``None`` for unpriced models."""

    def __init__(self, pricer: Pricer, at: datetime | None = None) -> None:
        self._pricer = pricer
        self._day = (at or datetime.now(UTC)).astimezone(UTC).date()
        self._rates: dict[tuple[str, bool], Rates | None] = {}

    def get(self, model: str | None, batch: bool = False) -> Rates | None:
        if model is None:
            return None
        key = (model, batch)
        if key not in self._rates:
            self._rates[key] = self._probe(model, batch)
        return self._rates[key]

    def _probe(self, model: str, batch: bool) -> Rates | None:
        per_kind: list[int] = []
        for kind in range(5):
            tokens = [_PROBE_TOKENS if k == kind else 0 for k in range(5)]
            cost = self._pricer.message_cost(model, self._day, *tokens, batch=batch)
            if cost is None:
                return None
            per_kind.append(cost * _PER_MTOK)
        return Rates(*per_kind)
