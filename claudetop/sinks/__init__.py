"""Where the hook writes usage: SQLite (default) or JSONL, behind one small ``Sink`` interface."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from claudetop.model import BatchState, UsageEvent
from claudetop.sinks.jsonl import JsonlSink
from claudetop.sinks.sqlite import DEFAULT_BUSY_TIMEOUT_S, SQLiteSink, connect_sqlite


class Sink(Protocol):
    def write_events(self, events: Sequence[UsageEvent]) -> None: ...

    def write_batches(self, states: Sequence[BatchState]) -> None: ...

    def close(self) -> None: ...


class UnsupportedSinkError(ValueError):
    """The sink target names a kind of store this build of claudetop cannot write."""


def open_sink(target: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Sink:
    """A sink for ``target``: a path ending in ``.jsonl`` → JSONL, anything else → a SQLite file.

    ``busy_timeout_s`` bounds how long a SQLite write waits for the lock (the hook passes a short
    one). ``postgresql://`` URLs are recognised and refused with a clear error until the fleet
    sink lands.
    """
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        raise UnsupportedSinkError(f"{text}: PostgreSQL sinks are not supported by this build of claudetop")
    path = Path(text).expanduser()
    if path.suffix == ".jsonl":
        return JsonlSink(path)
    return SQLiteSink(path, busy_timeout_s=busy_timeout_s)


__all__ = [
    "JsonlSink",
    "SQLiteSink",
    "Sink",
    "UnsupportedSinkError",
    "connect_sqlite",
    "open_sink",
]
