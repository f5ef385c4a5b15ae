"""The models the fake server serves: exactly those claudetop can price.

Taken from :mod:`claudetop.pricing` so the fake API and the price book never disagree: an
id the price book resolves (dated ids and aliases included) is served with that model's
minimum cacheable prompt length; anything else gets the API's 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from claudetop.pricing import known_models, model_info

_LISTED_AT = datetime(2025, 1, 1, tzinfo=UTC)
"""``created_at`` in ``/v1/models``; the price source carries no release dates."""


@dataclass(frozen=True)
class CatalogModel:
    id: str
    display_name: str
    min_cacheable_tokens: int
    created_at: datetime


def model_entry(model_id: str) -> CatalogModel | None:
    """The served model for an id or alias; ``None`` means the API answers 404."""
    info = model_info(model_id)
    if info is None:
        return None
    return CatalogModel(info.id, info.name or info.id, info.min_cacheable_tokens, _LISTED_AT)


def served_models() -> tuple[CatalogModel, ...]:
    return tuple(
        CatalogModel(m.id, m.name or m.id, m.min_cacheable_tokens, _LISTED_AT)
        for m in known_models()
        if m.id.startswith("claude-") and m.name
    )
