"""How a time is written into JSON output: ISO 8601, with ``Z`` for UTC (as the report has always
written it, and as pydantic does)."""

from __future__ import annotations

from datetime import datetime


def json_time(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")
