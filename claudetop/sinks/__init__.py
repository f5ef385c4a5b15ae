"""Where the hook writes usage: SQLite (default), JSONL or PostgreSQL, behind one small ``Sink`` interface."""

from __future__ import annotations

import sqlite3
import sys
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


def is_data_error(err: BaseException) -> bool:
    """Whether a write failed because of what was written (a value the store cannot hold) rather than
    because of the store (locked, unreachable, full): the same events would fail again every time."""
    if isinstance(err, OverflowError | UnicodeError | sqlite3.DataError | sqlite3.IntegrityError):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(err, psycopg.DataError | psycopg.IntegrityError)


def is_postgres_target(target: str | Path) -> bool:
    """A ``postgresql://`` (or ``postgres://``) URL rather than a file path."""
    return str(target).startswith(("postgresql://", "postgres://"))


def sink_exists(target: str | Path) -> bool:
    """Whether ``target`` is there to be read: a file path must exist (opening a mistyped one would
    create an empty sink), a PostgreSQL URL always counts (its server says whether it exists)."""
    return is_postgres_target(target) or Path(target).expanduser().exists()


def open_sink(target: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> Sink:
    """A sink for ``target``: ``postgresql://`` → PostgreSQL, a path ending in ``.jsonl`` → JSONL,
    anything else → a SQLite file.

    ``busy_timeout_s`` bounds how long a write waits for the lock (the hook passes a short one); for
    PostgreSQL it is the statement timeout. Without the ``psycopg`` package (the ``postgres``
    extra) a PostgreSQL target raises ``UnsupportedSinkError`` saying so.
    """
    text = str(target)
    if is_postgres_target(text):
        try:
            from claudetop.sinks.postgres import PostgresSink
        except ImportError as err:
            raise UnsupportedSinkError(
                f"{text}: PostgreSQL sinks need psycopg: pip install 'claudetop[postgres]' ({err})"
            ) from err
        return PostgresSink(text, statement_timeout_s=busy_timeout_s)
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
    "is_data_error",
    "is_postgres_target",
    "open_sink",
    "sink_exists",
]
