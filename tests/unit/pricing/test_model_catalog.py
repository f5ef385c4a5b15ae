"""Model ids, tiers and cache minimums (sources cited in claudetop/pricing/models.py)."""

from __future__ import annotations

import pytest

from claudetop.pricing import PriceBook, default_pricebook, known_models, model_info
from tests.unit.pricing.published import event

ALIASES = [
    ("claude-sonnet-4-20250514", "claude-sonnet-4-0", "sonnet"),
    ("claude-3-5-haiku-20241022", "claude-3-5-haiku-latest", "haiku"),
    ("claude-opus-4-1-20250805", "claude-opus-4-1", "opus"),
    ("claude-haiku-4-5-20251001", "claude-haiku-4-5", "haiku"),
    ("claude-opus-4-7", "claude-opus-4-7", "opus"),
    ("claude-sonnet-4-6", "claude-sonnet-4-6", "sonnet"),
    ("CLAUDE-SONNET-4-6", "claude-sonnet-4-6", "sonnet"),
    ("claude-fable-5-1", "claude-fable-5-1", "other"),
]


@pytest.mark.parametrize(("ref", "canonical", "tier"), ALIASES)
def test_model_info_resolves_aliases(ref: str, canonical: str, tier: str) -> None:
    info = model_info(ref)
    assert info is not None
    assert (info.id, info.tier) == (canonical, tier)


# Anthropic prompt-caching docs "Cache limitations" and the sources listed in models.py
MIN_CACHEABLE = [
    ("claude-opus-4-7", 4096),
    ("claude-opus-4-6", 4096),
    ("claude-opus-4-5-20251101", 4096),
    ("claude-haiku-4-5", 4096),
    ("claude-sonnet-4-6", 2048),
    ("claude-sonnet-4-5", 1024),
    ("claude-sonnet-4-20250514", 1024),
    ("claude-opus-4-1-20250805", 1024),
    ("claude-3-7-sonnet-20250219", 1024),
    ("claude-3-5-haiku-20241022", 2048),
    ("claude-3-haiku-20240307", 2048),
    ("claude-opus-5", 512),
]


@pytest.mark.parametrize(("ref", "minimum"), MIN_CACHEABLE)
def test_min_cacheable_tokens(ref: str, minimum: int) -> None:
    info = model_info(ref)
    assert info is not None and info.min_cacheable_tokens == minimum


@pytest.mark.parametrize("ref", ["gpt-4o", "claude-nonexistent-9", "", "gemini-2.5-pro"])
def test_unknown_models(ref: str) -> None:
    assert model_info(ref) is None
    assert not PriceBook().is_priced(ref)


def test_known_models_cover_current_and_older_families() -> None:
    ids = {m.id for m in known_models()}
    assert {
        "claude-opus-4-7",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
        "claude-opus-4-6",
        "claude-sonnet-4-5",
        "claude-opus-4-1",
        "claude-sonnet-4-0",
        "claude-3-5-haiku-latest",
        "claude-3-haiku",
    } <= ids
    assert len(ids) == len(known_models())


@pytest.mark.parametrize("info", known_models(), ids=lambda m: m.id)
def test_every_known_model_resolves_to_itself_and_is_priced(info: object) -> None:
    from claudetop.pricing import ModelInfo

    assert isinstance(info, ModelInfo)
    assert model_info(info.id) == info
    cost = PriceBook().cost(event(info.id, input_tokens=1_000_000, output_tokens=1_000_000))
    assert cost is not None and cost > 0


def test_default_pricebook_is_shared() -> None:
    assert default_pricebook() is default_pricebook()
