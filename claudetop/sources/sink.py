"""Reading a SQLite sink while the hooks write to it: new events by ``seq``, batch states, policies.

The reader holds one read-only connection (``mode=ro``) and asks only for rows past the last
``seq`` it saw, so a poll costs an index range scan however large the file. WAL lets it read while
writers write. A read-only connection still needs the ``-shm`` file of a WAL database; when the
user cannot create it (a sink in a directory they may not write), the reader falls back to
``immutable=1``, which reads the main file without locking, and reopens whenever the file changes
(rows still in the ``-wal`` file are not visible that way until a writer checkpoints; the health
message says so).

A sink deleted and recreated (new inode, a different ``meta.created_at``, or ``seq`` going
backwards) is read again from the start; event ids are stable, so consumers that deduplicate by
id count nothing twice.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claudetop.model import BatchState, PolicyName, PolicySet, PolicySetting, UsageEvent
from claudetop.sinks.schema import row_to_batch, row_to_event
from claudetop.sources.checkpoints import CheckpointStore
from claudetop.sources.history import History
from claudetop.sources.progress import Progress
from claudetop.sources.sink_history import connect_readonly, deferred_queue_depth, read_sink_history
from claudetop.sources.types import SourceDelta, SourceHealth

BATCH_ROWS = 20_000
"""Rows fetched per query; a poll reads at most ``max_rows_per_poll`` so it never blocks for long."""


class SinkSource:
    """Incremental reader of one SQLite sink file (see the module docstring)."""

    kind = "sqlite"

    def __init__(
        self,
        path: Path | str,
        *,
        checkpoints: CheckpointStore | None = None,
        start_at_end: bool = False,
        max_rows_per_poll: int = 200_000,
    ) -> None:
        self.path = Path(path).expanduser().absolute()
        self.name = f"sqlite:{self.path}"
        self.max_rows_per_poll = max_rows_per_poll
        self.progress = Progress("rows")
        self.events_read = 0
        self.garbage_lines = 0
        self.recreations = 0
        self.immutable = False
        self._conn: sqlite3.Connection | None = None
        self._inode: tuple[int, int] | None = None
        self._file_sig: tuple[int, int] | None = None
        self._created_at: str | None = None
        self._last_seq = 0
        self._batches: dict[str, tuple[Any, ...]] = {}
        self._policies: PolicySet | None = None
        self._message: str | None = None
        self._error_at: datetime | None = None
        self._start_at_end = start_at_end
        self._checkpoints = checkpoints
        if checkpoints is not None:
            loaded = checkpoints.load(self.kind, str(self.path))
            if loaded is not None:
                saved = loaded.state
                self._inode = (int(saved["dev"]), int(saved["ino"]))
                self._created_at = saved.get("created_at")
                self._last_seq = int(saved["seq"])
                self._start_at_end = False

    # --- connection management -----------------------------------------------------------

    def _open(self) -> sqlite3.Connection | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._close()
            self._set_problem(f"{self.path}: sink not found (waiting for it)")
            return None
        inode = (st.st_dev, st.st_ino)
        if self._inode is not None and inode != self._inode:
            self._restart("the sink file was replaced")
        self._inode = inode
        if self._conn is not None and self.immutable and self._file_sig != (st.st_size, st.st_mtime_ns):
            self._close()
        if self._conn is None:
            self._conn = self._connect_any()
            self._file_sig = (st.st_size, st.st_mtime_ns)
        return self._conn

    def _connect_any(self) -> sqlite3.Connection:
        conn, self.immutable = connect_readonly(self.path)
        conn.row_factory = sqlite3.Row
        return conn

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _restart(self, why: str) -> None:
        self.recreations += 1
        self._close()
        self._last_seq = 0
        self._batches.clear()
        self._policies = None
        self._created_at = None
        self._message = f"{why}; reading it again from the start"

    def _set_problem(self, message: str) -> None:
        self._message = message
        self._error_at = datetime.now(UTC)

    # --- polling ---------------------------------------------------------------------------

    def take_history(self, *, minute_span_s: float, detail_span_s: float) -> History | None:
        """The whole sink from SQL aggregates (``sources.sink_history``), if nothing was read from it
        yet and it exists; polls then continue after the history's last ``seq``: a report or monitor
        over millions of rows starts in seconds."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        if self.events_read != 0:
            return None
        history = read_sink_history(self.path, minute_span_s=minute_span_s, detail_span_s=detail_span_s)
        self._inode, self._created_at = (st.st_dev, st.st_ino), None  # not a checkpoint's older file
        self._last_seq = history.last_seq
        self._start_at_end = False
        self.events_read = history.events
        return history

    def poll(self) -> SourceDelta:
        delta = SourceDelta()
        try:
            conn = self._open()
            if conn is None:
                return delta
            self._poll(conn, delta)
        except sqlite3.DatabaseError as err:
            self._close()
            self._set_problem(f"{self.path}: {err}")
            return delta
        if self._checkpoints is not None and delta.events and self._inode is not None:
            dev, ino = self._inode
            state = {"dev": dev, "ino": ino, "seq": self._last_seq, "created_at": self._created_at}
            self._checkpoints.save(self.kind, str(self.path), state)
        return delta

    def _poll(self, conn: sqlite3.Connection, delta: SourceDelta) -> None:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "events" not in tables:
            self._message = f"{self.path}: no claudetop tables yet (waiting for the first write)"
            return
        created = self._meta_created_at(conn, tables)
        if self._created_at is not None and created is not None and created != self._created_at:
            self._restart("the sink was recreated")
            conn = self._open() or conn
        self._created_at = created
        max_seq: int = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
        if max_seq < self._last_seq:
            self._restart("the sink's event sequence went backwards")
            conn = self._open() or conn
        if self._start_at_end:
            self._last_seq = max_seq
            self._start_at_end = False
        if self.immutable:
            self._message = (
                f"{self.path}: read-only snapshot (cannot create the -shm file); "
                "rows still in the WAL appear after the writers checkpoint"
            )
        elif self._message and "recreated" not in self._message and "replaced" not in self._message:
            self._message = None
        self.progress.plan(max_seq, 1)
        self._read_events(conn, delta, max_seq)
        if "batches" in tables:
            self._read_batches(conn, delta)
        if "policies" in tables:
            self._read_policies(conn, delta)
        if "deferred_requests" in tables:
            delta.deferred_queue_depth = deferred_queue_depth(conn)

    def _meta_created_at(self, conn: sqlite3.Connection, tables: set[str]) -> str | None:
        if "meta" not in tables:
            return None
        row = conn.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()
        return None if row is None else str(row[0])

    def _read_events(self, conn: sqlite3.Connection, delta: SourceDelta, max_seq: int) -> None:
        budget = self.max_rows_per_poll
        done_before = self._last_seq
        while budget > 0:
            rows = conn.execute(
                "SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._last_seq, min(BATCH_ROWS, budget)),
            ).fetchall()
            if not rows:
                break
            for row in rows:
                try:
                    delta.events.append(row_to_event(row))
                except (ValueError, TypeError) as err:
                    self.garbage_lines += 1
                    self._set_problem(f"{self.path}: events row seq={row['seq']}: {str(err).splitlines()[0]}")
            self._last_seq = int(rows[-1]["seq"])
            budget -= len(rows)
        self.events_read += len(delta.events)
        self.progress.advance(self._last_seq - done_before, files=int(self._last_seq >= max_seq))

    def _read_batches(self, conn: sqlite3.Connection, delta: SourceDelta) -> None:
        for row in conn.execute("SELECT * FROM batches"):
            values = tuple(row)
            if self._batches.get(row["id"]) == values:
                continue
            try:
                state: BatchState = row_to_batch(row)
            except ValueError as err:
                self.garbage_lines += 1
                self._set_problem(f"{self.path}: batches row {row['id']}: {str(err).splitlines()[0]}")
                continue
            self._batches[row["id"]] = values
            delta.batches.append(state)

    def _read_policies(self, conn: sqlite3.Connection, delta: SourceDelta) -> None:
        settings: dict[PolicyName, PolicySetting] = {}
        for row in conn.execute("SELECT name, mode, params, updated_at, updated_by FROM policies"):
            try:
                setting = PolicySetting.from_row(row)
                settings[setting.name] = setting
            except ValueError as err:
                self.garbage_lines += 1
                self._set_problem(f"{self.path}: policies row {row['name']}: {str(err).splitlines()[0]}")
        policies = PolicySet(settings=settings)
        if policies != self._policies:
            self._policies = policies
            delta.policies = policies

    def health(self) -> SourceHealth:
        ok = self._conn is not None
        return SourceHealth(
            name=self.name,
            ok=ok,
            message=self._message,
            events_read=self.events_read,
            garbage_lines=self.garbage_lines,
            last_error_at=self._error_at,
        )

    def close(self) -> None:
        self._close()


class SinkUnreadable(OSError):
    """A one-shot read found a sink it could not read: its events are unknown, not zero."""


def read_all_events(path: Path | str) -> list[UsageEvent]:
    """Every event in a sink, oldest first: a one-shot read. Raises ``SinkUnreadable`` (an ``OSError``)
    when the file cannot be read, rather than answering with no events."""
    source = SinkSource(path, max_rows_per_poll=2**62)
    try:
        events = source.poll().events
        health = source.health()
        if not health.ok:
            raise SinkUnreadable(health.message or f"cannot read {path}")
        return events
    finally:
        source.close()


__all__ = ["SinkSource", "SinkUnreadable", "read_all_events"]
