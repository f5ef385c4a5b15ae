"""Incremental aggregation of usage events into bounded, mergeable counters.

Memory stays bounded over days of live use: events are folded into per-minute buckets for the
recent past (``minute_horizon``) and per-hour buckets before that, each holding one ``Counts``
per group (model, task, app, host, key fingerprint, batch?). Per-prefix and per-batch tables are
capped (the least recently seen entries are dropped first). Raw events are kept only in two
bounded rings: the newest few hundred for the live table and a longer one for what-if replays.

Every counter is a sum, so folding the same events in any order or in any chunks gives the same
totals.

A source's pre-aggregated history (``claudetop.sources.history``: a SQLite sink's from SQL, Claude
Code's from its checkpoint) is folded by ``add_history``: bucket counters, batch polls and policy
tallies are exact over the whole history, while the per-event tables (prefixes, tasks, the replay
ring) are built from the *detail* rows of the last ``detail_horizon`` only; ``detail_since`` says
from when they are complete.

Duplicates: each source yields an event once (by ``seq`` or file offset), so duplicates only arise
when two sources overlap (the same events in a sink and in a JSONL copy). Ids are remembered for
``dedupe_horizon`` of event time behind the newest event folded one by one (at least that long:
pruning drops the oldest-inserted ids first); a duplicate older than that, or one that also sits in
SQL-aggregated history, is counted twice. ``duplicates`` counts those caught.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from claudetop.analysis.whatif import Replayable, ReplayedPrefix, ReplayEvent
from claudetop.model import PolicyMode

if TYPE_CHECKING:
    from claudetop.model import BatchState, UsageEvent
    from claudetop.sources.history import History

__all__ = ["Aggregator", "Counts", "label", "merged"]

Group = tuple[str | None, str | None, str | None, str | None, str | None, bool]
"""(model, task, app, host, api key fingerprint, is batch)."""

DIMENSIONS: tuple[str, ...] = ("model", "task", "app", "host", "key", "batch")

_BILLABLE = frozenset({"messages", "batch_result"})
_TTL_S = {"5m": 300.0, "1h": 3600.0}
_NONE = "(none)"


@dataclass(slots=True)
class Counts:
    """Additive counters over a set of events. ``cost_micros`` sums priced billable events only."""

    requests: int = 0
    """Billable events (messages and batch results)."""
    api_calls: int = 0
    errors: int = 0
    retried: int = 0
    input: int = 0
    output: int = 0
    write_5m: int = 0
    write_1h: int = 0
    read: int = 0
    cost_micros: int = 0
    unpriced: int = 0
    """Billable events without a cost (unknown model): never counted as $0."""
    max_tokens_stops: int = 0
    batch_requests: int = 0
    deferred: int = 0

    def add_request(self, inp: int, out: int, w5: int, w1: int, rd: int, cost: int | None) -> None:
        """One billable request: its tokens, and its cost or one more unpriced request."""
        self.requests += 1
        self.input += inp
        self.output += out
        self.write_5m += w5
        self.write_1h += w1
        self.read += rd
        if cost is None:
            self.unpriced += 1
        else:
            self.cost_micros += cost

    def merge(self, other: Counts) -> None:
        self.requests += other.requests
        self.api_calls += other.api_calls
        self.errors += other.errors
        self.retried += other.retried
        self.input += other.input
        self.output += other.output
        self.write_5m += other.write_5m
        self.write_1h += other.write_1h
        self.read += other.read
        self.cost_micros += other.cost_micros
        self.unpriced += other.unpriced
        self.max_tokens_stops += other.max_tokens_stops
        self.batch_requests += other.batch_requests
        self.deferred += other.deferred

    @property
    def writes(self) -> int:
        return self.write_5m + self.write_1h

    @property
    def prompt_tokens(self) -> int:
        return self.input + self.writes + self.read

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.output

    @property
    def hit_ratio(self) -> float | None:
        """Token-weighted cache hit ratio: ``read / (read + write + uncached input)``."""
        prompt = self.prompt_tokens
        return self.read / prompt if prompt else None

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(getattr(self, f) for f in _COUNT_FIELDS)


_COUNT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Counts))


def merged(counts: Iterable[Counts]) -> Counts:
    total = Counts()
    for c in counts:
        total.merge(c)
    return total


@dataclass(slots=True)
class PrefixStats:
    """One cacheable prefix of one model, and how the cache treated it."""

    model: str | None
    sha256: str
    scope: str
    tokens: int
    task: str | None
    ttl: str | None
    seen: int = 0
    writes_5m: int = 0
    writes_1h: int = 0
    reads: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    rewrites_after_gap: int = 0
    """Writes of a prefix seen before, after a gap longer than its TTL (the cache had expired)."""
    rewrites_gap_under_1h: int = 0
    """Of those, on a 5m TTL with a gap of at most an hour: a 1h TTL would have made them reads."""

    @property
    def writes(self) -> int:
        return self.writes_5m + self.writes_1h


@dataclass(slots=True)
class TaskStats:
    """Per task: system-prompt fingerprint history and quality signals with and without routing."""

    task: str
    requests: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    system_sha: str | None = None
    system_changes: int = 0
    system_versions: set[str] = field(default_factory=set)
    change_times: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    routed: Counts = field(default_factory=Counts)
    """Requests a routing policy sent to another model than the app asked for."""
    unrouted: Counts = field(default_factory=Counts)
    routed_enforced_models: dict[str, int] = field(default_factory=dict)
    max_tokens_set: int = 0
    """Requests that carried an explicit ``max_tokens`` (all do on the Messages API; 0 = unknown)."""
    max_tokens_max: int = 0


@dataclass(slots=True)
class BatchPolls:
    """Retrieve calls seen as events for one batch (the hook records each poll)."""

    calls: int = 0
    rate_limited: int = 0
    first: float = 0.0
    last: float = 0.0


@dataclass(slots=True)
class PolicyTally:
    decisions: int = 0
    saving_micros: int = 0


def _epoch(ts: datetime) -> float:
    return ts.timestamp()


def _from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


PrefixTuple = tuple[str, str, int, bool, str | None]
"""(scope, sha256, tokens, breakpoint, ttl)."""

_PREFIX_MEMO_CAP = 50_000


class Aggregator:
    """Folds events and batch states from any sources into the counters every view is built from."""

    def __init__(
        self,
        *,
        minute_horizon: timedelta = timedelta(hours=48),
        dedupe_horizon: timedelta = timedelta(hours=48),
        prefix_cap: int = 20_000,
        batch_cap: int = 5_000,
        live_cap: int = 200,
        replay_cap: int = 200_000,
        detail_horizon: timedelta = timedelta(hours=24),
    ) -> None:
        self.minute_horizon = minute_horizon
        self._minute_horizon_s = minute_horizon.total_seconds()
        self.detail_horizon = detail_horizon
        self._dedupe_horizon_s = dedupe_horizon.total_seconds()
        self._prefix_cap = prefix_cap
        self._batch_cap = batch_cap
        self.minutes: dict[int, dict[Group, Counts]] = {}
        self.hours: dict[int, dict[Group, Counts]] = {}
        self.prefixes: dict[tuple[str | None, str], PrefixStats] = {}
        self.tasks: dict[str, TaskStats] = {}
        self.batches: dict[str, BatchState] = {}
        self.polls: dict[str, BatchPolls] = {}
        self.policy_tallies: dict[tuple[str, PolicyMode, int], PolicyTally] = {}
        """(policy, mode, month index ``year*12 + month - 1``) -> decisions and recorded savings."""
        self.live: deque[UsageEvent] = deque(maxlen=live_cap)
        self.recent: deque[Replayable] = deque(maxlen=replay_cap)
        """Billable events kept for what-if replays, in arrival order."""
        self.duplicates = 0
        self.bad_rows = 0
        self.events_folded = 0
        self.newest: float | None = None
        self.oldest: float | None = None
        self.generation = 0
        """Grows with every fold that changed something: cheap "is my cached view stale?" check."""
        self.detail_since: float | None = None
        """Epoch from which prefix, task and replay tables hold every event (``None``: all of them)."""
        self.deferred_depths: dict[str, int] = {}
        """Deferral-queue depth per source that reports one."""
        self._ids: dict[str, float] = {}
        self._ids_pruned_at = 0.0
        self._minutes_compacted_at = 0.0
        self._prefix_memo: dict[str, tuple[tuple[PrefixTuple, ...], tuple[ReplayedPrefix, ...]]] = {}
        self._groups_memo: dict[tuple[datetime | None, datetime | None], dict[Group, Counts]] = {}
        self._groups_generation = -1

    # --- folding ----------------------------------------------------------------------------

    def add(self, events: Iterable[UsageEvent]) -> int:
        """Fold events in; returns how many were new."""
        new = 0
        for e in events:
            prefixes = tuple((p.scope, p.sha256, p.tokens, p.breakpoint, p.ttl) for p in e.prefixes)
            if not self._fold(
                e.id,
                e.ts.timestamp(),
                e.model,
                e.task,
                e.app,
                e.host,
                e.api_key_fp,
                e.endpoint.value,
                e.is_batch,
                e.deferred,
                e.status,
                e.error_type,
                e.retries,
                e.input_tokens,
                e.output_tokens,
                e.cache_write_5m_tokens,
                e.cache_write_1h_tokens,
                e.cache_read_tokens,
                e.cost_micros,
                e.stop_reason,
                e.max_tokens,
                e.batch_id,
                e.requested_model,
                prefixes,
            ):
                continue
            new += 1
            if e.policies:
                self._tally_policies(e)
            self.live.append(e)
            if e.billable:  # the reduced form: a validated event weighs kilobytes, the ring holds many
                self.recent.append(
                    ReplayEvent(
                        e.ts, e.model, e.task, e.is_batch, e.input_tokens, e.output_tokens,
                        e.cache_write_5m_tokens, e.cache_write_1h_tokens, e.cache_read_tokens, e.cost_micros,
                        tuple(ReplayedPrefix(sha, tokens, ttl) for _s, sha, tokens, _b, ttl in prefixes),
                    )
                )  # fmt: skip
        self._housekeep()
        return new

    def add_rows(self, rows: Iterable[Sequence[Any]], *, counted: bool = True) -> int:
        """Fold rows in ``sources.history.ROW_COLUMNS`` order (the SQLite sink's ``events`` columns),
        without validating them into ``UsageEvent``\\ s: the fast path for history. Billable rows join
        the replay ring. With ``counted=False`` only the per-event tables are fed (the rows' sums came
        from SQL). Rows that cannot be read are skipped and counted in ``bad_rows``."""
        new = 0
        fold = self._fold
        parse = datetime.fromisoformat
        replay = self.recent.append
        for row in rows:
            (
                eid, ts, model, task, app, host, key, endpoint, tier, deferred, status, error, retries,
                inp, out, w5, w1, rd, cost, stop, max_tokens, batch_id, requested, text,
            ) = row  # fmt: skip
            try:
                when = parse(ts)
                prefixes, replayed = self._parse_prefixes(text)
            except (ValueError, TypeError, KeyError):
                self.bad_rows += 1
                continue
            batch = tier == "batch" or endpoint == "batch_result"
            if not fold(
                eid, when.timestamp(), model, task, app, host, key, endpoint, batch, bool(deferred), status,
                error, retries, inp, out, w5, w1, rd, cost, stop, max_tokens, batch_id, requested, prefixes,
                counted=counted,
            ):  # fmt: skip
                continue
            new += 1
            if endpoint in _BILLABLE:
                replay(ReplayEvent(when, model, task, batch, inp, out, w5, w1, rd, cost, replayed))
        self._housekeep()
        return new

    def add_history(self, history: History, source: str = "history") -> None:
        """Fold a source's pre-aggregated history (``claudetop.sources.history``): a sink's from SQL
        (``sources.sink_history``), Claude Code's from its checkpoint (``ClaudeCodeSource.take_history``).

        Call it once per source, before folding anything newer from it."""
        if not history.events:
            return
        self.events_folded += history.events
        for edge in (history.oldest, history.newest):
            if edge is not None:
                self.oldest = edge if self.oldest is None else min(self.oldest, edge)
                self.newest = edge if self.newest is None else max(self.newest, edge)
        for start, minute, model, task, app, host, key, endpoint, tier, *sums in history.buckets:
            events, errors, retried, inp, out, w5, w1, rd, cost, unpriced, stops, deferred = sums
            batch = tier == "batch" or endpoint == "batch_result"
            group: Group = (model, task, app, host, key, batch)
            table = self.minutes if minute else self.hours
            buckets = table.setdefault(int(start // (60 if minute else 3600)), {})
            if endpoint in _BILLABLE:
                c = Counts(
                    events, events, errors, retried, inp, out, w5, w1, rd, cost, unpriced, stops,
                    events if batch else 0, deferred,
                )  # fmt: skip
            else:
                c = Counts(api_calls=events, errors=errors)
            into = buckets.get(group)
            if into is None:
                buckets[group] = c
            else:
                into.merge(c)
        for batch_id, calls, limited, first, last in history.polls:
            p = self.polls.get(batch_id)
            if p is None:
                p = self.polls[batch_id] = BatchPolls(first=first, last=last)
            p.calls += calls
            p.rate_limited += limited
            p.first, p.last = min(p.first, first), max(p.last, last)
        for policy, mode, month, decisions, saving in history.tallies:
            try:
                tally = self.policy_tallies.setdefault((policy, PolicyMode(mode), month), PolicyTally())
            except ValueError:
                continue
            tally.decisions += decisions
            tally.saving_micros += saving
        if history.newest is not None:
            since = history.newest - self.detail_horizon.total_seconds()
            self.detail_since = since if self.detail_since is None else max(self.detail_since, since)
        self.add_rows(history.detail, counted=False)
        for e in history.live:
            self.live.append(e)
        if history.deferred_queue_depth is not None:
            self.deferred_depths[source] = history.deferred_queue_depth
        self.generation += 1

    def set_deferred_depth(self, source: str, depth: int | None) -> None:
        """Record a source's deferral-queue depth (``SourceDelta.deferred_queue_depth``)."""
        if depth is not None:
            self.deferred_depths[source] = depth
            self.generation += 1

    @property
    def deferred_queue_depth(self) -> int | None:
        return sum(self.deferred_depths.values()) if self.deferred_depths else None

    def _parse_prefixes(self, text: str | None) -> tuple[tuple[PrefixTuple, ...], tuple[ReplayedPrefix, ...]]:
        """A row's prefixes as fold tuples and as replay objects, memoised: most rows share a few sets."""
        if not text or text == "[]":
            return (), ()
        memo = self._prefix_memo
        parsed = memo.get(text)
        if parsed is None:
            tuples = tuple(
                (p["scope"], p["sha256"], p["tokens"], p.get("breakpoint", False), p.get("ttl"))
                for p in json.loads(text)
            )
            parsed = (tuples, tuple(ReplayedPrefix(sha, tokens, ttl) for _s, sha, tokens, _b, ttl in tuples))
            if len(memo) >= _PREFIX_MEMO_CAP:
                memo.clear()
            memo[text] = parsed
        return parsed

    def add_batches(self, states: Iterable[BatchState]) -> None:
        """Keep the newest state per batch (by ``updated_at``)."""
        for s in states:
            old = self.batches.get(s.id)
            if old is None or s.updated_at >= old.updated_at:
                self.batches[s.id] = s
        if len(self.batches) > self._batch_cap:
            keep = sorted(self.batches.values(), key=lambda b: b.updated_at, reverse=True)[: self._batch_cap]
            self.batches = {b.id: b for b in keep}
        self.generation += 1

    def _fold(
        self,
        eid: str,
        epoch: float,
        model: str | None,
        task: str | None,
        app: str | None,
        host: str | None,
        key: str | None,
        endpoint: str,
        batch: bool,
        deferred: bool,
        status: int | None,
        error: str | None,
        retries: int,
        inp: int,
        out: int,
        w5: int,
        w1: int,
        rd: int,
        cost: int | None,
        stop: str | None,
        max_tokens: int | None,
        batch_id: str | None,
        requested_model: str | None,
        prefixes: tuple[PrefixTuple, ...],
        *,
        counted: bool = True,
    ) -> bool:
        """Fold one event; ``False`` for a duplicate. ``counted=False`` feeds only the per-event tables."""
        ids = self._ids
        if eid in ids:
            self.duplicates += 1
            return False
        ids[eid] = epoch
        if not counted:
            if endpoint in _BILLABLE:
                self._detail(epoch, model, task, status, error, retries, w5, w1, rd, stop, max_tokens,
                             requested_model, prefixes)  # fmt: skip
            return True
        c = self._counts_at(epoch, (model, task, app, host, key, batch))
        c.api_calls += 1
        failed = error is not None or (status is not None and status >= 400)
        if failed:
            c.errors += 1
        if endpoint not in _BILLABLE:
            if endpoint == "batch_retrieve" and batch_id is not None:
                self._poll(batch_id, epoch, status)
            return True
        if retries:
            c.retried += 1
        c.add_request(inp, out, w5, w1, rd, cost)
        if stop == "max_tokens":
            c.max_tokens_stops += 1
        if batch:
            c.batch_requests += 1
        if deferred:
            c.deferred += 1
        self._detail(epoch, model, task, status, error, retries, w5, w1, rd, stop, max_tokens,
                     requested_model, prefixes)  # fmt: skip
        return True

    def _counts_at(self, epoch: float, group: Group) -> Counts:
        """The counters of ``group`` in the bucket of a newly folded event at ``epoch``."""
        self.events_folded += 1
        if self.newest is None or epoch > self.newest:
            self.newest = epoch
        if self.oldest is None or epoch < self.oldest:
            self.oldest = epoch
        minute = int(epoch // 60)
        if self.newest - epoch <= self._minute_horizon_s:
            buckets = self.minutes.setdefault(minute, {})
        else:
            buckets = self.hours.setdefault(minute // 60, {})
        c = buckets.get(group)
        if c is None:
            c = buckets[group] = Counts()
        return c

    def _detail(
        self,
        epoch: float,
        model: str | None,
        task: str | None,
        status: int | None,
        error: str | None,
        retries: int,
        w5: int,
        w1: int,
        rd: int,
        stop: str | None,
        max_tokens: int | None,
        requested_model: str | None,
        prefixes: tuple[PrefixTuple, ...],
    ) -> None:
        """The per-event tables of a billable event: its task and its prefixes."""
        if task is not None:
            failed = error is not None or (status is not None and status >= 400)
            self._task(task, epoch, model, requested_model, prefixes, failed, retries, stop, max_tokens)
        if prefixes:
            self._prefixes(model, task, epoch, prefixes, w5, w1, rd)

    def _task(
        self,
        task: str,
        epoch: float,
        model: str | None,
        requested_model: str | None,
        prefixes: tuple[PrefixTuple, ...],
        failed: bool,
        retries: int,
        stop: str | None,
        max_tokens: int | None,
    ) -> None:
        t = self.tasks.get(task)
        if t is None:
            t = self.tasks[task] = TaskStats(task=task, first_seen=epoch, last_seen=epoch)
        t.requests += 1
        t.first_seen = min(t.first_seen, epoch)
        if epoch >= t.last_seen:
            t.last_seen = epoch
            for scope, sha, *_ in prefixes:
                if scope == "system":
                    if t.system_sha is not None and sha != t.system_sha:
                        t.system_changes += 1
                        t.change_times.append(epoch)
                    t.system_sha = sha
                    if len(t.system_versions) < 1_000:
                        t.system_versions.add(sha)
                    break
        routed = requested_model is not None and model is not None and requested_model != model
        q = t.routed if routed else t.unrouted
        q.requests += 1
        if failed:
            q.errors += 1
        if retries:
            q.retried += 1
        if stop == "max_tokens":
            q.max_tokens_stops += 1
        if max_tokens is not None:
            t.max_tokens_set += 1
            t.max_tokens_max = max(t.max_tokens_max, max_tokens)

    def _prefixes(
        self,
        model: str | None,
        task: str | None,
        epoch: float,
        prefixes: tuple[PrefixTuple, ...],
        w5: int,
        w1: int,
        rd: int,
    ) -> None:
        """Attribute the event's cache reads and writes to its prefixes by length: the cache reads the
        longest cached prefix and writes up to the last breakpoint, so a prefix no longer than the
        read tokens was read, and one within read + write tokens was written."""
        written = rd + w5 + w1
        for scope, sha, tokens, _breakpoint, ttl in prefixes:
            key = (model, sha)
            p = self.prefixes.get(key)
            if p is None:
                p = self.prefixes[key] = PrefixStats(
                    model=model, sha256=sha, scope=scope, tokens=tokens, task=task, ttl=ttl, first_seen=epoch
                )
            gap = epoch - p.last_seen if p.seen else None
            p.seen += 1
            p.first_seen = min(p.first_seen, epoch)
            p.last_seen = max(p.last_seen, epoch)
            if rd and tokens <= rd:
                p.reads += 1
            elif (w5 or w1) and tokens <= written:
                one_hour = ttl == "1h" or (ttl is None and w1 > 0 and w5 == 0)
                if one_hour:
                    p.writes_1h += 1
                else:
                    p.writes_5m += 1
                if p.ttl is None:
                    p.ttl = "1h" if one_hour else "5m"
                if gap is not None and gap > _TTL_S["1h" if one_hour else "5m"]:
                    p.rewrites_after_gap += 1
                    if not one_hour and gap <= _TTL_S["1h"]:
                        p.rewrites_gap_under_1h += 1

    def _poll(self, batch_id: str, epoch: float, status: int | None) -> None:
        p = self.polls.get(batch_id)
        if p is None:
            p = self.polls[batch_id] = BatchPolls(first=epoch, last=epoch)
        p.calls += 1
        p.first = min(p.first, epoch)
        p.last = max(p.last, epoch)
        if status == 429:
            p.rate_limited += 1

    def _tally_policies(self, e: UsageEvent) -> None:
        month = e.ts.year * 12 + e.ts.month - 1
        for d in e.policies:
            tally = self.policy_tallies.setdefault((d.policy, d.mode, month), PolicyTally())
            tally.decisions += 1
            tally.saving_micros += d.saving_micros or 0

    def _housekeep(self) -> None:
        """Bound memory: old minute buckets fold into hours, old ids and cold prefixes are dropped."""
        self.generation += 1
        newest = self.newest
        if newest is None:
            return
        if newest - self._minutes_compacted_at >= 600:
            self._minutes_compacted_at = newest
            limit = int((newest - self._minute_horizon_s) // 60)
            for minute in [m for m in self.minutes if m < limit]:
                hour = self.hours.setdefault(minute // 60, {})
                for group, c in self.minutes.pop(minute).items():
                    into = hour.get(group)
                    if into is None:
                        hour[group] = c
                    else:
                        into.merge(c)
        if newest - self._ids_pruned_at >= 600:
            self._ids_pruned_at = newest
            cutoff = newest - self._dedupe_horizon_s
            ids = self._ids
            old = []
            for k, v in ids.items():
                if v >= cutoff:
                    break
                old.append(k)
            for k in old:
                del ids[k]
        if len(self.prefixes) > self._prefix_cap * 5 // 4:
            keep = sorted(self.prefixes.items(), key=lambda kv: kv[1].last_seen, reverse=True)
            self.prefixes = dict(keep[: self._prefix_cap])
        for table in (self.polls,):
            if len(table) > self._batch_cap * 5 // 4:
                keep_polls = sorted(table.items(), key=lambda kv: kv[1].last, reverse=True)[: self._batch_cap]
                table.clear()
                table.update(keep_polls)

    # --- reading ----------------------------------------------------------------------------

    def buckets(
        self, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[tuple[float, dict[Group, Counts]]]:
        """(bucket start epoch, groups) for every bucket starting in ``[start, end)``; hour buckets hold
        only data older than the minute horizon, so no event is counted twice."""
        lo = start.timestamp() if start else float("-inf")
        hi = end.timestamp() if end else float("inf")
        for hour, groups in self.hours.items():
            t = hour * 3600.0
            if lo <= t < hi:
                yield t, groups
        for minute, groups in self.minutes.items():
            t = minute * 60.0
            if lo <= t < hi:
                yield t, groups

    def window(
        self, start: datetime | None = None, end: datetime | None = None, by: tuple[str, ...] = ()
    ) -> dict[tuple[Any, ...], Counts]:
        """Counts of events in ``[start, end)`` grouped by any of ``DIMENSIONS`` (``()`` = one total).

        Resolution is a minute within the minute horizon and an hour before it."""
        idx = tuple(DIMENSIONS.index(d) for d in by)
        out: dict[tuple[Any, ...], Counts] = {}
        for group, c in self._groups(start, end).items():
            k = tuple(group[i] for i in idx)
            into = out.get(k)
            if into is None:
                into = out[k] = Counts()
            into.merge(c)
        return out

    def _groups(self, start: datetime | None, end: datetime | None) -> dict[Group, Counts]:
        """Counts per full group of the buckets in ``[start, end)``, remembered until the next fold: a
        report asks for the same period under a dozen groupings, each then a pass over a few groups
        instead of over every bucket."""
        key = (start, end)
        if self._groups_generation != self.generation:
            self._groups_memo.clear()
            self._groups_generation = self.generation
        out = self._groups_memo.get(key)
        if out is not None:
            return out
        out = {}
        for _t, groups in self.buckets(start, end):
            for group, c in groups.items():
                into = out.get(group)
                if into is None:
                    into = out[group] = Counts()
                into.merge(c)
        if len(self._groups_memo) >= 8:
            self._groups_memo.clear()
        self._groups_memo[key] = out
        return out

    def total(self, start: datetime | None = None, end: datetime | None = None) -> Counts:
        return self.window(start, end).get((), Counts())

    def series(self, start: datetime, end: datetime, step_s: int) -> list[tuple[datetime, Counts]]:
        """Counts per ``step_s`` bucket from ``start`` (inclusive) to ``end``, empty buckets included."""
        lo = start.timestamp()
        n = max(0, int((end.timestamp() - lo + step_s - 1) // step_s))
        slots = [Counts() for _ in range(n)]
        for t, groups in self.buckets(start, end):
            slot = slots[int((t - lo) // step_s)]
            for c in groups.values():
                slot.merge(c)
        return [(_from_epoch(lo + i * step_s), c) for i, c in enumerate(slots)]

    @property
    def span(self) -> timedelta:
        """Time between the oldest and newest event folded."""
        if self.newest is None or self.oldest is None:
            return timedelta(0)
        return timedelta(seconds=self.newest - self.oldest)

    def recent_events(self, start: datetime, end: datetime | None = None) -> list[Replayable]:
        """Billable events in ``[start, end)`` still held for replays, oldest first."""
        return sorted(
            (e for e in self.recent if e.ts >= start and (end is None or e.ts < end)), key=lambda e: e.ts
        )


def label(value: str | None) -> str:
    """How a missing model or task is shown."""
    return _NONE if value is None else value
