"""A source's history, pre-aggregated, so a monitor or report starts fast over a long past.

Building an event per stored row or transcript line costs tens of microseconds; a long history would
take seconds. Most figures only need sums, so a source hands its past over as bucket sums plus the few
rows that sums cannot stand for (``Aggregator.add_history`` folds both):

- the *detail* rows of the last stretch of time: per-event facts (prefix fingerprints, system-prompt
  changes per task, what-if replays), as plain tuples in ``ROW_COLUMNS`` order;
- the newest ``live`` events, for the live table.

The SQLite sink computes one in SQL (``sources.sink_history``); Claude Code transcripts keep theirs in
their checkpoint (``sources.claude_code``), so a rerun that finds nothing new reads no message at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claudetop.model import UsageEvent

ROW_COLUMNS: tuple[str, ...] = (
    "id", "ts", "model", "task", "app", "host", "api_key_fp", "endpoint", "service_tier", "deferred",
    "status", "error_type", "retries", "input_tokens", "output_tokens", "cache_write_5m_tokens",
    "cache_write_1h_tokens", "cache_read_tokens", "cost_micros", "stop_reason", "max_tokens", "batch_id",
    "requested_model", "prefixes",
)  # fmt: skip
"""The fields of a detail row, in order: the sink's ``events`` columns (``Aggregator.add_rows``)."""

BUCKET_SUMS: tuple[str, ...] = (
    "events", "errors", "retried", "input", "output", "write_5m", "write_1h", "read", "cost_micros",
    "unpriced", "max_tokens_stops", "deferred",
)  # fmt: skip
"""The sums of a bucket row after its key, integers."""


@dataclass(slots=True)
class History:
    """Everything a source has read so far, aggregated; rows are plain tuples documented per field."""

    last_seq: int = 0
    """The newest sink ``seq`` covered (a ``SinkSource`` continues after it; 0 for other sources)."""
    events: int = 0
    oldest: float | None = None
    newest: float | None = None
    """Epoch seconds of the oldest and newest event covered."""
    minute_since: float | None = None
    """Buckets starting at or after this are minutes, before it hours."""
    buckets: list[tuple[Any, ...]] = field(default_factory=list)
    """(bucket start epoch, is minute, model, task, app, host, key, endpoint, service tier, *sums):
    ``BUCKET_SUMS``, integers."""
    polls: list[tuple[str, int, int, float, float]] = field(default_factory=list)
    """Batch retrieve calls: (batch id, calls, of which HTTP 429, first epoch, last epoch)."""
    tallies: list[tuple[str, str, int, int, int]] = field(default_factory=list)
    """Policy decisions: (policy, mode, month index ``year*12 + month - 1``, decisions, saving micros)."""
    detail: list[tuple[Any, ...]] = field(default_factory=list)
    """``ROW_COLUMNS`` rows of the last stretch (the ``detail_span_s`` the reader asked for), oldest first."""
    live: list[UsageEvent] = field(default_factory=list)
    """The newest events, oldest first."""
    deferred_queue_depth: int | None = None
