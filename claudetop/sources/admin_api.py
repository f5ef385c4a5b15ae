"""Anthropic's own numbers: the Admin API usage and cost reports, imported and reconciled.

``claudetop import admin`` pages through ``/v1/organizations/usage_report/messages`` (daily buckets,
grouped by model and service tier) and ``/v1/organizations/cost_report`` (daily, grouped by
description, amounts in cents as decimal strings) and stores them in their own SQLite file
(``admin.sqlite`` beside the checkpoints), never in the sink: they are the bill, not requests, and
adding them to hook events would count every call twice.

``reconcile`` compares, per UTC day and model, what claudetop priced from its own events with what
Anthropic charged, and flags differences above a threshold. It is a pure function over two mappings.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from claudetop.config import state_dir
from claudetop.model import Micros, UsageEvent, micros_from_usd
from claudetop.pricing import model_info
from claudetop.sources.types import SourceDelta, SourceHealth

DEFAULT_BASE_URL = "https://api.anthropic.com"
ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_THRESHOLD_PCT = Decimal("1")


class AdminApiError(RuntimeError):
    """The Admin API refused or failed a request; the message says which and why."""


def default_store_path() -> Path:
    return state_dir() / "admin.sqlite"


@dataclass(frozen=True)
class UsageRow:
    day: date
    model: str
    service_tier: str
    input_tokens: int
    output_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int


@dataclass(frozen=True)
class CostRow:
    day: date
    model: str | None
    description: str
    amount_cents: Decimal


# --- HTTP ------------------------------------------------------------------------------------


class AdminClient:
    """Minimal Admin API client (stdlib ``urllib``): GET with the admin key, JSON back, paging."""

    def __init__(self, api_key: str, base_url: str = DEFAULT_BASE_URL, timeout_s: float = 60.0) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.requests = 0

    def get(self, path: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}"
        request = urllib.request.Request(
            url, headers={"x-api-key": self.api_key, "anthropic-version": ANTHROPIC_VERSION}
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body: Any = json.loads(response.read())
        except urllib.error.HTTPError as err:
            detail = err.read().decode(errors="replace")[:500]
            raise AdminApiError(f"GET {path}: HTTP {err.code}: {detail}") from None
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise AdminApiError(f"GET {path}: {err}") from None
        if not isinstance(body, dict):
            raise AdminApiError(f"GET {path}: expected a JSON object")
        return body

    def pages(self, path: str, params: list[tuple[str, str]]) -> Iterator[dict[str, Any]]:
        """Every bucket of every page, following ``next_page`` while ``has_more``."""
        page: str | None = None
        while True:
            body = self.get(path, params + ([("page", page)] if page else []))
            yield from body.get("data", [])
            page = body.get("next_page")
            if not body.get("has_more") or not page:
                return


def _iso(day: date) -> str:
    return datetime.combine(day, time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bucket_day(bucket: Mapping[str, Any]) -> date:
    return datetime.fromisoformat(str(bucket["starting_at"]).replace("Z", "+00:00")).astimezone(UTC).date()


def fetch_usage(client: AdminClient, since: date, until: date) -> list[UsageRow]:
    """Daily token usage per model and service tier for ``since`` <= day < ``until``."""
    params = [
        ("starting_at", _iso(since)),
        ("ending_at", _iso(until)),
        ("bucket_width", "1d"),
        ("group_by[]", "model"),
        ("group_by[]", "service_tier"),
    ]
    rows = []
    for bucket in client.pages("/v1/organizations/usage_report/messages", params):
        day = _bucket_day(bucket)
        for r in bucket.get("results", []):
            writes = r.get("cache_creation") or {}
            rows.append(
                UsageRow(
                    day=day,
                    model=str(r.get("model") or "(unknown)"),
                    service_tier=str(r.get("service_tier") or "standard"),
                    input_tokens=int(r.get("uncached_input_tokens") or 0),
                    output_tokens=int(r.get("output_tokens") or 0),
                    cache_write_5m_tokens=int(writes.get("ephemeral_5m_input_tokens") or 0),
                    cache_write_1h_tokens=int(writes.get("ephemeral_1h_input_tokens") or 0),
                    cache_read_tokens=int(r.get("cache_read_input_tokens") or 0),
                )
            )
    return rows


def _model_of_description(description: str) -> str | None:
    head, sep, _ = description.partition(" Usage - ")
    return head if sep else None


def fetch_costs(client: AdminClient, since: date, until: date) -> list[CostRow]:
    """Daily cost lines (grouped by description, which names the model) for ``since`` <= day < ``until``."""
    params = [("starting_at", _iso(since)), ("ending_at", _iso(until)), ("group_by[]", "description")]
    rows = []
    for bucket in client.pages("/v1/organizations/cost_report", params):
        day = _bucket_day(bucket)
        for r in bucket.get("results", []):
            description = str(r.get("description") or "(none)")
            model = r.get("model") or _model_of_description(description)
            model_id = None if model is None else str(model)
            rows.append(CostRow(day, model_id, description, Decimal(r["amount"])))
    return rows


# --- storage ---------------------------------------------------------------------------------

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS admin_usage (
    day TEXT NOT NULL, model TEXT NOT NULL, service_tier TEXT NOT NULL,
    input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
    cache_write_5m_tokens INTEGER NOT NULL, cache_write_1h_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL,
    PRIMARY KEY (day, model, service_tier))""",
    """CREATE TABLE IF NOT EXISTS admin_cost (
    day TEXT NOT NULL, description TEXT NOT NULL, model TEXT, amount_cents TEXT NOT NULL,
    PRIMARY KEY (day, description))""",
    "CREATE TABLE IF NOT EXISTS admin_imports (at TEXT NOT NULL, since TEXT NOT NULL, until TEXT NOT NULL)",
)


