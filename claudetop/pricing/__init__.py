"""Exact prices for Claude API usage: published prices (via genai-prices) plus config overrides.

Money is integer micro-dollars (:data:`claudetop.model.Micros`); an unknown model is unpriced
(``None``), never $0.
"""

from claudetop.pricing._genai import remember_prices_in
from claudetop.pricing.book import (
    US_RESIDENCY_MULTIPLIER,
    WEB_SEARCH_USD_PER_1K,
    ModelPriceOverride,
    PriceBook,
    default_pricebook,
    price_event,
)
from claudetop.pricing.models import ModelInfo, Tier, known_models, model_info

__all__ = [
    "US_RESIDENCY_MULTIPLIER",
    "WEB_SEARCH_USD_PER_1K",
    "ModelInfo",
    "ModelPriceOverride",
    "PriceBook",
    "Tier",
    "default_pricebook",
    "known_models",
    "model_info",
    "price_event",
    "remember_prices_in",
]
