"""What every source hands its reader: the new data of one poll, and how the source is doing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from claudetop.model import PolicySet, SourceStatus

if TYPE_CHECKING:
    from claudetop.model import BatchState, UsageEvent
    from claudetop.sources.history import History

SourceHealth = SourceStatus
"""A source's health is exactly what the header's source list shows (``Snapshot.header.sources``)."""


@dataclass
class SourceDelta:
    """New data since the previous poll. ``policies`` is ``None`` unless the policy set changed."""

    events: list[UsageEvent] = field(default_factory=list)
    batches: list[BatchState] = field(default_factory=list)
    policies: PolicySet | None = None
    deferred_queue_depth: int | None = None
    """Requests the batch deferral queue holds unsubmitted (sinks that have the queue); ``None``: unknown."""

    def extend(self, other: SourceDelta) -> None:
        self.events.extend(other.events)
        self.batches.extend(other.batches)
        if other.policies is not None:
            self.policies = other.policies
        if other.deferred_queue_depth is not None:
            self.deferred_queue_depth = other.deferred_queue_depth

    def __bool__(self) -> bool:
        return bool(self.events or self.batches or self.policies is not None)


class Source(Protocol):
    """An incremental reader: each ``poll`` returns only what is new and returns promptly.

    Sources yield every event exactly once per instance; after a restart from a checkpoint they
    yield what they had already read again only when they were built to replay it (so a fresh
    monitor still sees the whole history), with the same event ids.
    """

    name: str

    def poll(self) -> SourceDelta: ...

    def health(self) -> SourceHealth: ...


@runtime_checkable
class HistorySource(Source, Protocol):
    """A source that can hand over what it holds so far pre-aggregated (``sources.history``) instead of
    as events, for a reader that starts over a long past: a SQLite sink (from SQL), Claude Code
    transcripts (from their checkpoint)."""

    def take_history(self, *, minute_span_s: float, detail_span_s: float) -> History | None:
        """Everything read so far, with minute buckets for ``minute_span_s`` before the newest event
        and detail rows for ``detail_span_s``; later polls yield only what comes after. ``None`` when
        the source has handed events out already, or has nothing to hand over this way."""
        ...
