"""The one place claudetop talks to ``genai-prices``: model matching and published per-MTok prices.

Everything the library knows is turned into plain claudetop values here (``PublishedModel``,
``TieredPrices``), so the rest of the package never sees the library's types and a future
price source only has to replace this module.

Two traps of genai-prices 0.2.3 are handled here rather than spread around:

- its ``Usage.input_tokens`` is the *total* prompt (Anthropic's ``input_tokens`` excludes cache
  reads and writes), so we never hand it usage at all: we read the price rows and do the
  arithmetic ourselves (which is also what makes pricing millions of events fast);
- its ``{"processing": "batch"}`` variant only applies to request dates from 2026-10-14
  (and not at all for models with no variant), while the Message Batches API has been 50% off
  every token kind since 2024. Where the library's variant does not apply we halve the
  standard token prices ourselves (:func:`batch_prices`).

The library is imported lazily: loading its data takes a fifth of a second, which an
application importing the claudetop hook should not pay until the first call is priced. And what it
answered can be remembered across runs (``remember_prices_in``): a command that prices only models and
price periods it priced before, such as a ``claudetop report`` rerun, never loads the library at all.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from bisect import bisect_right
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from claudetop._version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable

    from genai_prices import types as gp

T = TypeVar("T")

PROVIDER_ID = "anthropic"
_BATCH_CONTEXT = {"processing": "batch"}
_HALF = Decimal("0.5")


@dataclass(frozen=True, slots=True)
class TokenPrices:
    """USD per million tokens of each kind (equivalently: micro-dollars per token)."""

    input: Decimal
    output: Decimal
    write_5m: Decimal
    write_1h: Decimal
    read: Decimal

    def kinds(self) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
        return (self.input, self.output, self.write_5m, self.write_1h, self.read)

    def scaled(self, factor: Decimal) -> TokenPrices:
        return TokenPrices(
            self.input * factor,
            self.output * factor,
            self.write_5m * factor,
            self.write_1h * factor,
            self.read * factor,
        )


@dataclass(frozen=True, slots=True)
class TieredPrices:
    """Token prices by prompt size, plus the per-request server tool fee.

    ``tiers`` holds ``(threshold, prices)`` in ascending order: the prices of the last tier whose
    threshold the *total* prompt (uncached input + cache writes + cache reads) exceeds apply to
    every token of the request, including output (Anthropic's long-context pricing).
    """

    base: TokenPrices
    tiers: tuple[tuple[int, TokenPrices], ...]
    web_search_per_1k: Decimal
    """USD per 1,000 web search requests (not discounted for batches, not subject to tiers)."""

    def map_tokens(self, fn: Callable[[TokenPrices], TokenPrices]) -> TieredPrices:
        return TieredPrices(fn(self.base), tuple((t, fn(p)) for t, p in self.tiers), self.web_search_per_1k)


@dataclass(frozen=True, slots=True)
class PublishedModel:
    id: str
    """genai-prices' canonical id, e.g. ``claude-sonnet-4-6``."""
    name: str | None
    context_window: int | None


class _Memo:
    """What the price source answered, by question, in a JSON file shared by every claudetop process.

    Reused only under the genai-prices version, claudetop version and pricing code that wrote it (each
    may price differently). Nothing here may fail a caller: a file that cannot be read is an empty
    memo, one that cannot be written is left as it was. Two processes adding answers at once may lose
    one of them, which is only asked again."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self._answers: dict[str, Any] | None = None

    def use(self, path: Path | None) -> None:
        self.path, self._answers = path, None

    def _valid_for(self) -> str:
        return f"genai-prices {source_version()}; claudetop {__version__}; rules {rules_digest()}"

    def _read(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = orjson.loads(self.path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        answers = data.get("answers") if isinstance(data, dict) else None
        return answers if isinstance(answers, dict) and data.get("for") == self._valid_for() else {}

    def recall(
        self, question: str, ask: Callable[[], T], encode: Callable[[T], Any], decode: Callable[[Any], T]
    ) -> T:
        """The remembered answer to ``question``, else ``ask()``'s, remembered."""
        if self._answers is None:
            self._answers = self._read()
        if question in self._answers:
            try:
                return decode(self._answers[question])
            except (TypeError, ValueError, ArithmeticError, LookupError):
                pass  # not written by this code: asked again, and overwritten
        answer = ask()
        if self.path is not None:
            self._answers = {**self._read(), question: encode(answer)}
            self._write(self._answers)
        return answer

    def _write(self, answers: dict[str, Any]) -> None:
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(orjson.dumps({"for": self._valid_for(), "answers": answers}))
            os.replace(tmp, self.path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)


_MEMO = _Memo()


def remember_prices_in(path: Path | None) -> None:
    """Keep what genai-prices answers (model lookups, price periods, price rows) in ``path`` across runs;
    ``None``: only in this process. Set it before the first price is looked up."""
    _MEMO.use(path)


def _prices_json(prices: TieredPrices | None) -> Any:
    if prices is None:
        return None
    return {
        "base": [str(v) for v in prices.base.kinds()],
        "tiers": [[t, [str(v) for v in p.kinds()]] for t, p in prices.tiers],
        "web": str(prices.web_search_per_1k),
    }


def _prices_from_json(data: Any) -> TieredPrices | None:
    if data is None:
        return None

    def token_prices(values: list[str]) -> TokenPrices:
        return TokenPrices(*(Decimal(v) for v in values))

    return TieredPrices(
        token_prices(data["base"]),
        tuple((int(t), token_prices(p)) for t, p in data["tiers"]),
        Decimal(data["web"]),
    )


_DIST_INFO = re.compile(r"genai_prices-(.+)\.dist-info")
_RULES = ("_genai.py", "book.py")
"""The modules that turn the library's prices into claudetop's (this one's conversions and batch and
fast-mode rules, the price book's multipliers and overrides)."""


@cache
def rules_digest() -> str:
    """A digest of the pricing code itself: answers and costs that older code computed are not reused,
    even where the version number did not change (a working copy)."""
    digest = hashlib.blake2b(digest_size=8)
    for name in _RULES:
        try:
            digest.update(Path(__file__).with_name(name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()


@cache
def source_version() -> str:
    """The installed genai-prices version, without importing the library (its data takes a fifth of a
    second to load): a saved price is reused only under the same prices.

    Read from the one ``genai_prices-<version>.dist-info`` beside the package, where pip installs it;
    otherwise (an editable or unusual install) from the package metadata, which costs more to load."""
    from importlib.util import find_spec

    spec = find_spec("genai_prices")
    locations = list(spec.submodule_search_locations or ()) if spec is not None else []
    if locations:
        with suppress(OSError):
            found = [m for n in os.listdir(Path(locations[0]).parent) if (m := _DIST_INFO.fullmatch(n))]
            if len(found) == 1:
                return found[0][1]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("genai-prices")
    except PackageNotFoundError:
        return "unknown"


def _snapshot_models() -> list[gp.ModelInfo]:
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    provider = next(p for p in snapshot.providers if p.id == PROVIDER_ID)
    return provider.models


def _published(model: gp.ModelInfo) -> PublishedModel:
    return PublishedModel(id=model.id, name=model.name, context_window=model.context_window)


@cache
def catalog() -> tuple[PublishedModel, ...]:
    """Every Anthropic model the library prices, by canonical id."""
    return tuple(_published(m) for m in _snapshot_models())


@cache
def resolve(model_ref: str) -> PublishedModel | None:
    """Canonical model for an id, dated id or alias (``claude-sonnet-4-20250514``); ``None`` if unknown."""

    def ask() -> PublishedModel | None:
        model = _find(model_ref)
        return None if model is None else _published(model)

    return _MEMO.recall(
        f"model {model_ref}",
        ask,
        lambda m: None if m is None else [m.id, m.name, m.context_window],
        lambda v: None if v is None else PublishedModel(str(v[0]), v[1], v[2]),
    )


def _find(model_ref: str) -> gp.ModelInfo | None:
    from genai_prices import data_snapshot

    try:
        _, model = data_snapshot.get_snapshot().find_provider_model(model_ref, None, PROVIDER_ID, None)
    except LookupError:
        return None
    return model


def _by_id(canonical_id: str) -> gp.ModelInfo:
    return next(m for m in _snapshot_models() if m.id == canonical_id)


@cache
def price_change_dates(canonical_id: str) -> tuple[date, ...] | None:
    """The UTC days on which one of the model's standard or variant prices starts, ascending.

    Prices are looked up at midnight UTC of a day, and the only date-dependent constraint the
    library has is a start date (a time-of-day constraint is the same at every midnight), so every
    day from one change date up to the next has the change date's prices: callers can resolve a
    row once per such period instead of once per day. ``None`` if a constraint of another kind
    appears (a newer library): then only a per-day lookup is known to be exact.
    """
    return _MEMO.recall(
        f"changes {canonical_id}",
        lambda: _change_dates(canonical_id),
        lambda days: None if days is None else [d.isoformat() for d in days],
        lambda v: None if v is None else tuple(date.fromisoformat(d) for d in v),
    )


def price_period(canonical_id: str, day: date) -> date:
    """The first day of the price period holding ``day``: its latest change date (``date.min`` before
    the first one), or ``day`` itself where periods are not known (``price_change_dates``)."""
    changes = price_change_dates(canonical_id)
    if changes is None:
        return day
    at = bisect_right(changes, day)
    return changes[at - 1] if at else date.min


def _change_dates(canonical_id: str) -> tuple[date, ...] | None:
    from genai_prices.types import StartDateConstraint, TimeOfDateConstraint

    model = _by_id(canonical_id)
    conditional = model.prices if isinstance(model.prices, list) else []
    constraints = [c.constraint for c in conditional] + [v.constraint for v in model.price_variants or ()]
    starts = set()
    for constraint in constraints:
        if isinstance(constraint, StartDateConstraint):
            starts.add(constraint.start_date)
        elif constraint is not None and not isinstance(constraint, TimeOfDateConstraint):
            return None
    return tuple(sorted(starts))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _in_period(
    kind: str, ask: Callable[[str, date], TieredPrices | None], canonical_id: str, day: date
) -> TieredPrices | None:
    """``ask(canonical_id, day)``, remembered for the whole price period of ``day``."""
    period = price_period(canonical_id, day).isoformat()
    return _MEMO.recall(
        f"{kind} {canonical_id} {period}", lambda: ask(canonical_id, day), _prices_json, _prices_from_json
    )


def standard_prices(canonical_id: str, day: date) -> TieredPrices | None:
    """The published standard prices in force on ``day`` (UTC); ``None`` if a price kind is not understood."""
    return _in_period("standard", _standard_prices, canonical_id, day)


def _standard_prices(canonical_id: str, day: date) -> TieredPrices | None:
    return _convert(_by_id(canonical_id).get_prices(_midnight(day)))


def batch_prices(canonical_id: str, day: date) -> TieredPrices | None:
    """Message Batches prices on ``day``: the library's batch variant where it applies, else 50% of standard.

    Anthropic: "The Batches API offers significant cost savings. All usage is charged at 50% of
    the standard API prices", prompt caching multipliers stacking on top
    (https://platform.claude.com/docs/en/build-with-claude/batch-processing#pricing, read 2026-11-25).
    Web search requests keep their standard fee (no batch rate is published for them).
    """
    return _in_period("batch", _batch_prices, canonical_id, day)


def _batch_prices(canonical_id: str, day: date) -> TieredPrices | None:
    model = _by_id(canonical_id)
    when = _midnight(day)
    if _batch_variant_active(model, when):
        return _convert(model.get_prices(when, _BATCH_CONTEXT))
    return _scaled_standard(model, when, _HALF)


def fast_prices(canonical_id: str, day: date) -> TieredPrices | None:
    """Fast-mode (``speed: "fast"``) prices on ``day``: the library's fast variant, else a multiple of
    standard published by Anthropic (``_FAST_MULTIPLIERS``), else ``None``: never the standard price.

    Prompt-caching multipliers apply on top of fast-mode prices
    (https://platform.claude.com/docs/en/build-with-claude/fast-mode#pricing).
    """
    return _in_period("fast", _fast_prices, canonical_id, day)


def _fast_prices(canonical_id: str, day: date) -> TieredPrices | None:
    model = _by_id(canonical_id)
    when = _midnight(day)
    if _variant_active(model, when, _FAST_CONTEXT):
        return _convert(model.get_prices(when, _FAST_CONTEXT))
    factor = _FAST_MULTIPLIERS.get(canonical_id)
    return None if factor is None else _scaled_standard(model, when, factor)


def _scaled_standard(model: gp.ModelInfo, when: datetime, factor: Decimal) -> TieredPrices | None:
    """Standard prices times ``factor`` on every token kind (web search fees unchanged)."""
    standard = _convert(model.get_prices(when))
    return None if standard is None else standard.map_tokens(lambda p: p.scaled(factor))


_FAST_CONTEXT = {"speed": "fast"}
_FAST_MULTIPLIERS = {"claude-opus-4-6": Decimal(6), "claude-opus-4-7": Decimal(6)}
"""Fast mode of the models genai-prices has no fast variant for: $30 / $150 per MTok against $5 / $25,
six times standard on every token kind (https://platform.claude.com/docs/en/about-claude/pricing#fast-mode-pricing,
as quoted in ccusage/ccusage#886 and vellum-ai/vellum-assistant#22021, 2026-03)."""


def _batch_variant_active(model: gp.ModelInfo, when: datetime) -> bool:
    return _variant_active(model, when, _BATCH_CONTEXT)


def _variant_active(model: gp.ModelInfo, when: datetime, context: dict[str, str]) -> bool:
    return any(
        variant.when == context and (variant.constraint is None or variant.constraint.active(when))
        for variant in model.price_variants or ()
    )


# genai-prices price keys claudetop knows how to charge; anything else priced (a per-request fee,
# audio, ...) means we cannot price the model faithfully, and it is reported unpriced instead.
_TOKEN_KEYS = ("input_mtok", "output_mtok", "cache_write_mtok", "cache_write_1h_mtok", "cache_read_mtok")
_KNOWN_KEYS = frozenset((*_TOKEN_KEYS, "web_searches_kcount"))


def _convert(price: gp.ModelPrice) -> TieredPrices | None:
    from genai_prices.types import TieredPrices as GpTiered

    values = {k: v for k, v in price.__dict__.items() if v is not None and not k.startswith("_")}
    if not values.keys() <= _KNOWN_KEYS or "input_mtok" not in values or "output_mtok" not in values:
        return None
    web = values.get("web_searches_kcount", Decimal(0))
    if isinstance(web, GpTiered):
        return None
    thresholds = sorted({t.start for v in values.values() if isinstance(v, GpTiered) for t in v.tiers})

    def at(key: str, prompt_tokens: int) -> Decimal | None:
        value = values.get(key)
        if value is None or isinstance(value, Decimal):
            return value
        applicable: Decimal = value.base
        for tier in value.tiers:
            if prompt_tokens > tier.start:
                applicable = tier.price
        return applicable

    def prices_for(prompt_tokens: int) -> TokenPrices:
        # Fallbacks mirror the library's unit hierarchy: a missing 1h-write price is the (5m) write
        # price, a missing write or read price is the plain input price.
        inp = at("input_mtok", prompt_tokens)
        out = at("output_mtok", prompt_tokens)
        assert inp is not None and out is not None
        w5 = _first(at("cache_write_mtok", prompt_tokens), inp)
        w1h = _first(at("cache_write_1h_mtok", prompt_tokens), w5)
        read = _first(at("cache_read_mtok", prompt_tokens), inp)
        return TokenPrices(inp, out, w5, w1h, read)

    return TieredPrices(
        base=prices_for(0),
        tiers=tuple((t, prices_for(t + 1)) for t in thresholds),
        web_search_per_1k=web,
    )


def _first(value: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if value is None else value
