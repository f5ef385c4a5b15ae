"""Config overrides: contract discounts, changed prices, brand-new models (expectations from published.py)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from claudetop.config import config_from_text
from claudetop.pricing import ModelPriceOverride, PriceBook, default_pricebook, price_event
from tests.unit.pricing.published import (
    BATCH,
    BEFORE_BATCH_VARIANTS,
    MTOK,
    OPUS_4_7,
    SONNET_4,
    SONNET_4_6,
    TOK,
    US_ONLY,
    WEB_SEARCH_PER_1K,
    D,
    T,
    all_kinds,
    event,
    micros,
)

CONTRACT = D("0.8")  # a 20% contract discount on Sonnet 4.6
NOVA_IN, NOVA_OUT = D("2"), D("8")  # a model the price source does not know yet


def test_contract_discount_scales_the_whole_cost() -> None:
    book = PriceBook({"claude-sonnet-4-6": ModelPriceOverride(multiplier=CONTRACT)})
    e = event("claude-sonnet-4-6", web_search_requests=10, **TOK)
    expected = (all_kinds(SONNET_4_6, *T) + 10 * WEB_SEARCH_PER_1K / 1000) * CONTRACT
    assert book.cost(e) == micros(expected)


def test_discount_keyed_by_dated_id_applies_to_every_alias() -> None:
    book = PriceBook({"claude-sonnet-4-20250514": ModelPriceOverride(multiplier=CONTRACT)})
    for model in ("claude-sonnet-4-0", "claude-sonnet-4-20250514", "claude-sonnet-4"):
        assert book.cost(event(model, **TOK)) == micros(all_kinds(SONNET_4, *T) * CONTRACT)


def test_discount_does_not_touch_other_models() -> None:
    book = PriceBook({"claude-sonnet-4-6": ModelPriceOverride(multiplier=CONTRACT)})
    assert book.cost(event("claude-opus-4-7", **TOK)) == micros(all_kinds(OPUS_4_7, *T))


def test_partial_price_override_keeps_other_kinds() -> None:
    book = PriceBook({"claude-opus-4-7": ModelPriceOverride(input_per_mtok=D("4"))})
    expected = (1000 * D("4") + 2000 * OPUS_4_7.write_5m + 3000 * OPUS_4_7.write_1h) / MTOK + (
        4000 * OPUS_4_7.read + 500 * OPUS_4_7.output
    ) / MTOK
    assert book.cost(event("claude-opus-4-7", **TOK)) == micros(expected)


def test_overridden_prices_are_halved_for_batches() -> None:
    book = PriceBook({"claude-opus-4-7": ModelPriceOverride(output_per_mtok=D("20"))})
    e = event("claude-opus-4-7", batch=True, day=BEFORE_BATCH_VARIANTS, input_tokens=1000, output_tokens=500)
    assert book.cost(e) == micros((1000 * OPUS_4_7.input + 500 * D("20")) / MTOK * BATCH)


NEW_MODEL = ModelPriceOverride(input_per_mtok=NOVA_IN, output_per_mtok=NOVA_OUT)
# with no cache prices given, the documented standard multipliers of input: 1.25x, 2x, 0.1x
NOVA_ALL_KINDS = (
    1000 * NOVA_IN
    + 2000 * NOVA_IN * D("1.25")
    + 3000 * NOVA_IN * 2
    + 4000 * NOVA_IN * D("0.1")
    + 500 * NOVA_OUT
) / MTOK


@pytest.mark.parametrize("model", ["claude-nova-7", "claude-nova-7-20270101", "Claude-Nova-7"])
def test_brand_new_model_added_by_override(model: str) -> None:
    book = PriceBook({"claude-nova-7": NEW_MODEL})
    assert book.cost(event(model, **TOK)) == micros(NOVA_ALL_KINDS)
    assert book.is_priced(model)
    info = book.model_info(model)
    assert info is not None and info.id == "claude-nova-7" and info.tier == "other"


def test_brand_new_model_batch_and_us_only() -> None:
    book = PriceBook({"claude-nova-7": NEW_MODEL})
    assert book.cost(event("claude-nova-7", batch=True, **TOK)) == micros(NOVA_ALL_KINDS * BATCH)
    # generation 7 is later than Opus 4.6, so US-only inference applies
    assert book.cost(event("claude-nova-7", geo="us", **TOK)) == micros(NOVA_ALL_KINDS * US_ONLY)


def test_brand_new_model_with_explicit_cache_prices_and_discount() -> None:
    override = ModelPriceOverride(
        input_per_mtok=D("2"),
        output_per_mtok=D("8"),
        cache_write_5m_per_mtok=D("3"),
        cache_write_1h_per_mtok=D("5"),
        cache_read_per_mtok=D("0.05"),
        multiplier=D("0.9"),
    )
    book = PriceBook({"claude-nova-7": override})
    expected = (
        (1000 * D("2") + 2000 * D("3") + 3000 * D("5") + 4000 * D("0.05") + 500 * D("8")) / MTOK * D("0.9")
    )
    assert book.cost(event("claude-nova-7", **TOK)) == micros(expected)


def test_new_model_without_prices_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"claude-nova-7.*input_per_mtok and output_per_mtok"):
        PriceBook({"claude-nova-7": ModelPriceOverride(multiplier=D("0.5"))})


def test_unknown_model_stays_unpriced_with_unrelated_overrides() -> None:
    book = PriceBook({"claude-nova-7": NEW_MODEL})
    assert book.cost(event("claude-nova-8", **TOK)) is None
    assert not book.is_priced("claude-nova-8")


def test_residency_multiplier_is_a_parameter() -> None:
    book = PriceBook(residency_multiplier=D("1.25"))
    assert book.cost(event("claude-opus-4-7", geo="us", **TOK)) == micros(all_kinds(OPUS_4_7, *T) * D("1.25"))
    with pytest.raises(ValueError):
        PriceBook(residency_multiplier=D(0))


def test_override_from_config_entry_fields() -> None:
    """Field names match config's ``pricing.models`` entries, so a dump converts one-to-one."""
    entry = {"input_per_mtok": Decimal("2.4"), "multiplier": Decimal("0.8")}
    book = PriceBook({"claude-sonnet-4-6": ModelPriceOverride(**entry)})
    e = event("claude-sonnet-4-6", input_tokens=1000, output_tokens=100)
    assert book.cost(e) == micros((1000 * D("2.4") + 100 * SONNET_4_6.output) / MTOK * D("0.8"))


