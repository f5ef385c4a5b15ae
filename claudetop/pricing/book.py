"""``PriceBook``: the exact cost of a ``UsageEvent`` in integer micro-dollars, and its counterfactuals.

A price of ``p`` USD per million tokens is ``p`` micro-dollars per token, so an event costs
``sum(tokens_k * price_k) + web_searches * fee`` micro-dollars. Prices are ``Decimal`` (exact);
every multiplier (batch 50%, US-only residency, contract discount) is folded into the price row,
the row is turned into integers over one common power of ten, and the event total is rounded
once, half to even. No float ever touches money.

Rows are resolved once per (model id, batch?, price period, US-only?) and remembered, where a price
period runs from one of the model's published price change dates to the next (``_genai.
price_change_dates``), so pricing an event is a dictionary lookup (per UTC day) and five integer
products: the analysis layer prices millions of events and the what-if re-prices them under every
policy, over months of days but only a handful of periods.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal, localcontext
from functools import cache
from typing import TYPE_CHECKING, Any

from claudetop.model import Micros
from claudetop.pricing import _genai
from claudetop.pricing._genai import TieredPrices, TokenPrices
from claudetop.pricing.models import ModelInfo, describe, model_info, supports_us_residency

if TYPE_CHECKING:
    from claudetop.model import UsageEvent

US_RESIDENCY_MULTIPLIER = Decimal("1.1")
"""US-only inference is billed at "1.1x standard API rates for Claude Opus 4.6, Claude Sonnet 4.6, and
later models" (https://support.claude.com/en/articles/15422948-enable-us-only-inference-for-your-organization;
which models accept ``inference_geo``: https://platform.claude.com/docs/en/build-with-claude/data-residency;
read 2026-11-25). Applied to token prices only, not to server tool fees."""

WEB_SEARCH_USD_PER_1K = Decimal(10)
"""$10 per 1,000 web searches, for models added by override (the price source carries it for the
others): https://platform.claude.com/docs/en/agents-and-tools/tool-use/web-search-tool#usage-and-pricing.
Web fetch has no fee beyond its tokens (same docs, web-fetch-tool#usage-and-pricing)."""

# Standard prompt-caching multipliers of base input, used only for a model added by override
# without explicit cache prices: 5m write 1.25x, 1h write 2x, read 0.1x
# (https://platform.claude.com/docs/en/about-claude/pricing#prompt-caching).
_WRITE_5M = Decimal("1.25")
_WRITE_1H = Decimal(2)
_READ = Decimal("0.1")
_HALF = Decimal("0.5")

_DATE_SUFFIX = re.compile(r"-\d{8}$")
_TOKEN_FIELDS = frozenset(
    {"input_tokens", "output_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens"}
)

PerMTok = Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelPriceOverride:
    """Per-model prices from config (USD per million tokens); unset fields keep the published price.

    Field names match ``claudetop.config``'s ``pricing.models`` entries, so
    ``ModelPriceOverride(**dataclasses.asdict(entry))`` converts one. A model the price source does not
    know needs at least ``input_per_mtok`` and ``output_per_mtok``; its cache prices then default
    to the standard 1.25x / 2x / 0.1x of input. ``multiplier`` scales the model's whole cost
    (e.g. 0.8 for a 20% contract discount).
    """

    input_per_mtok: PerMTok | None = None
    output_per_mtok: PerMTok | None = None
    cache_write_5m_per_mtok: PerMTok | None = None
    cache_write_1h_per_mtok: PerMTok | None = None
    cache_read_per_mtok: PerMTok | None = None
    multiplier: Decimal = Decimal(1)

    def __post_init__(self) -> None:
        """Prices given as numbers or text are read as decimals (a float by its shortest spelling, as
        config files and JSON write it); a negative price or a multiplier of 0 is refused."""
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
                raise TypeError(f"{f.name} must be a number, got {value!r}")
            number = value if isinstance(value, Decimal) else Decimal(str(value))
            if not number.is_finite() or (number <= 0 if f.name == "multiplier" else number < 0):
                raise ValueError(f"{f.name} must be {'positive' if f.name == 'multiplier' else '>= 0'}")
            object.__setattr__(self, f.name, number)

    def key(self) -> str:
        """Equal for overrides that price alike, for ``PriceBook.fingerprint``."""
        return ",".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))

    def apply(self, prices: TokenPrices, *, batch: bool) -> TokenPrices:
        """Replace the overridden kinds (the same price at every long-context tier)."""
        half = _HALF if batch else Decimal(1)

        def pick(override: Decimal | None, published: Decimal) -> Decimal:
            return published if override is None else override * half

        return TokenPrices(
            pick(self.input_per_mtok, prices.input),
            pick(self.output_per_mtok, prices.output),
            pick(self.cache_write_5m_per_mtok, prices.write_5m),
            pick(self.cache_write_1h_per_mtok, prices.write_1h),
            pick(self.cache_read_per_mtok, prices.read),
        )

    @property
    def sets_token_prices(self) -> bool:
        """Whether any per-token price is overridden (not only the ``multiplier``)."""
        return any(
            price is not None
            for price in (
                self.input_per_mtok,
                self.output_per_mtok,
                self.cache_write_5m_per_mtok,
                self.cache_write_1h_per_mtok,
                self.cache_read_per_mtok,
            )
        )

    def standalone(self) -> TieredPrices:
        """Full prices for a model known only through this override."""
        if self.input_per_mtok is None or self.output_per_mtok is None:
            raise ValueError("needs input_per_mtok and output_per_mtok")
        base = self.input_per_mtok
        return TieredPrices(
            base=TokenPrices(
                base,
                self.output_per_mtok,
                self.cache_write_5m_per_mtok
                if self.cache_write_5m_per_mtok is not None
                else base * _WRITE_5M,
                self.cache_write_1h_per_mtok
                if self.cache_write_1h_per_mtok is not None
                else base * _WRITE_1H,
                self.cache_read_per_mtok if self.cache_read_per_mtok is not None else base * _READ,
            ),
            tiers=(),
            web_search_per_1k=WEB_SEARCH_USD_PER_1K,
        )


