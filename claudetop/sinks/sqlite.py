"""The default sink: one SQLite file in WAL mode, shared by every writer process and the monitor.

Writers take the write lock up front (``BEGIN IMMEDIATE``), so a transaction never fails half-way
on a lock upgrade; when the file stays locked past ``busy_timeout_s`` (the SQLite busy handler's
wait) the whole transaction is retried with backoff until ``busy_timeout_s`` has passed in total.
"""

from __future__ import annotations

import os
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from claudetop.model import BatchState, UsageEvent
from claudetop.sinks.schema import (
    INSERT_EVENT_SQL,
    ROLLUP_FROM_EVENTS_SQL,
    UPSERT_BATCH_SQL,
    batch_to_row,
    event_values,
    immediate_transaction,
    migrate,
)

FILE_MODE = 0o600
"""Sink files hold usage metadata of someone's API keys: owner-only, like ``~/.ssh``."""

DEFAULT_BUSY_TIMEOUT_S = 30.0

_T = TypeVar("_T")


def _create_private(path: Path) -> None:
    """Create ``path`` as an empty 0600 file unless it exists; SQLite gives -wal/-shm the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def _is_busy(err: sqlite3.OperationalError) -> bool:
    text = str(err)
    return "locked" in text or "busy" in text


def with_busy_retry(action: Callable[[], _T], timeout_s: float) -> _T:
    """Run ``action``, retrying on SQLITE_BUSY/LOCKED with jittered exponential backoff."""
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            return action()
        except sqlite3.OperationalError as err:
            if not _is_busy(err) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)


def connect_sqlite(
    path: str | Path, readonly: bool = False, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
) -> sqlite3.Connection:
    """A connection in autocommit mode with rows as ``sqlite3.Row``.

    Writable connections create the file (0600), switch it to WAL and migrate the schema to the
    current version. Read-only ones (``mode=ro``) touch nothing and fail if the file is missing.
    """
    path = Path(path)
    if readonly:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, timeout=busy_timeout_s, isolation_level=None)
        conn.row_factory = sqlite3.Row
        return conn
    _create_private(path)
    conn = sqlite3.connect(path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    try:
        with_busy_retry(lambda: conn.execute("PRAGMA journal_mode = WAL"), busy_timeout_s)
        conn.execute("PRAGMA synchronous = NORMAL")
        with_busy_retry(lambda: migrate(conn), busy_timeout_s)
    except BaseException:
        conn.close()
        raise
    return conn


class SQLiteSink:
    """Writes events and batch states to a SQLite file; safe with many writer processes at once.

    ``busy_timeout_s`` bounds how long one write may wait for the lock: generous for the CLI,
    short for the hook's writer thread, which would rather drop (and count) than fall behind.
    Not thread-safe: use one sink per thread.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._conn = connect_sqlite(self.path, busy_timeout_s=busy_timeout_s)

    def write_events(self, events: Sequence[UsageEvent]) -> None:
        """Insert the events not already stored (by id) and fold them into ``rollups``, atomically."""
        if not events:
            return
        rows = [event_values(e) for e in events]
        with_busy_retry(lambda: self._insert_events(rows), self.busy_timeout_s)

    def _insert_events(self, rows: list[tuple[object, ...]]) -> None:
        with immediate_transaction(self._conn) as conn:
            last_seq: int = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
            conn.executemany(INSERT_EVENT_SQL, rows)
            conn.execute(ROLLUP_FROM_EVENTS_SQL, (last_seq,))

    def write_batches(self, states: Sequence[BatchState]) -> None:
        """Upsert each batch's state; a state older than the stored one is ignored."""
        if not states:
            return
        rows = [batch_to_row(s) for s in states]
        with_busy_retry(lambda: self._upsert_batches(rows), self.busy_timeout_s)

    def _upsert_batches(self, rows: list[dict[str, object]]) -> None:
        with immediate_transaction(self._conn) as conn:
            conn.executemany(UPSERT_BATCH_SQL, rows)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SQLiteSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
