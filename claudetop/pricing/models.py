"""What claudetop knows about a Claude model besides its price: canonical id, tier, cache minimum.

Model ids resolve through the price source (:mod:`claudetop.pricing._genai`), so a dated id such as
``claude-sonnet-4-20250514`` or an alias such as ``claude-3-5-haiku-latest`` maps to the same
``ModelInfo`` as its canonical id, and whatever can be priced can be described.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from claudetop.pricing import _genai

Tier = Literal["haiku", "sonnet", "opus", "other"]

# Minimum cacheable prompt length (tokens) per canonical id: shorter prefixes are silently not
# cached. Sources, read 2026-11-25:
#  - Anthropic prompt-caching docs, "Cache limitations"
#    (https://platform.claude.com/docs/en/build-with-claude/prompt-caching#cache-limitations), as quoted
#    in anthropics/anthropic-sdk-python#1194: 4096 Opus 4.6/4.5 and Haiku 4.5; 1024 Sonnet 4.5,
#    Opus 4.1, Opus 4, Sonnet 4, Sonnet 3.7; 2048 Haiku 3.5 and Haiku 3.
#  - Sonnet 4.6: 2048. The docs first listed 1024, but caching only takes effect from 2048
#    (anthropics/anthropic-sdk-python#1194) and gateway docs mirroring Anthropic's table list 2048
#    (https://docs.orq.ai/docs/proxy/prompt-caching).
#  - Opus 4.7: 4096 (https://claudecodeguides.com/claude-cache-minimum-token-requirements-2026/,
#    LiteLLM's Bedrock table https://docs.litellm.ai/docs/completion/prompt_caching).
#  - Opus 4.8, Sonnet 5: 1024; Opus 5, Fable 5.x, Mythos 5.x: 512
#    (https://docs.litellm.ai/docs/completion/prompt_caching, updated 2026-10-07).
# Models with no published figure (the 5.5 family, Claude 2) use the long-standing default of 1024.
_DEFAULT_MIN_CACHEABLE = 1024
_MIN_CACHEABLE: dict[str, int] = {
    "claude-opus-4-5": 4096,
    "claude-opus-4-6": 4096,
    "claude-opus-4-7": 4096,
    "claude-haiku-4-5": 4096,
    "claude-sonnet-4-6": 2048,
    "claude-3-5-haiku-latest": 2048,
    "claude-3-haiku": 2048,
    "claude-opus-5": 512,
    "claude-fable-5": 512,
    "claude-fable-5-1": 512,
    "claude-fable-5-2": 512,
    "claude-mythos-5-2": 512,
}

# US-only inference (``inference_geo: "us"``) is billed at 1.1x on every token kind "for Claude
# Opus 4.6, Claude Sonnet 4.6, and later models"; earlier models do not accept the parameter
# (https://platform.claude.com/docs/en/build-with-claude/data-residency and
# https://support.claude.com/en/articles/15422948-enable-us-only-inference-for-your-organization,
# read 2026-11-25). "Later" is decided by the model generation in the id.
_RESIDENCY_FROM = (4, 6)

_VERSION = re.compile(r"-(\d+)(?:[-.](\d)(?!\d))?(?=-|$|@)")


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    id: str
    """Canonical id, e.g. ``claude-sonnet-4-6`` (dated ids and aliases resolve to it)."""
    tier: Tier
    min_cacheable_tokens: int
    name: str | None = None
    context_window: int | None = None


def tier_of(model_id: str) -> Tier:
    lowered = model_id.lower()
    for family in ("haiku", "sonnet", "opus"):
        if family in lowered:
            return family
    return "other"


def generation(model_id: str) -> tuple[int, int] | None:
    """``(major, minor)`` from an id: ``claude-opus-4-6`` → (4, 6), ``claude-3-5-haiku-latest`` → (3, 5)."""
    match = _VERSION.search(model_id.lower())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def supports_us_residency(model_id: str) -> bool:
    version = generation(model_id)
    return version is not None and version >= _RESIDENCY_FROM


def describe(model_id: str, *, name: str | None = None, context_window: int | None = None) -> ModelInfo:
    """A ``ModelInfo`` for a canonical id (or a model added through a price override)."""
    return ModelInfo(
        id=model_id,
        tier=tier_of(model_id),
        min_cacheable_tokens=_MIN_CACHEABLE.get(model_id, _DEFAULT_MIN_CACHEABLE),
        name=name,
        context_window=context_window,
    )


@cache
def model_info(model_id: str) -> ModelInfo | None:
    """The model behind an id, dated id or alias; ``None`` when the price source does not know it."""
    published = _genai.resolve(model_id)
    if published is None:
        return None
    return describe(published.id, name=published.name, context_window=published.context_window)


@cache
def _known() -> tuple[ModelInfo, ...]:
    return tuple(describe(m.id, name=m.name, context_window=m.context_window) for m in _genai.catalog())


def known_models() -> list[ModelInfo]:
    """Every Claude model claudetop can price, by canonical id."""
    return list(_known())