class AdminStore:
    """The imported reports, in their own SQLite file; a re-import replaces the days it covers."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else default_store_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None)
        for statement in _SCHEMA:
            self._conn.execute(statement)

    def replace(self, since: date, until: date, usage: list[UsageRow], costs: list[CostRow]) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for table in ("admin_usage", "admin_cost"):
                days = (since.isoformat(), until.isoformat())
                conn.execute(f"DELETE FROM {table} WHERE day >= ? AND day < ?", days)
            conn.executemany(
                "INSERT OR REPLACE INTO admin_usage VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (u.day.isoformat(), u.model, u.service_tier, u.input_tokens, u.output_tokens,
                     u.cache_write_5m_tokens, u.cache_write_1h_tokens, u.cache_read_tokens)
                    for u in usage
                ],
            )  # fmt: skip
            merged: dict[tuple[date, str], CostRow] = {}
            for c in costs:
                old = merged.get((c.day, c.description))
                amount = c.amount_cents + (old.amount_cents if old else 0)
                merged[(c.day, c.description)] = CostRow(c.day, c.model, c.description, amount)
            conn.executemany(
                "INSERT INTO admin_cost VALUES (?, ?, ?, ?)",
                [(c.day.isoformat(), c.description, c.model, str(c.amount_cents)) for c in merged.values()],
            )
            conn.execute(
                "INSERT INTO admin_imports VALUES (?, ?, ?)",
                (datetime.now(UTC).isoformat(), since.isoformat(), until.isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def usage(self) -> list[UsageRow]:
        return [
            UsageRow(date.fromisoformat(r[0]), *r[1:])
            for r in self._conn.execute("SELECT * FROM admin_usage ORDER BY day, model, service_tier")
        ]

    def costs(self) -> list[CostRow]:
        return [
            CostRow(date.fromisoformat(r[0]), r[2], r[1], Decimal(r[3]))
            for r in self._conn.execute(
                "SELECT day, description, model, amount_cents FROM admin_cost ORDER BY day, description"
            )
        ]

    def close(self) -> None:
        self._conn.close()


def import_admin(client: AdminClient, store: AdminStore, since: date, until: date) -> tuple[int, int]:
    """Fetch both reports for ``since`` <= day < ``until`` and store them; returns (usage rows, cost rows)."""
    usage = fetch_usage(client, since, until)
    costs = fetch_costs(client, since, until)
    store.replace(since, until, usage, costs)
    return len(usage), len(costs)


class AdminApiSource:
    """The imported reports as a source: it never yields events (they are not requests), only health."""

    kind = "admin_api"

    def __init__(self, path: Path | None = None) -> None:
        self.store = AdminStore(path)
        self.name = f"admin-api:{self.store.path}"

    def poll(self) -> SourceDelta:
        return SourceDelta()

    def health(self) -> SourceHealth:
        days = len({u.day for u in self.store.usage()})
        return SourceHealth(name=self.name, ok=True, message=f"{days} days imported", events_read=0)


# --- reconciliation ---------------------------------------------------------------------------


def canonical_model(model_id: str) -> str:
    """The price book's id for a model (dated ids and aliases folded), or the id itself if unknown."""
    info = model_info(model_id)
    return info.id if info is not None else model_id


