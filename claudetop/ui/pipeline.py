"""One refresh of the monitor's data, run on the feed thread (``worker.SnapshotWorker``).

Starting on a big sink, the first screen must not wait for the whole history: the first cycle
folds only the newest ``PREVIEW_ROWS`` events of each SQLite sink into a throw-away aggregator and
shows that, marked as a preview. The second folds each SQLite sink's history from SQL aggregates
(``sources.sink_history``) and continues after it by ``seq``; other sources (JSONL,
Claude Code) are read in bounded chunks, each cycle posting a snapshot with the progress so far,
until every source has caught up. Then the feed settles into its refresh interval.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from datetime import datetime
from pathlib import Path

from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.budget import BudgetAlerts
from claudetop.analysis.projection import present
from claudetop.analysis.rates import RateTable
from claudetop.analysis.report import fold_histories
from claudetop.analysis.snapshot import Scenarios, build_snapshot
from claudetop.config import Config
from claudetop.model import Micros, PolicyChange, PolicyMode, PolicyName, PolicySet, Snapshot, UsageEvent
from claudetop.policies import PolicyRefused, PolicyStore
from claudetop.sinks.schema import row_to_event
from claudetop.sources.sink import SinkSource
from claudetop.sources.types import Source
from claudetop.ui.messages import Loading
from claudetop.ui.whatif_memo import WhatIfMemo

PREVIEW_ROWS = 2_000
"""Newest events per SQLite sink shown on the first screen while the rest is read."""
POLL_ROWS = 20_000
"""Most rows a SQLite sink hands over per cycle once its history is folded: bounds the events held
in memory at once when the monitor falls behind a burst."""


class Pipeline:
    """One refresh, run on the feed thread: poll every source, fold, read policies, build a snapshot.

    Also the monitor's policy writer: ``set`` runs as a feed job on the same thread, so the policy
    store's SQLite connection is opened, used and closed on one thread only. The store is opened
    lazily so a missing or broken sink becomes a banner instead of a failed start.
    """

    def __init__(
        self,
        sources: Sequence[Source],
        aggregator: Aggregator,
        config: Config,
        rates: RateTable,
        *,
        open_store: Callable[[bool], PolicyStore | None] | None,
        clock: Callable[[], datetime],
        budget_micros: Micros | None = None,
        alerts: BudgetAlerts | None = None,
    ) -> None:
        self.sources = list(sources)
        self.aggregator = aggregator
        self.config = config
        self.rates = rates
        self._open_store = open_store
        self._store: PolicyStore | None = None
        self.clock = clock
        self.budget_micros = budget_micros
        self.alerts = alerts
        self.seen_policies = PolicySet()
        self.whatif: WhatIfMemo[Scenarios] = WhatIfMemo()
        self.loading: Loading | None = None
        """How far the first read has got; ``None`` once every source has caught up."""
        self._previewed = False
        self._history_folded = False
        self._caught_up: set[int] = set()
        """Sources that start where their folded history ends (their progress counts from there)."""

    def store(self, *, create: bool = False) -> PolicyStore | None:
        """The policy store, opened on first use; ``create`` (a policy change) may create its sink."""
        if self._store is None and self._open_store is not None:
            self._store = self._open_store(create)
        return self._store

    def __call__(self) -> Snapshot:
        if not self._previewed:
            self._previewed = True
            preview = self._preview()
            if preview is not None:
                return preview
        if not self._history_folded:
            self._history_folded = True  # a sink that cannot be read is polled (and reported) as usual
            self._fold_history()
        for source in self.sources:
            delta = source.poll()
            self.aggregator.set_deferred_depth(source.name, delta.deferred_queue_depth)
            if delta.events:
                self.aggregator.add(delta.events)
            if delta.batches:
                self.aggregator.add_batches(delta.batches)
            if delta.policies is not None:
                self.seen_policies = delta.policies
        self.loading = self._progress()
        return self._build(self.aggregator, preview=False)

    def _fold_history(self) -> None:
        """Each unread SQLite sink's history from SQL aggregates (``analysis.report.fold_histories``); the
        sink then continues after it, in bounded polls. Claude Code transcripts are polled instead: their
        history would include replies still streaming, whose final usage the monitor waits for."""
        for source in self.sources:
            # one at a time: a later sink failing must not leave this one folded but unmarked
            if isinstance(source, SinkSource) and fold_histories([source], self.aggregator):
                source.max_rows_per_poll = POLL_ROWS
                self._caught_up.add(id(source))

    def _build(self, aggregator: Aggregator, *, preview: bool) -> Snapshot:
        """A snapshot of ``aggregator``; a preview (part of the history) neither keeps its what-if
        results nor checks budget alerts."""
        store = self.store()
        policies = store.current() if store is not None else self.seen_policies
        return build_snapshot(
            aggregator,
            present(self.clock(), aggregator.newest),  # events ahead of the clock count (skew)
            policies,
            self.config,
            self.rates,
            sources=[source.health() for source in self.sources],
            budget_micros=self.budget_micros,
            policy_changes=store.audit(limit=len(PolicyName) * 4) if store is not None else (),
            whatif_memo=None if preview else (lambda compute: self.whatif.get(policies, compute)),
            alerts=None if preview else self.alerts,
        )

    def _preview(self) -> Snapshot | None:
        """The newest events of big SQLite sinks, folded apart from the real aggregator; ``None`` when
        every sink is small enough to read whole in the first cycle."""
        events: list[UsageEvent] = []
        total = 0
        for source in self.sources:
            if isinstance(source, SinkSource):
                rows, newest = _newest_events(source.path, PREVIEW_ROWS)
                total += rows
                events += newest
        if total <= PREVIEW_ROWS * 2:
            return None
        preview = Aggregator(live_cap=self.aggregator.live.maxlen or 200)
        preview.add(sorted(events, key=lambda e: e.ts))
        self.loading = Loading(
            fraction=0.0, detail=f"showing the newest {len(events):,} of {total:,} events", preview=True
        )
        return self._build(preview, preview=True)

    def _progress(self) -> Loading | None:
        done = total = 0
        for source in self.sources:
            progress = getattr(source, "progress", None)
            if progress is None or id(source) in self._caught_up:
                continue
            snap = progress.snapshot()
            if snap.total > 0 and not snap.complete:
                done, total = done + snap.done, total + snap.total
        if total == 0:
            return None
        return Loading(fraction=done / total, detail=f"read {done:,} of {total:,}", preview=False)

    def set(
        self,
        name: PolicyName | str,
        mode: PolicyMode | str,
        params: None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> PolicyChange:
        store = self.store(create=True)
        if store is None:
            raise PolicyRefused("policies live in a SQLite sink; this monitor reads none")
        return store.set(name, mode, params, by=by, reason=reason)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _newest_events(path: Path, n: int) -> tuple[int, list[UsageEvent]]:
    """(events in the sink, its newest ``n`` events); ``(0, [])`` for anything unreadable (the source
    reports the problem itself on its first poll)."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as conn:
            conn.row_factory = sqlite3.Row
            (total,) = conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
            rows = conn.execute("SELECT * FROM events ORDER BY seq DESC LIMIT ?", (n,)).fetchall()
    except sqlite3.Error:
        return 0, []
    events = []
    for row in rows:
        try:
            events.append(row_to_event(row))
        except (ValueError, TypeError):
            continue
    return int(total), events
