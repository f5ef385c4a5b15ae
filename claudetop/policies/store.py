"""The policy store: policy settings and their audit trail, as rows in the sink (SQLite or PostgreSQL).

The monitor and ``claudetop policy`` write; every instrumented app reads on each request. Reads
must cost nothing on the hot path, yet a change must be seen within a second: ``current()``
returns a cached ``PolicySet`` and, at most every ``CHECK_INTERVAL_S``, asks the database whether
anything changed since (``PolicyDb.marker``: SQLite's ``PRAGMA data_version``, answered without
touching the tables; for PostgreSQL a value a background thread keeps fresh); only then does it
re-read the small ``policies`` table. Validation results for routing are cached the same way.
"""

from __future__ import annotations

import getpass
import json
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from claudetop.config import Config, load_config
from claudetop.model import ParamValue, PolicyChange, PolicyMode, PolicyName, PolicySet, PolicySetting
from claudetop.policies import evals
from claudetop.policies.db import NotASQLiteSink, Query, open_policy_db
from claudetop.policies.routing import ModelLookup, default_lookup, possible_downshifts
from claudetop.sinks.forksafe import on_fork_in_child
from claudetop.sinks.schema import format_ts

CHECK_INTERVAL_S = 0.25
"""How stale ``current()`` may be: four checks a second keeps a change visible well within 1 s."""

OBSERVED_WINDOW = timedelta(days=30)
"""Traffic this recent (from the hourly ``rollups``) tells which models each task runs on: the
downshift check's reference, besides ``routing.default_model``."""


class PolicyRefused(ValueError):
    """A change the store will not make; ``reason`` says why and what to do instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def default_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


class PolicyStore:
    """Policy settings for one sink; thread-safe, one database connection per store."""

    def __init__(
        self,
        sink_target: str | Path,
        *,
        config: Config | None = None,
        lookup: ModelLookup = default_lookup,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = open_policy_db(sink_target)
        self.path = self._db.target
        self.config = config if config is not None else load_config()
        self._lookup = lookup
        self._clock = clock
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._data_version: object = None
        self._policies = PolicySet()
        self._validated: dict[tuple[str, str], evals.Validation] = {}
        on_fork_in_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        """A parent's thread may have held the lock (refreshing the settings, say): the child's would
        stay held, and its next ``current()`` — every instrumented call's — wait for ever. The database
        handles the fork itself."""
        self._lock = threading.Lock()

    # --- reading -----------------------------------------------------------------------------

    def current(self) -> PolicySet:
        """The settings in force; at most ``CHECK_INTERVAL_S`` old, no query (and no lock) in between."""
        if self._clock() - self._checked_at < CHECK_INTERVAL_S:
            return self._policies
        with self._lock:
            self._refresh_if_due()
            return self._policies

    def validation(self, task: str, model: str) -> evals.Validation:
        """Whether ``task`` may be downshifted to ``model`` (cached like ``current()``)."""
        with self._lock:
            self._refresh_if_due()
            key = (task, model)
            cached = self._validated.get(key)
            if cached is None:
                cached = evals.check(self._db.rows, self.config, task, model)
                self._validated[key] = cached
            return cached

    def audit(self, limit: int = 100) -> list[PolicyChange]:
        """The most recent changes, newest first."""
        with self._lock:
            rows = self._db.rows(
                "SELECT name, at, by, from_mode, to_mode, params, reason FROM policy_audit "
                "ORDER BY seq DESC LIMIT ?",
                (limit,),
            )
        return [PolicyChange.from_row(r) for r in rows]

    def _refresh_if_due(self) -> None:
        """Under the lock. ``_checked_at`` moves only once ``_policies`` is up to date: ``current``
        reads both without the lock, and must never take the settings before the first read as fresh."""
        now = self._clock()
        if now - self._checked_at < CHECK_INTERVAL_S:
            return
        try:
            version = self._db.marker()
            if version != self._data_version:
                try:
                    self._policies = self._read_policies()
                except self._db.errors:
                    return  # the database is unreachable: keep serving the last settings, retry next time
                self._data_version = version
                self._validated.clear()
        finally:
            self._checked_at = now

    def _read_policies(self) -> PolicySet:
        rows = self._db.rows("SELECT name, mode, params, updated_at, updated_by FROM policies")
        settings: dict[PolicyName, PolicySetting] = {}
        for r in rows:
            try:
                setting = PolicySetting.from_row(r)
            except ValueError:
                continue
            settings[setting.name] = setting
        return PolicySet(settings=settings)

    # --- writing -----------------------------------------------------------------------------

    def set(
        self,
        name: PolicyName | str,
        mode: PolicyMode | str,
        params: dict[str, ParamValue] | None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> PolicyChange:
        """Switch a policy; the setting and its audit line are written in one transaction.

        ``params=None`` keeps the policy's current parameters. Raises ``PolicyRefused`` when
        enforcing routing would downshift a task nobody has validated.
        """
        policy, new_mode = PolicyName(name), PolicyMode(mode)
        if policy is PolicyName.ROUTING and new_mode is PolicyMode.ENFORCE:
            self._check_routing_enforce()
        actor = by or default_actor()
        at = datetime.now(UTC)

        def write(query: Query) -> PolicyChange:
            found = query("SELECT mode, params FROM policies WHERE name = ?", (policy.value,))
            row = found[0] if found else None
            from_mode = PolicyMode(row["mode"]) if row else PolicyMode.OFF
            new_params = params if params is not None else (json.loads(row["params"]) if row else {})
            params_json = json.dumps(new_params, sort_keys=True)
            query(
                "INSERT INTO policies (name, mode, params, updated_at, updated_by) "
                "VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET mode = excluded.mode, params = excluded.params, "
                "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                (policy.value, new_mode.value, params_json, format_ts(at), actor),
            )
            query(
                "INSERT INTO policy_audit (name, at, by, from_mode, to_mode, params, reason) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    policy.value,
                    format_ts(at),
                    actor,
                    from_mode.value,
                    new_mode.value,
                    params_json,
                    reason,
                ),
            )
            self._checked_at = float("-inf")
            self._data_version = None
            return PolicyChange(
                name=policy,
                at=at,
                by=actor,
                from_mode=from_mode,
                to_mode=new_mode,
                params=new_params,
                reason=reason,
            )

        with self._lock:
            return self._db.write(write)

    def _check_routing_enforce(self) -> None:
        since = format_ts(datetime.now(UTC) - OBSERVED_WINDOW)
        tiers = self.config.routing.tiers
        with self._lock:
            observed = [
                (r["task"], r["model"])
                for r in self._db.rows(
                    "SELECT DISTINCT task, model FROM rollups WHERE hour >= ? AND model != '' AND task != ''",
                    (since,),
                )
                if r["task"] in tiers
            ]
            refused = [
                (route, check)
                for route in possible_downshifts(self.config.routing, observed, self._lookup)
                if not (check := evals.check(self._db.rows, self.config, route.task, route.to_model)).ok
            ]
        if refused:
            lines = "\n".join(f"  - {r.task}: {r.from_model} -> {r.to_model}: {c.reason}" for r, c in refused)
            raise PolicyRefused(
                "refusing to enforce routing: it would downshift unvalidated tasks\n"
                f"{lines}\n"
                "shadow mode is allowed: `claudetop policy set routing shadow` records what routing would "
                "do and save without changing any request; validate with claudetop.record_eval(task, model, "
                "passed) or list the task in routing.validated_tasks"
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> PolicyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "CHECK_INTERVAL_S",
    "NotASQLiteSink",
    "PolicyChange",
    "PolicyRefused",
    "PolicyStore",
    "default_actor",
]