@dataclass(frozen=True, slots=True)
class _IntRates:
    """Micro-dollar prices times ``scale``, as integers: exact and fast to multiply."""

    input: int
    output: int
    write_5m: int
    write_1h: int
    read: int
    web_search: int


@dataclass(frozen=True, slots=True)
class _Row:
    scale: int
    base: _IntRates
    tiers: tuple[tuple[int, _IntRates], ...]

    def rates_for(self, prompt_tokens: int) -> _IntRates:
        rates = self.base
        for threshold, tier_rates in self.tiers:
            if prompt_tokens > threshold:
                rates = tier_rates
        return rates


def _to_row(prices: TieredPrices, token_factor: Decimal, total_factor: Decimal) -> _Row:
    """Fold the multipliers into exact per-token micro-dollar prices and scale them to integers."""
    with localcontext() as ctx:
        ctx.prec = 60
        search = prices.web_search_per_1k * 1000 * total_factor  # USD per 1k searches → micros per search
        scaled = [(t, p.scaled(token_factor * total_factor)) for t, p in [(0, prices.base), *prices.tiers]]
        values = [search, *(v for _, p in scaled for v in p.kinds())]
        scale = 10 ** max(0, *(-int(v.normalize().as_tuple().exponent) for v in values))

        def as_ints(p: TokenPrices) -> _IntRates:
            inp, out, w5, w1h, read = (int(v * scale) for v in p.kinds())
            return _IntRates(inp, out, w5, w1h, read, int(search * scale))

        rates = [(t, as_ints(p)) for t, p in scaled]
    return _Row(scale=scale, base=rates[0][1], tiers=tuple(rates[1:]))


def _round_half_even(numerator: int, denominator: int) -> int:
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def _override_key(model_id: str) -> str:
    return _DATE_SUFFIX.sub("", model_id.strip().lower())