def test_book_from_a_config_pricing_section() -> None:
    config = config_from_text(
        '[pricing]\nresidency_multiplier = 1\n[pricing.models."claude-sonnet-4-6"]\nmultiplier = 0.8\n'
    )
    book = PriceBook.from_overrides(**dataclasses.asdict(config.pricing))
    assert book.cost(event("claude-sonnet-4-6", **TOK)) == micros(all_kinds(SONNET_4_6, *T) * CONTRACT)
    us = event("claude-opus-4-7", geo="us", **TOK)
    assert book.cost(us) == micros(all_kinds(OPUS_4_7, *T))  # residency 1: no surcharge
    assert PriceBook.from_overrides(**dataclasses.asdict(config_from_text("").pricing)) is default_pricebook()
    assert default_pricebook().cost(us) == micros(all_kinds(OPUS_4_7, *T) * US_ONLY)


def test_price_event_sets_cost_micros() -> None:
    priced = price_event(event("claude-sonnet-4-6", **TOK))
    assert priced.cost_micros == micros(all_kinds(SONNET_4_6, *T))
    assert price_event(event("gpt-4o", **TOK)).cost_micros is None


@pytest.mark.parametrize(
    ("given", "read"),
    [(3, D(3)), ("2.40", D("2.40")), (0.8, D("0.8")), (D("1.5"), D("1.5"))],
)
def test_override_prices_given_as_numbers_or_text_are_read_exactly(given: object, read: Decimal) -> None:
    override = ModelPriceOverride(input_per_mtok=given, multiplier=given)  # type: ignore[arg-type]
    assert (override.input_per_mtok, override.multiplier) == (read, read)


@pytest.mark.parametrize(
    "fields",
    [{"input_per_mtok": -1}, {"multiplier": 0}, {"cache_read_per_mtok": D("NaN")}, {"multiplier": True}],
)
def test_impossible_override_prices_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        ModelPriceOverride(**fields)  # type: ignore[arg-type]
