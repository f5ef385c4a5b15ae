"""Reading the fleet's PostgreSQL sink: new events by ``seq``, batch states, policies, hook health.

The sink serialises its inserts so that ``seq`` follows commit order (``claudetop.sinks.postgres``),
which makes ``seq > last`` a complete incremental read here too. The reader never migrates or
writes; it connects lazily with short timeouts, and when the server is down a poll returns nothing
and says why in ``health()``, then reconnects on a later poll.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from claudetop.model import BatchState, PolicyName, PolicySet, PolicySetting
from claudetop.sinks.postgres import PgConnection, connect_postgres
from claudetop.sinks.schema import row_to_batch, row_to_event
from claudetop.sources.types import SourceDelta, SourceHealth

BATCH_ROWS = 20_000
HEALTH_KEY_PREFIX = "hook_health:"
"""``meta`` rows the hooks keep about their own trouble (dropped events, sink errors)."""


def redacted(dsn: str) -> str:
    """The DSN as it may be shown: host, port and database, never the password."""
    parts = conninfo_to_dict(dsn)
    host = parts.get("host", "localhost")
    port = parts.get("port")
    return f"postgresql://{host}{f':{port}' if port else ''}/{parts.get('dbname', '')}"


class PostgresSource:
    kind = "postgresql"

    def __init__(
        self, dsn: str, *, max_rows_per_poll: int = 200_000, statement_timeout_s: float = 10.0
    ) -> None:
        self.dsn = dsn
        self.name = redacted(dsn)
        self.max_rows_per_poll = max_rows_per_poll
        self.statement_timeout_s = statement_timeout_s
        self.events_read = 0
        self.garbage_lines = 0
        self._conn: PgConnection | None = None
        self._last_seq = 0
        self._batches: dict[str, dict[str, Any]] = {}
        self._policies: PolicySet | None = None
        self._message: str | None = None
        self._error_at: datetime | None = None
        self.hooks: dict[str, dict[str, Any]] = {}
        """The latest ``hook_health`` record of every host and process that reported trouble."""

    def _connection(self) -> PgConnection:
        if self._conn is None or self._conn.broken or self._conn.closed:
            self._conn = connect_postgres(
                self.dsn, statement_timeout_s=self.statement_timeout_s, migrate=False
            )
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def poll(self) -> SourceDelta:
        delta = SourceDelta()
        try:
            conn = self._connection()
            present = conn.execute("SELECT to_regclass('events') IS NOT NULL AS ok").fetchone()
            if not present or not present["ok"]:
                self._message = f"{self.name}: no claudetop tables yet (waiting for the first write)"
                return delta
            self._read_events(conn, delta)
            self._read_batches(conn, delta)
            self._read_policies(conn, delta)
            self._read_hook_health(conn)
            self._message = None
        except psycopg.Error as err:
            self.close()
            self._message = f"{self.name}: {str(err).strip().splitlines()[0]}"
            self._error_at = datetime.now(UTC)
        return delta

    def _read_events(self, conn: PgConnection, delta: SourceDelta) -> None:
        budget = self.max_rows_per_poll
        while budget > 0:
            rows = conn.execute(
                "SELECT * FROM events WHERE seq > %s ORDER BY seq LIMIT %s",
                (self._last_seq, min(BATCH_ROWS, budget)),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                try:
                    delta.events.append(row_to_event(row))
                    self.events_read += 1
                except ValueError as err:
                    self._garbage(f"events row seq={row['seq']}", err)
            self._last_seq = int(rows[-1]["seq"])
            budget -= len(rows)

    def _read_batches(self, conn: PgConnection, delta: SourceDelta) -> None:
        for row in conn.execute("SELECT * FROM batches").fetchall():
            if self._batches.get(row["id"]) == row:
                continue
            try:
                state: BatchState = row_to_batch(row)
            except ValueError as err:
                self._garbage(f"batches row {row['id']}", err)
                continue
            self._batches[row["id"]] = row
            delta.batches.append(state)

    def _read_policies(self, conn: PgConnection, delta: SourceDelta) -> None:
        settings: dict[PolicyName, PolicySetting] = {}
        for row in conn.execute("SELECT name, mode, params, updated_at, updated_by FROM policies").fetchall():
            try:
                setting = PolicySetting.from_row(row)
            except ValueError as err:
                self._garbage(f"policies row {row['name']}", err)
                continue
            settings[setting.name] = setting
        policies = PolicySet(settings=settings)
        if policies != self._policies:
            self._policies = delta.policies = policies

    def _read_hook_health(self, conn: PgConnection) -> None:
        rows = conn.execute(
            "SELECT key, value FROM meta WHERE key LIKE %s", (HEALTH_KEY_PREFIX.replace("_", r"\_") + "%",)
        ).fetchall()
        for row in rows:
            try:
                self.hooks[row["key"].removeprefix(HEALTH_KEY_PREFIX)] = json.loads(row["value"])
            except ValueError as err:
                self._garbage(f"meta row {row['key']}", err)

    def _garbage(self, where: str, err: Exception) -> None:
        self.garbage_lines += 1
        self._message = f"{self.name}: {where}: {str(err).splitlines()[0]}"
        self._error_at = datetime.now(UTC)

    def health(self) -> SourceHealth:
        return SourceHealth(
            name=self.name,
            ok=self._conn is not None,
            message=self._message,
            events_read=self.events_read,
            garbage_lines=self.garbage_lines,
            last_error_at=self._error_at,
        )


__all__ = ["PostgresSource", "redacted"]
