"""Admin API reports (``usage_report/messages``, ``cost_report``) built from what the fake served.

Shapes follow the API: ``{"data": [{"starting_at", "ending_at", "results": [...]}],
"has_more", "next_page"}``; buckets snap to the UTC minute/hour/day; ``limit`` buckets per
page (defaults 60/24/7 for ``1m``/``1h``/``1d``); ``next_page`` is an opaque token for the
next bucket start. Cost amounts are decimal strings in **cents**, priced with claudetop's
own price book (per model and token type, batch rates for ``service_tier="batch"``), then
multiplied by a configurable skew so reconciliation can be tested against a deliberate
mismatch.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from claudetop.model import UsageEvent, usd
from claudetop.pricing import default_pricebook
from claudetop.simulate.errors import invalid
from claudetop.simulate.ledger import ServedUsage

Query = dict[str, list[str]]
_WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
_LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}
_USAGE_GROUPS = ("api_key_id", "workspace_id", "model", "service_tier", "context_window")
_COST_GROUPS = ("workspace_id", "description")
TOKEN_TYPES = (
    "uncached_input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation.ephemeral_5m_input_tokens",
    "cache_creation.ephemeral_1h_input_tokens",
)
PriceFn = Callable[[ServedUsage, str], Decimal | None]
"""Dollars for one token type of one served row (``None`` when the model is unpriced)."""


def _one(q: Query, name: str) -> str | None:
    values = q.get(name)
    return values[-1] if values else None


def _parse_ts(value: str, name: str) -> datetime:
    try:
        ts = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(f"{name}: invalid RFC 3339 timestamp {value!r}") from None
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def _snap(ts: datetime, width: str) -> datetime:
    if width == "1m":
        return ts.replace(second=0, microsecond=0)
    if width == "1h":
        return ts.replace(minute=0, second=0, microsecond=0)
    return ts.replace(hour=0, minute=0, second=0, microsecond=0)


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


def _buckets(q: Query, allowed_widths: Iterable[str]) -> tuple[list[tuple[datetime, datetime]], str | None]:
    """The page's bucket bounds and the next page token."""
    width = _one(q, "bucket_width") or "1d"
    if width not in allowed_widths:
        raise invalid(f"bucket_width: must be one of {', '.join(allowed_widths)}")
    start_raw = _one(q, "starting_at")
    if not start_raw:
        raise invalid("starting_at: Field required")
    start = _snap(_parse_ts(start_raw, "starting_at"), width)
    page = _one(q, "page")
    if page:
        try:
            start = _parse_ts(base64.urlsafe_b64decode(page.encode()).decode(), "page")
        except (ValueError, UnicodeDecodeError):
            raise invalid("page: invalid page token") from None
    default_limit, max_limit = _LIMITS[width]
    raw_limit = _one(q, "limit")
    limit = int(raw_limit) if raw_limit and raw_limit.isdigit() else default_limit
    if not 1 <= limit <= max_limit:
        raise invalid(f"limit: must be between 1 and {max_limit} for bucket_width={width}")
    end_raw = _one(q, "ending_at")
    end = _parse_ts(end_raw, "ending_at") if end_raw else None
    step = _WIDTHS[width]
    bounds: list[tuple[datetime, datetime]] = []
    cursor = start
    while len(bounds) < limit and (end is None or cursor < end):
        bounds.append((cursor, cursor + step))
        cursor += step
    more = end is not None and cursor < end
    token = base64.urlsafe_b64encode(_iso(cursor).encode()).decode() if more else None
    return bounds, token


def _group_by(q: Query, allowed: tuple[str, ...]) -> list[str]:
    groups = q.get("group_by[]", []) + q.get("group_by", [])
    for g in groups:
        if g not in allowed:
            raise invalid(f"group_by[]: {g!r} is not one of {', '.join(allowed)}")
    return groups


def _in_bucket(rows: list[ServedUsage], lo: datetime, hi: datetime) -> list[ServedUsage]:
    a, b = lo.timestamp(), hi.timestamp()
    return [r for r in rows if a <= r.ts < b]


def _token_count(r: ServedUsage, token_type: str) -> int:
    return {
        "uncached_input_tokens": r.input_tokens,
        "output_tokens": r.output_tokens,
        "cache_read_input_tokens": r.cache_read,
        "cache_creation.ephemeral_5m_input_tokens": r.cache_write_5m,
        "cache_creation.ephemeral_1h_input_tokens": r.cache_write_1h,
    }[token_type]


