"""Where the policy store's rows live: the SQLite sink file or the fleet's PostgreSQL database.

The store and the eval gate write their SQL once, with ``?`` parameters and named result columns,
and run it through a ``PolicyDb``. Each database adds what only it can do: serialising writers
(SQLite's write lock with busy retries; a PostgreSQL advisory lock) and a cheap *has anything
changed* marker for the store's once-per-interval check. SQLite answers that marker from the file
header (``PRAGMA data_version``). A network database must not be asked on the application's
thread — a slow or unreachable server would stall the app's requests — so ``PostgresPolicyDb``
polls the marker (the newest ``policy_audit`` and ``eval_results`` rows: every change writes one)
on a daemon thread and ``marker()`` returns the last answer without any I/O; a forked child, which
has no such thread, polls on one of its own (started at the fork) over its own connection.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from claudetop.sinks import connect_sqlite, is_postgres_target
from claudetop.sinks.forksafe import leave_inherited, on_fork_in_child, sqlite_work
from claudetop.sinks.schema import immediate_transaction
from claudetop.sinks.sqlite import with_busy_retry

if TYPE_CHECKING:
    from claudetop.sinks.postgres import PgConnection

_T = TypeVar("_T")

Row = Mapping[str, Any]
Query = Callable[[str, Sequence[Any]], list[Row]]
"""Runs one statement (``?`` parameters) and returns its rows, addressable by column name."""

WRITE_TIMEOUT_S = 30.0
POSTGRES_STATEMENT_TIMEOUT_S = 2.0
"""Bounds every policy query on PostgreSQL: a hook would rather skip a policy than wait."""
POSTGRES_POLL_S = 0.25


class PolicyDb(Protocol):
    target: Path | str
    errors: tuple[type[Exception], ...]
    """What a failing database raises (lost connection, locked file): the store rides them out."""

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def write(self, work: Callable[[Query], _T]) -> _T:
        """Run ``work`` in one transaction, serialised with every other policy writer."""
        ...

    def marker(self) -> object:
        """Changes whenever another connection changed the policies or eval results; no I/O on PostgreSQL."""
        ...

    def close(self) -> None: ...


class NotASQLiteSink(ValueError):
    """Policies live in the SQLite or PostgreSQL sink; a JSONL file cannot hold them."""


def open_policy_db(sink_target: str | Path) -> PolicyDb:
    text = str(sink_target)
    if is_postgres_target(text):
        return PostgresPolicyDb(text)
    if text.endswith(".jsonl"):
        raise NotASQLiteSink(
            f"{text}: policies are stored in a SQLite (or PostgreSQL) sink; point --sink at the .db file"
        )
    return SQLitePolicyDb(Path(text).expanduser())


class SQLitePolicyDb:
    """Policy rows in a SQLite sink. Every use is a ``sqlite_work`` section (the store is read from a
    background thread too). The connection is opened again when it no longer reaches the sink: in a
    forked child (SQLite's may not cross a fork, so the parent's is left untouched, not even closed),
    and when the sink file was deleted and created anew (settings written to the old one would reach
    no hook)."""

    def __init__(self, path: Path) -> None:
        self.target: Path | str = path
        self.errors: tuple[type[Exception], ...] = (sqlite3.Error,)
        self._opened = 0
        self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        self._pid = os.getpid()
        with sqlite_work():
            conn = with_busy_retry(lambda: connect_sqlite(Path(self.target)), WRITE_TIMEOUT_S)
        self._file = self._file_now()
        self._opened += 1
        return conn

    def _file_now(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.target)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    @property
    def conn(self) -> sqlite3.Connection:
        if self._pid != os.getpid():
            leave_inherited(self._conn)
            self._conn = self._open()
        elif (now := self._file_now()) is not None and now != self._file:
            self._conn.close()
            self._conn = self._open()
        return self._conn

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with sqlite_work():
            return self.conn.execute(sql, params).fetchall()

    def write(self, work: Callable[[Query], _T]) -> _T:
        def attempt() -> _T:
            with immediate_transaction(self.conn):
                return work(self.rows)

        with sqlite_work():
            return with_busy_retry(attempt, WRITE_TIMEOUT_S)

    def marker(self) -> object:
        """Changes whenever another connection changed the file, or this one was opened again."""
        with sqlite_work():
            version: int = self.conn.execute("PRAGMA data_version").fetchone()[0]
        return self._opened, version

    def close(self) -> None:
        """Close this process's connection (one inherited across a fork is left alone, not reopened)."""
        if self._pid == os.getpid():
            with sqlite_work():
                self._conn.close()