class PriceBook:
    """Prices events from the published prices (genai-prices) plus config overrides.

    ``residency_multiplier`` is charged on every token kind of events with ``inference_geo == "us"``
    on models that support US-only inference (see :data:`US_RESIDENCY_MULTIPLIER`).
    """

    def __init__(
        self,
        overrides: Mapping[str, ModelPriceOverride] | None = None,
        residency_multiplier: Decimal | None = None,
    ) -> None:
        if residency_multiplier is None:
            residency_multiplier = US_RESIDENCY_MULTIPLIER
        if residency_multiplier <= 0:
            raise ValueError(f"residency_multiplier must be positive, got {residency_multiplier}")
        self.residency_multiplier = Decimal(residency_multiplier)
        self._overrides: dict[str, ModelPriceOverride] = {}
        for model_id, override in (overrides or {}).items():
            published = _genai.resolve(model_id)
            if published is None and (override.input_per_mtok is None or override.output_per_mtok is None):
                raise ValueError(
                    f"pricing override for {model_id!r}: the model has no published price, "
                    "so it needs input_per_mtok and output_per_mtok"
                )
            self._overrides[_override_key(model_id) if published is None else published.id] = override
        self._rows: dict[tuple[str, bool, date, bool, bool], _Row | None] = {}
        self._period_rows: dict[tuple[str, bool, date, bool, bool], _Row | None] = {}

    @classmethod
    def from_overrides(
        cls, models: Mapping[str, Mapping[str, Any]], residency_multiplier: Decimal | None = None
    ) -> PriceBook:
        """The book a config's ``pricing`` section describes, given as plain data because pricing may
        not import config: ``PriceBook.from_overrides(**dataclasses.asdict(config.pricing))``. With neither
        overrides nor a multiplier it is the shared :func:`default_pricebook`."""
        if not models and residency_multiplier is None:
            return default_pricebook()
        return cls({m: ModelPriceOverride(**fields) for m, fields in models.items()}, residency_multiplier)

    @property
    def fingerprint(self) -> str:
        """Equal for two books that price every event alike (same overrides, multiplier and published
        prices): what a cache of computed costs is keyed on."""
        overrides = sorted((m, o.key()) for m, o in self._overrides.items())
        published = f"genai-prices {_genai.source_version()}; rules {_genai.rules_digest()}"
        return f"{published}; residency {self.residency_multiplier}; {overrides}"

    # --- model lookups -------------------------------------------------------------------------

    def _override_for(self, model_id: str, canonical: str | None) -> ModelPriceOverride | None:
        """Overrides of published models are keyed by canonical id, of new models by undated id."""
        return self._overrides.get(canonical if canonical is not None else _override_key(model_id))

    def model_info(self, model_id: str) -> ModelInfo | None:
        """Like :func:`claudetop.pricing.model_info`, but also knowing models added by override."""
        info = model_info(model_id)
        if info is None and _override_key(model_id) in self._overrides:
            return describe(_override_key(model_id))
        return info

    def is_priced(self, model_id: str) -> bool:
        return self.model_info(model_id) is not None

    # --- pricing -------------------------------------------------------------------------------

    def _row(self, model_id: str, batch: bool, day: date, us_geo: bool, fast: bool) -> _Row | None:
        key = (model_id, batch, day, us_geo, fast)
        try:
            return self._rows[key]
        except KeyError:
            period_key = (model_id, batch, self._period_start(model_id, day), us_geo, fast)
            if period_key not in self._period_rows:
                self._period_rows[period_key] = self._build_row(model_id, batch, day, us_geo, fast)
            row = self._rows[key] = self._period_rows[period_key]
            return row

    @staticmethod
    def _period_start(model_id: str, day: date) -> date:
        """The first day of the price period that holds ``day`` (``_genai.price_period``); every day of
        a period has the same prices. One period for a model without published prices."""
        published = _genai.resolve(model_id)
        return date.min if published is None else _genai.price_period(published.id, day)

    def _build_row(self, model_id: str, batch: bool, day: date, us_geo: bool, fast: bool) -> _Row | None:
        published = _genai.resolve(model_id)
        canonical = None if published is None else published.id
        override = self._override_for(model_id, canonical)
        prices: TieredPrices | None
        if fast:
            # Fast mode has its own published prices; a batch at fast speed, or fast prices under
            # token prices of the config's own, are not published anywhere: unpriced, not guessed.
            if canonical is None or batch or (override is not None and override.sets_token_prices):
                return None
            prices = _genai.fast_prices(canonical, day)
            if prices is None:
                return None
            residency_id = canonical
        elif canonical is None:
            if override is None:
                return None
            prices = override.standalone()
            if batch:
                prices = prices.map_tokens(lambda p: p.scaled(_HALF))
            residency_id = _override_key(model_id)
        else:
            prices = _genai.batch_prices(canonical, day) if batch else _genai.standard_prices(canonical, day)
            if prices is None:
                return None
            if override is not None:
                prices = prices.map_tokens(lambda p: override.apply(p, batch=batch))
            residency_id = canonical
        token_factor = (
            self.residency_multiplier if us_geo and supports_us_residency(residency_id) else Decimal(1)
        )
        total_factor = override.multiplier if override is not None else Decimal(1)
        return _to_row(prices, token_factor, total_factor)

    def _price(
        self,
        model: str | None,
        day: date,
        batch: bool,
        us_geo: bool,
        fast: bool,
        uncached: int,
        output: int,
        write_5m: int,
        write_1h: int,
        read: int,
        web_searches: int,
    ) -> Micros | None:
        if model is None:
            return None
        row = self._row(model, batch, day, us_geo, fast)
        if row is None:
            return None
        rates = row.rates_for(uncached + write_5m + write_1h + read) if row.tiers else row.base
        total = (
            uncached * rates.input
            + output * rates.output
            + write_5m * rates.write_5m
            + write_1h * rates.write_1h
            + read * rates.read
            + web_searches * rates.web_search
        )
        return _round_half_even(total, row.scale)

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
        fast: bool = False,
        us_geo: bool = False,
        web_searches: int = 0,
    ) -> Micros | None:
        """``cost`` of a Messages API call given by its model, UTC day, tokens and web searches alone, at
        batch rates when ``batch``, fast-mode prices when ``fast`` and with the US-only inference
        premium when ``us_geo``: a reader of long histories prices each message without building a
        ``UsageEvent`` for it."""
        tokens = (input_tokens, output_tokens, cache_write_5m, cache_write_1h, cache_read)
        return self._price(model, day, batch, us_geo, fast, *tokens, web_searches)

    def cost(self, event: UsageEvent) -> Micros | None:
        """What the event was billed, in micro-dollars; ``None`` when its model cannot be priced.

        Calls that bill no tokens (``count_tokens``, batch polling and listing) cost 0. Thinking
        tokens are part of ``output_tokens`` already and are not added again.
        """
        return self._cost(event, event.model, event.is_batch, uncached_cache=False)

    def _cost(
        self, event: UsageEvent, model: str | None, batch: bool, *, uncached_cache: bool
    ) -> Micros | None:
        if not event.billable:
            return 0
        if uncached_cache:
            uncached, write_5m, write_1h, read = event.prompt_tokens, 0, 0, 0
        else:
            uncached = event.input_tokens
            write_5m, write_1h, read = (
                event.cache_write_5m_tokens,
                event.cache_write_1h_tokens,
                event.cache_read_tokens,
            )
        return self._price(
            model,
            event.ts.date(),
            batch,
            event.inference_geo == "us",
            event.speed == "fast",
            uncached,
            event.output_tokens,
            write_5m,
            write_1h,
            read,
            event.web_search_requests,
        )

    # --- counterfactuals -----------------------------------------------------------------------

    def cost_on_model(self, event: UsageEvent, model_id: str) -> Micros | None:
        """The same tokens (and batch / residency status) served by ``model_id``."""
        return self._cost(event, model_id, event.is_batch, uncached_cache=False)

    def cost_without_cache(self, event: UsageEvent) -> Micros | None:
        """The same request with no prompt caching: cache writes and reads billed as uncached input."""
        return self._cost(event, event.model, event.is_batch, uncached_cache=True)

    def cost_at_batch_rate(self, event: UsageEvent) -> Micros | None:
        """The same request sent through the Message Batches API."""
        return self._cost(event, event.model, True, uncached_cache=False)

    def cost_with(self, event: UsageEvent, **changes: Any) -> Micros | None:
        """The event's cost with some fields changed (token counts, ``model``, ``service_tier``, ...)."""
        from claudetop.model import UsageEvent

        unknown = changes.keys() - UsageEvent.model_fields.keys()
        if unknown:
            raise TypeError(f"UsageEvent has no field(s) {sorted(unknown)}")
        for name in changes.keys() & _TOKEN_FIELDS:
            value = changes[name]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")
        return self.cost(event.model_copy(update=changes))


@cache
def default_pricebook() -> PriceBook:
    """The published prices with no overrides, shared by everything that needs no config."""
    return PriceBook()


def price_event(event: UsageEvent) -> UsageEvent:
    """The event with ``cost_micros`` set by the default price book (``None`` when unpriced)."""
    return event.model_copy(update={"cost_micros": default_pricebook().cost(event)})