def usage_report(rows: list[ServedUsage], q: Query) -> dict[str, Any]:
    bounds, token = _buckets(q, ("1m", "1h", "1d"))
    groups = _group_by(q, _USAGE_GROUPS)
    models = set(q.get("models[]", []))
    tiers = set(q.get("service_tiers[]", []))
    rows = [r for r in rows if (not models or r.model in models) and (not tiers or r.service_tier in tiers)]
    data = []
    for lo, hi in bounds:
        sums: dict[tuple[str | None, ...], list[int]] = {}
        for r in _in_bucket(rows, lo, hi):
            attrs = {
                "api_key_id": r.api_key_id,
                "workspace_id": r.workspace_id,
                "model": r.model,
                "service_tier": r.service_tier,
                "context_window": "0-200k",
            }
            key = tuple(attrs[g] if g in groups else None for g in _USAGE_GROUPS)
            acc = sums.setdefault(key, [0, 0, 0, 0, 0])
            for i, t in enumerate(TOKEN_TYPES):
                acc[i] += _token_count(r, t)
        results = []
        for key, acc in sums.items():
            results.append(
                {
                    "uncached_input_tokens": acc[0],
                    "output_tokens": acc[1],
                    "cache_read_input_tokens": acc[2],
                    "cache_creation": {
                        "ephemeral_5m_input_tokens": acc[3],
                        "ephemeral_1h_input_tokens": acc[4],
                    },
                    "server_tool_use": {"web_search_requests": 0},
                    **dict(zip(_USAGE_GROUPS, key, strict=True)),
                }
            )
        data.append({"starting_at": _iso(lo), "ending_at": _iso(hi), "results": results})
    return {"data": data, "has_more": token is not None, "next_page": token}


def _description(model: str, token_type: str, tier: str) -> str:
    kind = {
        "uncached_input_tokens": "Input Tokens",
        "output_tokens": "Output Tokens",
        "cache_read_input_tokens": "Prompt Caching Read",
        "cache_creation.ephemeral_5m_input_tokens": "Prompt Caching Write (5m)",
        "cache_creation.ephemeral_1h_input_tokens": "Prompt Caching Write (1h)",
    }[token_type]
    batch = " (Batch)" if tier == "batch" else ""
    return f"{model} Usage - {kind}{batch}"


def cost_report(rows: list[ServedUsage], q: Query, skew: Decimal, price: PriceFn) -> dict[str, Any]:
    bounds, token = _buckets(q, ("1d",))
    groups = _group_by(q, _COST_GROUPS)
    by_description = "description" in groups
    data = []
    for lo, hi in bounds:
        sums: dict[tuple[str | None, ...], Decimal] = {}
        for r in _in_bucket(rows, lo, hi):
            for t in TOKEN_TYPES:
                if not _token_count(r, t):
                    continue
                dollars = price(r, t)
                if dollars is None:
                    continue
                key = (r.workspace_id if "workspace_id" in groups else None,) + (
                    (r.model, t, r.service_tier) if by_description else (None, None, None)
                )
                sums[key] = sums.get(key, Decimal(0)) + dollars
        results = []
        for (workspace, model, token_type, tier), dollars in sums.items():
            cents = (dollars * 100 * skew).normalize()
            results.append(
                {
                    "currency": "USD",
                    "amount": f"{cents:f}",
                    "workspace_id": workspace,
                    "description": (
                        _description(model, token_type, tier) if model and token_type and tier else None
                    ),
                    "cost_type": "tokens" if by_description else None,
                    "context_window": "0-200k" if by_description else None,
                    "model": model,
                    "service_tier": tier,
                    "token_type": token_type,
                    "inference_geo": None,
                }
            )
        data.append({"starting_at": _iso(lo), "ending_at": _iso(hi), "results": results})
    return {"data": data, "has_more": token is not None, "next_page": token}


def pricebook_price() -> PriceFn:
    """A :data:`PriceFn` over claudetop's default price book (the same prices the monitor uses)."""
    book = default_pricebook()
    fields = {
        "uncached_input_tokens": "input_tokens",
        "output_tokens": "output_tokens",
        "cache_read_input_tokens": "cache_read_tokens",
        "cache_creation.ephemeral_5m_input_tokens": "cache_write_5m_tokens",
        "cache_creation.ephemeral_1h_input_tokens": "cache_write_1h_tokens",
    }

    def price(r: ServedUsage, token_type: str) -> Decimal | None:
        event = UsageEvent(
            id="admin-price",
            ts=datetime.fromtimestamp(r.ts, UTC),
            model=r.model,
            service_tier=r.service_tier,
            speed=r.speed,
            **{fields[token_type]: _token_count(r, token_type)},
        )
        micros = book.cost(event)
        return None if micros is None else usd(micros)

    return price