_MARKER_SQL = (
    "SELECT (SELECT coalesce(max(seq), 0) FROM policy_audit) AS audit, "
    "(SELECT coalesce(max(seq), 0) FROM eval_results) AS evals"
)
_POLICY_WRITE_LOCK = 0x636C_7464_706F_6C
"""Advisory lock key for policy writes ("cltdpol"): one read-modify-write of a setting at a time."""


class PostgresPolicyDb:
    """Policy rows in the fleet database; reconnects after an outage, never blocks ``marker()``.

    ``fork()``: the child leaves the parent's connection alone (a query from both processes on one
    session would interleave; closing it would end the parent's session), connects on first use and
    restarts the poll thread, which does not cross a fork: without it the child never sees a change.
    """

    def __init__(self, dsn: str, poll_s: float = POSTGRES_POLL_S) -> None:
        import psycopg

        from claudetop.sinks.postgres import pg_placeholders

        self.target: Path | str = dsn
        self.errors: tuple[type[Exception], ...] = (psycopg.Error,)
        self._placeholders = pg_placeholders
        self._conn: PgConnection | None = None
        self._conn_lock = threading.Lock()
        self._marker: object = self._read_marker(self._connection())
        self._poll_s = poll_s
        self._stop = threading.Event()
        self._start_polling()
        on_fork_in_child(self._after_fork_in_child)

    def _start_polling(self) -> None:
        self._thread = threading.Thread(target=self._poll, name="claudetop-policy-poll", daemon=True)
        self._thread.start()

    def _after_fork_in_child(self) -> None:
        leave_inherited(self._conn)
        self._conn = None
        self._conn_lock = threading.Lock()  # a parent's thread may have held it
        if not self._stop.is_set():  # not closed
            self._stop = threading.Event()
            self._start_polling()

    def _connect(self) -> PgConnection:
        from claudetop.sinks.postgres import connect_postgres

        return connect_postgres(str(self.target), statement_timeout_s=POSTGRES_STATEMENT_TIMEOUT_S)

    def _connection(self) -> PgConnection:
        if self._conn is None or self._conn.broken or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    def _read_marker(self, conn: PgConnection) -> object:
        row = conn.execute(_MARKER_SQL).fetchone()
        return None if row is None else (row["audit"], row["evals"])

    def _poll(self) -> None:
        conn: PgConnection | None = None
        while not self._stop.wait(self._poll_s):
            try:
                if conn is None or conn.broken:
                    conn = self._connect()
                self._marker = self._read_marker(conn)
            except Exception:
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a statement; a read on a connection the server dropped (a restart) is retried once."""
        import psycopg

        with self._conn_lock:
            try:
                return self._query(sql, params)
            except psycopg.OperationalError:
                return self._query(sql, params)

    def _query(self, sql: str, params: Sequence[Any]) -> list[Row]:
        import psycopg

        conn = self._connection()
        try:
            cursor = conn.execute(self._placeholders(sql).encode(), params)
            return list(cursor.fetchall()) if cursor.description else []
        except psycopg.OperationalError:
            conn.close()
            raise

    def write(self, work: Callable[[Query], _T]) -> _T:
        """One transaction; retried once when the connection turns out dead before anything was sent."""
        import psycopg

        with self._conn_lock:
            for attempt in (1, 2):
                conn = self._connection()
                started = False
                try:
                    with conn.transaction():
                        self._query("SELECT pg_advisory_xact_lock(?)", (_POLICY_WRITE_LOCK,))
                        started = True
                        return work(self._query)
                except psycopg.OperationalError:
                    conn.close()
                    if started or attempt == 2:
                        raise
            raise AssertionError("unreachable")

    def marker(self) -> object:
        return self._marker

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2 * POSTGRES_STATEMENT_TIMEOUT_S)
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


__all__ = [
    "NotASQLiteSink",
    "PolicyDb",
    "PostgresPolicyDb",
    "Query",
    "Row",
    "SQLitePolicyDb",
    "open_policy_db",
]
