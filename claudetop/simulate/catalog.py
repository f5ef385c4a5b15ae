"""The models the fake server serves and their minimum cacheable prompt length.

Until ``claudetop.pricing`` is available this is a local table (minimums as published in
Anthropic's prompt-caching docs); :func:`model_entry` prefers the pricing module's
``model_info`` when it exists so the server and the price book never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class CatalogModel:
    id: str
    display_name: str
    min_cacheable_tokens: int
    created_at: datetime


_LOCAL: tuple[CatalogModel, ...] = (
    CatalogModel("claude-opus-4-7", "Claude Opus 4.7", 4096, datetime(2026, 4, 16, tzinfo=UTC)),
    CatalogModel("claude-opus-4-6", "Claude Opus 4.6", 4096, datetime(2026, 2, 5, tzinfo=UTC)),
    CatalogModel("claude-sonnet-4-6", "Claude Sonnet 4.6", 2048, datetime(2026, 2, 17, tzinfo=UTC)),
    CatalogModel("claude-sonnet-4-5", "Claude Sonnet 4.5", 1024, datetime(2025, 9, 29, tzinfo=UTC)),
    CatalogModel("claude-haiku-4-5", "Claude Haiku 4.5", 4096, datetime(2025, 10, 15, tzinfo=UTC)),
    CatalogModel("claude-opus-4-1", "Claude Opus 4.1", 1024, datetime(2025, 8, 5, tzinfo=UTC)),
    CatalogModel("claude-sonnet-4-0", "Claude Sonnet 4", 1024, datetime(2025, 5, 22, tzinfo=UTC)),
    CatalogModel("claude-3-5-haiku", "Claude Haiku 3.5", 2048, datetime(2024, 10, 22, tzinfo=UTC)),
)
_BY_ID = {m.id: m for m in _LOCAL}
_ALIASES = {
    "claude-opus-4-1-20250805": "claude-opus-4-1",
    "claude-sonnet-4-20250514": "claude-sonnet-4-0",
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
    "claude-haiku-4-5-20251001": "claude-haiku-4-5",
    "claude-3-5-haiku-20241022": "claude-3-5-haiku",
    "claude-3-5-haiku-latest": "claude-3-5-haiku",
}


def model_entry(model_id: str) -> CatalogModel | None:
    """The served model for an id or alias; ``None`` means the API answers 404."""
    return _BY_ID.get(_ALIASES.get(model_id, model_id))


def served_models() -> tuple[CatalogModel, ...]:
    return _LOCAL