@dataclass(frozen=True)
class ReconRow:
    day: date
    model: str
    ours_micros: Micros | None
    """``None`` when claudetop saw no priced events for this day and model."""
    theirs_micros: Micros | None
    """``None`` when Anthropic's cost report has no line for this day and model."""
    diff_pct: Decimal | None
    """(ours - theirs) / theirs * 100; ``None`` when Anthropic reports nothing to compare with."""
    flagged: bool


def our_costs(events: Iterable[UsageEvent]) -> dict[tuple[date, str], Micros]:
    """claudetop's cost per (UTC day, canonical model) from priced billable events."""
    out: dict[tuple[date, str], Micros] = {}
    for e in events:
        if e.cost_micros is None or not e.billable or e.model is None:
            continue
        key = (e.ts.astimezone(UTC).date(), canonical_model(e.model))
        out[key] = out.get(key, 0) + e.cost_micros
    return out


def their_costs(rows: Iterable[CostRow]) -> dict[tuple[date, str], Micros]:
    """Anthropic's cost per (UTC day, canonical model); cents → micro-dollars, exact."""
    cents: dict[tuple[date, str], Decimal] = {}
    for r in rows:
        key = (r.day, canonical_model(r.model or "(no model)"))
        cents[key] = cents.get(key, Decimal(0)) + r.amount_cents
    return {k: micros_from_usd(v / 100) for k, v in cents.items()}


def reconcile(
    ours: Mapping[tuple[date, str], Micros],
    theirs: Mapping[tuple[date, str], Micros],
    threshold_pct: Decimal = DEFAULT_THRESHOLD_PCT,
) -> list[ReconRow]:
    """One row per (day, model) either side knows, oldest day first; flagged when |diff| > threshold.

    A day and model only one side has is flagged too (unless the other side's amount is zero):
    a missing source of spend is the largest mismatch there is.
    """
    rows = []
    for key in sorted(set(ours) | set(theirs)):
        mine, their = ours.get(key), theirs.get(key)
        if their:
            diff: Decimal | None = (Decimal(mine or 0) - their) * 100 / their
            flagged = abs(diff) > threshold_pct if diff is not None else False
        else:
            diff = None
            flagged = bool(mine)
        rows.append(ReconRow(key[0], key[1], mine, their, diff, flagged))
    return rows


def _usd(micros: Micros | None) -> str:
    return "-" if micros is None else f"${Decimal(micros) / 1_000_000:,.4f}"


def render_reconciliation(rows: list[ReconRow], threshold_pct: Decimal) -> str:
    """A plain-text table for the terminal; flagged rows end with ``<-- mismatch``."""
    header = f"{'day':<10}  {'model':<28}  {'claudetop':>14}  {'anthropic':>14}  {'diff %':>8}"
    lines = [header, "-" * len(header)]
    for r in rows:
        diff = "-" if r.diff_pct is None else f"{r.diff_pct:+.2f}"
        flag = "  <-- mismatch" if r.flagged else ""
        amounts = f"{_usd(r.ours_micros):>14}  {_usd(r.theirs_micros):>14}"
        lines.append(f"{r.day.isoformat():<10}  {r.model:<28}  {amounts}  {diff:>8}{flag}")
    flagged = sum(r.flagged for r in rows)
    lines.append(f"{flagged} of {len(rows)} day/model rows differ by more than {threshold_pct}%")
    return "\n".join(lines)


def day_range(since: date, until: date | None) -> tuple[date, date]:
    """``--since``/``--until`` (both inclusive days) as the half-open range the API takes."""
    end = (until if until is not None else datetime.now(UTC).date()) + timedelta(days=1)
    if end <= since:
        raise ValueError(f"--until {end - timedelta(days=1)} is before --since {since}")
    return since, end
