"""One refresh of the monitor's data, run on the feed thread (``worker.SnapshotWorker``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.rates import RateTable
from claudetop.analysis.snapshot import build_snapshot
from claudetop.config import Config
from claudetop.model import Micros, PolicyChange, PolicyMode, PolicyName, PolicySet, Snapshot
from claudetop.policies import PolicyRefused, PolicyStore
from claudetop.sources.types import Source


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
        open_store: Callable[[], PolicyStore] | None,
        clock: Callable[[], datetime],
        budget_micros: Micros | None = None,
    ) -> None:
        self.sources = list(sources)
        self.aggregator = aggregator
        self.config = config
        self.rates = rates
        self._open_store = open_store
        self._store: PolicyStore | None = None
        self.clock = clock
        self.budget_micros = budget_micros
        self.seen_policies = PolicySet()

    def store(self) -> PolicyStore | None:
        if self._store is None and self._open_store is not None:
            self._store = self._open_store()
        return self._store

    def __call__(self) -> Snapshot:
        for source in self.sources:
            delta = source.poll()
            if delta.events:
                self.aggregator.add(delta.events)
            if delta.batches:
                self.aggregator.add_batches(delta.batches)
            if delta.policies is not None:
                self.seen_policies = delta.policies
        store = self.store()
        policies = store.current() if store is not None else self.seen_policies
        return build_snapshot(
            self.aggregator,
            self.clock(),
            policies,
            self.config,
            self.rates,
            sources=[source.health() for source in self.sources],
            budget_micros=self.budget_micros,
            policy_changes=store.audit(limit=len(PolicyName) * 4) if store is not None else (),
        )

    def set(
        self,
        name: PolicyName | str,
        mode: PolicyMode | str,
        params: None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> PolicyChange:
        store = self.store()
        if store is None:
            raise PolicyRefused("policies live in a SQLite sink; this monitor reads none")
        return store.set(name, mode, params, by=by, reason=reason)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
