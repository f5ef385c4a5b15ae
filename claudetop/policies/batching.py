"""Batch deferral: ``deferrable(client).messages.create(...)`` returns a handle instead of a message.

With the batching policy ``off`` (or ``shadow``) the request runs at once, as a normal call, and the
handle is already resolved. With it enforced the request goes into the sink's ``deferred_requests``
table; a worker thread submits queued requests as one Message Batch when ``batching.batch_size`` are
waiting or the oldest has waited ``batching.max_wait_s``, polls each batch with exponential backoff
and jitter (honouring ``retry-after``), and when it ends records every result at batch prices and
resolves the handles.

Several queues may share one sink: processes of one application, a forked child (multiprocessing,
a pre-fork server), the process that replaced a crashed one. A request belongs to the queue that
queued it (``claudetop.policies.queue_owners``). Only that queue submits it, polls its batch and
collects its result, so a handle is resolved in the process that made it, and each batch has one
poller however many processes share the sink. When a queue is gone (its process ended, or it was
closed), the next live queue to look at the sink adopts its requests: within ``IDLE_S`` if one is
running. It submits and polls them and records their results. Their handles went with the queue.

Nothing is lost or counted twice across a crash. A request is durable before ``create`` returns; its
``custom_id`` is its row id; a result's event id is derived from batch id + custom id, and the events
table ignores an id it already has. Requests a dead queue had claimed for a batch whose ``create``
never returned go back to the queue when they are adopted. If that batch did reach the server, it is
never polled, so its results are not recorded (they may be billed: the one window not closed).

Prompt text is held in the sink only while a request waits to be submitted; it is cleared once its
batch exists.

``fork()``: the queue's SQLite work is done in ``sqlite_work`` sections, so a fork waits for it. A
forked child leaves the parent's connections alone (``forksafe.leave_inherited``) and opens its own.
It closes its copy of the parent's owner lock, so the parent still owns, and resolves, what it
queued. It starts with fresh locks, no handles and no worker thread. On its first ``enqueue`` it
becomes an owner of its own and, if the parent had a worker, starts one.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, overload

import anthropic

from claudetop._warn import warn_once
from claudetop.config import Config, load_config, sink_target
from claudetop.model import (
    BatchState,
    BatchStatus,
    Endpoint,
    PolicyDecision,
    PolicyMode,
    PolicyName,
    UsageEvent,
)
from claudetop.policies.engine import DEFERRABLE_REQUEST, PolicyEngine
from claudetop.policies.queue_owners import Owner, dead_owners
from claudetop.policies.store import PolicyStore
from claudetop.sinks import SQLiteSink, connect_sqlite
from claudetop.sinks.forksafe import leave_inherited, on_fork_in_child, sqlite_work
from claudetop.sinks.schema import format_ts, immediate_transaction
from claudetop.sinks.sqlite import with_busy_retry

CLAIM_TIMEOUT_S = 600.0
"""A queue's own claim older than this was left by a submission that failed half-way (a dead queue's
claims are released when its requests are adopted)."""

SUBMIT_RETRY_S = 30.0
"""After a failed ``batches.create`` the claimed requests go back to the queue and wait this long."""

_UNDONE = "state IN ('queued', 'submitting', 'submitted')"
"""Requests whose result is not recorded yet (an index range, where ``state != 'done'`` is a scan)."""

IDLE_S = 60.0
"""Longest the worker sleeps with nothing due: another queue on the sink may have died, leaving its
requests to adopt."""


class Clock(Protocol):
    """Time for the worker: ``claudetop.simulate.SimClock`` fits, so does ``WallClock``."""

    def now(self) -> float: ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool: ...


class WallClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is not None:
            return stop.wait(max(0.0, seconds))
        time.sleep(max(0.0, seconds))
        return False


class DeferredRequestFailed(RuntimeError):
    """The batch returned this request as errored, canceled or expired."""

    def __init__(self, request_id: str, kind: str, detail: Any = None) -> None:
        super().__init__(f"deferred request {request_id} {kind}" + (f": {detail}" if detail else ""))
        self.request_id = request_id
        self.kind = kind
        self.detail = detail


class DeferralQueueClosed(RuntimeError):
    """``enqueue`` on a closed queue: nothing would submit the request or resolve its handle."""


class DeferredHandle:
    """The future result of one ``messages.create`` made through ``deferrable``.

    ``result(timeout)`` blocks; ``await handle`` works from async code. ``deferred`` says whether
    the request went through a batch or ran at once.
    """

    def __init__(self, request_id: str, deferred: bool) -> None:
        self.id = request_id
        self.deferred = deferred
        self._future: Future[Any] = Future()

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> Any:
        return self._future.result(timeout)

    def __await__(self) -> Generator[Any, None, Any]:
        return asyncio.wrap_future(self._future).__await__()


def poll_delay(attempt: int, interval_s: float, cap_s: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half the step fixed, half random, never above the cap."""
    step = min(cap_s, interval_s * 2.0**attempt)
    return step / 2 + rng.uniform(0, step / 2)


def retry_after_s(err: anthropic.APIStatusError) -> float | None:
    value = err.response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def result_event_id(batch_id: str, custom_id: str) -> str:
    return f"batch:{batch_id}:{custom_id}"


def usage_tokens(usage: Any) -> dict[str, int]:
    """``UsageEvent`` token fields from an Anthropic ``Usage`` (cache writes split 5m/1h when reported)."""
    split = getattr(usage, "cache_creation", None)
    written = usage.cache_creation_input_tokens or 0
    write_1h = (split.ephemeral_1h_input_tokens or 0) if split is not None else 0
    return {
        "input_tokens": usage.input_tokens or 0,
        "output_tokens": usage.output_tokens or 0,
        "cache_read_tokens": usage.cache_read_input_tokens or 0,
        "cache_write_1h_tokens": write_1h,
        "cache_write_5m_tokens": max(0, written - write_1h),
    }


@dataclass
class _Poll:
    due: float
    attempt: int = 0
    retrieves: int = 0
    created_at: float | None = None


@dataclass
class _Row:
    id: str
    task: str | None
    app: str | None
    model: str | None
    policies: tuple[PolicyDecision, ...]


@dataclass
class _ResultBatch:
    events: list[UsageEvent] = field(default_factory=list)
    outcomes: dict[str, tuple[bool, Any]] = field(default_factory=dict)


class DeferralQueue:
    """The durable queue over one sink, and the worker that turns it into Message Batches.

    ``step()`` does whatever is due and returns the seconds until something next is; ``start()``
    runs it on a daemon thread. ``client`` is a synchronous ``anthropic.Anthropic`` used as given (pass
    one without claudetop's hook: the queue records batch states and results itself).
    """

    def __init__(
        self,
        sink: str | Path,
        client: anthropic.Anthropic,
        config: Config,
        *,
        clock: Clock | None = None,
        engine: PolicyEngine | None = None,
        seed: int | None = None,
    ) -> None:
        self.path = Path(sink).absolute()  # an app that changes directory still finds its owners
        self.client = client.with_options(max_retries=0)
        self.config = config
        self.clock: Clock = clock or WallClock()
        self.engine = engine
        self._rng = random.Random(seed)
        self._conn: sqlite3.Connection | None = None
        self._sink: SQLiteSink | None = None
        self._closed = False
        self._worker = False
        """Whether ``start`` was called: a forked child then starts a worker of its own."""
        self._reset()
        with self._lock, sqlite_work():  # opened now, so that a sink that cannot be opened fails here
            self._connection()
            self._events_sink()
        # Registered first: a fork right after the owner lock is taken must not leave the child with it.
        on_fork_in_child(self._after_fork_in_child)
        self._me()  # and the owner lock, next to the sink

    def _reset(self) -> None:
        """What belongs to one process: the owner, the locks, the worker thread, the handles it
        resolves, the polling schedule. A forked child sets them up anew (a lock could be held by a
        thread it lacks; the parent's requests are the parent's)."""
        self._owner: Owner | None = None
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._polls: dict[str, _Poll] = {}
        self._handles: dict[str, DeferredHandle] = {}
        self._submit_not_before = 0.0
        self._next_claim_check = float("-inf")

    # --- the app side ------------------------------------------------------------------------

    def enqueue(self, params: dict[str, Any], *, task: str | None = None) -> DeferredHandle:
        """Durably queue one request (after the enforced policies applied to it); returns its handle."""
        decisions: tuple[PolicyDecision, ...] = ()
        if self.engine is not None:
            outcome = self.engine.decide(params, task, params.get("model"))
            params, decisions = outcome.body, outcome.decisions
        decisions = (
            *decisions,
            PolicyDecision(
                policy=PolicyName.BATCHING.value,
                mode=PolicyMode.ENFORCE,
                action="defer",
                changed_request=True,
            ),
        )
        request_id = f"dfr_{uuid.uuid4().hex}"
        handle = DeferredHandle(request_id, deferred=True)
        row = (
            request_id,
            self._me(),
            format_ts(_ts(self.clock.now())),
            self.config.app,
            task,
            params.get("model"),
            json.dumps(params, separators=(",", ":")),
            json.dumps([d.model_dump(mode="json") for d in decisions], separators=(",", ":")),
        )
        with self._lock:
            if self._closed:
                raise DeferralQueueClosed(f"the deferral queue on {self.path} is closed")
            self._write(
                "INSERT INTO deferred_requests (id, owner, created_at, app, task, model, params, policies, "
                "state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued')",
                row,
            )
            self._handles[request_id] = handle
            if self._worker:
                self.start()  # a no-op but in a forked child: its handles need a worker of its own
        self._wake.set()
        return handle

    def queued(self) -> int:
        """Requests waiting for a batch in the sink, whichever queue owns them."""
        with self._sqlite() as conn:
            n: int = conn.execute(
                "SELECT count(*) FROM deferred_requests WHERE state IN ('queued', 'submitting')"
            ).fetchone()[0]
        return n

    def pending(self) -> int:
        """Requests in the sink not yet recorded, whichever queue owns them: queued, being submitted,
        or in a batch."""
        with self._sqlite() as conn:
            row = conn.execute(f"SELECT count(*) FROM deferred_requests WHERE {_UNDONE}").fetchone()
        n: int = row[0]
        return n

    # --- the worker --------------------------------------------------------------------------

    def start(self) -> None:
        """Run the worker on a daemon thread."""
        with self._lock:
            self._worker = True
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="claudetop-deferral", daemon=True)
                self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker. What is queued or in flight stays in the sink for another queue to adopt,
        once the worker has stopped; the handles still waiting for it fail with
        ``DeferredRequestFailed`` rather than wait for ever. A worker still busy past ``timeout``
        (inside ``batches.create``, say) finishes that step first and then shuts the queue down
        itself: closing the sink under it would lose the batch it is creating, and the adopter would
        submit its requests again."""
        with self._lock:
            self._closed = True
            worker = self._thread
        self._wake.set()
        if worker is None:
            self._shut()
        else:
            worker.join(timeout)
        with self._lock:
            left, self._handles = self._handles, {}
        for request_id, handle in left.items():
            handle._future.set_exception(
                DeferredRequestFailed(
                    request_id,
                    "not resolved: its queue was closed",
                    "another process on the sink will submit it and record its result",
                )
            )

    def _shut(self) -> None:
        """Close the connections and end this owner, whose unfinished requests are then adopted."""
        with self._lock, sqlite_work():
            for handle in (self._conn, self._sink):
                if handle is not None:
                    handle.close()
            if self._owner is not None:
                self._owner.release()

    def _after_fork_in_child(self) -> None:
        """The parent's connections are neither used nor closed here; this process opens its own. Its
        copy of the parent's owner lock is closed (the parent keeps the lock: ``Owner.release``), and
        it becomes an owner of its own on first use."""
        leave_inherited(self._conn, self._sink)
        if self._owner is not None:
            self._owner.release()
        self._conn = self._sink = None
        self._reset()

    def _run(self) -> None:
        while not self._closed:
            try:
                delay = self.step()
            except (sqlite3.Error, anthropic.APIError, OSError):
                delay = SUBMIT_RETRY_S
            self._wake.clear()
            if not self._closed:  # checked after clearing: a close from now on sets the event again
                self.clock.sleep(min(max(delay, 0.0), IDLE_S), self._wake)
        self._shut()

    def step(self, *, flush: bool = False) -> float:
        """Submit what is due (everything queued if ``flush``), poll what is due; seconds to the next due."""
        now = self.clock.now()
        with self._lock, sqlite_work():  # a fork waits, as in ``_me``
            if self._owner is not None:
                self._owner.keep_visible()
        self._release_stale_claims(now)
        self._adopt_orphans(now)
        next_submit = self._submit_due(now, flush)
        next_poll = self._poll_due()
        return max(0.0, min(next_submit, next_poll) - self.clock.now())

    def flush(self) -> None:
        """Submit everything this queue owns now, regardless of size and wait."""
        self.step(flush=True)

    # --- submitting --------------------------------------------------------------------------

    def _submit_due(self, now: float, flush: bool) -> float:
        batching = self.config.batching
        while not self._closed:  # a closed queue finishes what it is submitting, and no more
            with self._sqlite() as conn:
                count, oldest = conn.execute(
                    "SELECT count(*), min(created_at) FROM deferred_requests "
                    "WHERE owner = ? AND state = 'queued'",
                    (self._me(),),
                ).fetchone()
            if not count:
                return float("inf")
            oldest_s = datetime.fromisoformat(oldest.replace("Z", "+00:00")).timestamp()
            wait_until = oldest_s + batching.max_wait_s
            if not flush and count < batching.batch_size and now < wait_until:
                return wait_until
            if now < self._submit_not_before:
                return self._submit_not_before
            if not self._submit_one(now):
                self._submit_not_before = now + SUBMIT_RETRY_S
                return self._submit_not_before
        return float("inf")

    def _submit_one(self, now: float) -> bool:
        claimed_at = format_ts(_ts(now))

        def claim() -> list[sqlite3.Row]:
            with self._sqlite() as db, immediate_transaction(db) as conn:
                rows = conn.execute(
                    "SELECT id, params FROM deferred_requests WHERE owner = ? AND state = 'queued' "
                    "ORDER BY created_at, id LIMIT ?",
                    (self._me(), self.config.batching.batch_size),
                ).fetchall()
                conn.executemany(
                    "UPDATE deferred_requests SET state = 'submitting', claimed_at = ? WHERE id = ?",
                    [(claimed_at, r["id"]) for r in rows],
                )
                return rows

        rows = with_busy_retry(claim, 30.0)
        ids = [r["id"] for r in rows]
        try:
            batch = self.client.messages.batches.create(
                requests=[{"custom_id": r["id"], "params": json.loads(r["params"])} for r in rows]
            )
        except (anthropic.APIError, OSError):
            self._write_many(
                "UPDATE deferred_requests SET state = 'queued', claimed_at = NULL WHERE id = ?",
                [(i,) for i in ids],
            )
            return False
        self._write_many(
            "UPDATE deferred_requests SET state = 'submitted', batch_id = ?, params = NULL WHERE id = ?",
            [(batch.id, i) for i in ids],
        )
        with self._lock:
            self._polls[batch.id] = _Poll(
                due=now + poll_delay(0, self.config.batching.poll_interval_s, self._cap, self._rng),
                created_at=_epoch(batch.created_at),
            )
        self._record(states=[self._state(batch, 0)])
        return True

    def _release_stale_claims(self, now: float) -> None:
        if now < self._next_claim_check:
            return
        self._next_claim_check = now + CLAIM_TIMEOUT_S / 2
        cutoff = format_ts(_ts(now - CLAIM_TIMEOUT_S))
        self._write(
            "UPDATE deferred_requests SET state = 'queued', claimed_at = NULL "
            "WHERE owner = ? AND state = 'submitting' AND claimed_at < ?",
            (self._me(), cutoff),
        )

    def _adopt_orphans(self, now: float) -> None:
        """Take over the requests of queues that are gone, and of rows from before owners existed:
        nobody else would ever submit, poll or record them. A dead queue's claims go back to the
        queue, because it never records the batch it may have been creating. A claim with no owner
        is released only once older than ``CLAIM_TIMEOUT_S``: the claudetop that made it has no lock
        to say it is gone, and may still be inside ``batches.create``."""
        me = self._me()
        cutoff = format_ts(_ts(now - CLAIM_TIMEOUT_S))
        adoptable = f"{_UNDONE} AND (owner IS NOT NULL OR state != 'submitting' OR claimed_at < ?)"
        # In a ``sqlite_work`` section: a child forked meanwhile would keep a dead owner's lock held.
        with self._sqlite() as conn, dead_owners(self.path, me) as gone:
            orphans: list[str | None] = list(gone)
            unowned = conn.execute(
                f"SELECT EXISTS (SELECT 1 FROM deferred_requests WHERE owner IS NULL AND {adoptable})",
                (cutoff,),
            ).fetchone()[0]
            if unowned:
                orphans.append(None)
            self._write_many(
                "UPDATE deferred_requests SET owner = ?, "
                "state = CASE state WHEN 'submitting' THEN 'queued' ELSE state END, "
                "claimed_at = CASE state WHEN 'submitting' THEN NULL ELSE claimed_at END "
                f"WHERE owner IS ? AND {adoptable}",
                [(me, orphan, cutoff) for orphan in orphans],
            )

    def _me(self) -> str:
        """This queue's owner token; a forked child's queue makes its own on first use."""
        with self._lock:
            if self._owner is None:
                with sqlite_work():  # a fork waits: a child must not get the lock without its owner
                    self._owner = Owner(self.path)
            return self._owner.token

    # --- polling -----------------------------------------------------------------------------

    @property
    def _cap(self) -> float:
        return self.config.batching.backoff_cap_s

    def _poll_due(self) -> float:
        with self._sqlite() as conn:
            in_flight = [
                r[0]
                for r in conn.execute(
                    "SELECT DISTINCT batch_id FROM deferred_requests WHERE owner = ? AND state = 'submitted'",
                    (self._me(),),
                ).fetchall()
            ]
            for batch_id in in_flight:
                self._polls.setdefault(batch_id, _Poll(due=self.clock.now()))
            for gone in set(self._polls) - set(in_flight):
                del self._polls[gone]
        for batch_id in in_flight:
            if self._polls[batch_id].due <= self.clock.now():
                self._poll(batch_id)
        with self._lock:
            return min((p.due for p in self._polls.values()), default=float("inf"))

    def _poll(self, batch_id: str) -> None:
        poll = self._polls[batch_id]
        poll.retrieves += 1
        try:
            batch = self.client.messages.batches.retrieve(batch_id)
        except anthropic.APIStatusError as err:
            self._back_off(poll, retry_after_s(err))
            return
        except (anthropic.APIConnectionError, OSError):
            self._back_off(poll)
            return
        self._record(states=[self._state(batch, poll.retrieves)])
        if batch.processing_status != "ended":
            self._back_off(poll)
            return
        try:
            self._collect(batch_id)
        except (anthropic.APIError, OSError):
            self._back_off(poll)

    def _back_off(self, poll: _Poll, at_least_s: float | None = None) -> None:
        poll.attempt += 1
        delay = poll_delay(poll.attempt, self.config.batching.poll_interval_s, self._cap, self._rng)
        poll.due = self.clock.now() + max(delay, at_least_s or 0.0)

    def _collect(self, batch_id: str) -> None:
        with self._sqlite() as conn:
            rows = {
                r["id"]: _Row(
                    id=r["id"],
                    task=r["task"],
                    app=r["app"],
                    model=r["model"],
                    policies=tuple(PolicyDecision.model_validate(d) for d in json.loads(r["policies"])),
                )
                for r in conn.execute(
                    "SELECT id, task, app, model, policies FROM deferred_requests "
                    "WHERE batch_id = ? AND state = 'submitted'",
                    (batch_id,),
                )
            }
        collected = _ResultBatch()
        now = _ts(self.clock.now())
        for item in self.client.messages.batches.results(batch_id):
            row = rows.get(item.custom_id)
            if row is None:
                continue
            collected.events.append(self._result_event(batch_id, row, item.result, now))
            result = item.result
            if result.type == "succeeded":
                collected.outcomes[row.id] = (True, result.message)
            else:
                collected.outcomes[row.id] = (False, getattr(result, "error", None))
        self._record(events=collected.events)
        self._write_many(
            "UPDATE deferred_requests SET state = 'done', event_id = ? WHERE id = ?",
            [(result_event_id(batch_id, i), i) for i in collected.outcomes],
        )
        missing = set(rows) - set(collected.outcomes)
        self._write_many(
            "UPDATE deferred_requests SET state = 'done' WHERE id = ? AND batch_id = ?",
            [(i, batch_id) for i in missing],
        )
        with self._lock:
            self._polls.pop(batch_id, None)
            for request_id, (ok, value) in collected.outcomes.items():
                handle = self._handles.pop(request_id, None)
                if handle is None:
                    continue
                if ok:
                    handle._future.set_result(value)
                else:
                    handle._future.set_exception(DeferredRequestFailed(request_id, "errored", value))
            for request_id in missing:
                handle = self._handles.pop(request_id, None)
                if handle is not None:
                    handle._future.set_exception(
                        DeferredRequestFailed(request_id, "missing from batch results")
                    )

    def _result_event(self, batch_id: str, row: _Row, result: Any, now: datetime) -> UsageEvent:
        fields: dict[str, Any] = {
            "id": result_event_id(batch_id, row.id),
            "ts": now,
            "app": row.app,
            "task": row.task,
            "endpoint": Endpoint.BATCH_RESULT,
            "requested_model": row.model,
            "model": row.model,
            "batch_id": batch_id,
            "custom_id": row.id,
            "deferred": True,
            "service_tier": "batch",
            "policies": row.policies,
        }
        if result.type == "succeeded":
            message = result.message
            fields.update(usage_tokens(message.usage), model=message.model, stop_reason=message.stop_reason)
        else:
            fields["error_type"] = result.type if result.type != "errored" else _error_type(result)
        event = UsageEvent(**fields)
        if self.engine is None:
            return event
        book = self.engine.pricebook
        cost = book.cost(event)
        standard = book.cost(event.model_copy(update={"service_tier": None, "endpoint": Endpoint.MESSAGES}))
        saving = None if cost is None or standard is None else standard - cost
        policies = tuple(
            d.model_copy(update={"saving_micros": saving}) if d.policy == PolicyName.BATCHING.value else d
            for d in event.policies
        )
        return event.model_copy(update={"cost_micros": cost, "policies": policies})

    def _state(self, batch: Any, retrieves: int) -> BatchState:
        counts = batch.request_counts
        return BatchState(
            id=batch.id,
            status=BatchStatus(batch.processing_status),
            processing=counts.processing,
            succeeded=counts.succeeded,
            errored=counts.errored,
            canceled=counts.canceled,
            expired=counts.expired,
            created_at=batch.created_at,
            ended_at=batch.ended_at,
            expires_at=batch.expires_at,
            updated_at=_ts(self.clock.now()),
            retrieve_calls=retrieves,
            deferred=True,
            app=self.config.app,
        )

    # --- storage -----------------------------------------------------------------------------

    @contextmanager
    def _sqlite(self) -> Iterator[sqlite3.Connection]:
        """This process's connection, used under the queue's lock and in a ``sqlite_work`` section."""
        with self._lock, sqlite_work():
            yield self._connection()

    def _connection(self) -> sqlite3.Connection:
        """Under ``_lock`` and ``sqlite_work``; opened again in a forked child."""
        if self._conn is None:
            self._conn = with_busy_retry(lambda: connect_sqlite(self.path), 30.0)
        return self._conn

    def _events_sink(self) -> SQLiteSink:
        """Under ``_lock`` and ``sqlite_work``; opened again in a forked child."""
        if self._sink is None:
            self._sink = SQLiteSink(self.path)
        return self._sink

    def _record(self, *, events: Sequence[UsageEvent] = (), states: Sequence[BatchState] = ()) -> None:
        """Results and batch states go through the sink, which folds the events into ``rollups``."""
        with self._lock, sqlite_work():
            sink = self._events_sink()
            sink.write_events(events)
            sink.write_batches(states)

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        self._write_many(sql, [params])

    def _write_many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return

        def write() -> None:
            with self._sqlite() as db, immediate_transaction(db) as conn:
                conn.executemany(sql, rows)

        with_busy_retry(write, 30.0)


def _error_type(result: Any) -> str:
    error = getattr(result, "error", None)
    inner = getattr(error, "error", None)
    kind = getattr(inner, "type", None)
    return str(kind) if kind else "errored"


# --- the public wrapper ----------------------------------------------------------------------


class _DeferrableBase:
    """What both wrappers share: the policy store and engine, and the lazily started queue."""

    def __init__(
        self,
        client: anthropic.Anthropic | anthropic.AsyncAnthropic,
        *,
        sink: str | Path | None = None,
        config: Config | None = None,
        clock: Clock | None = None,
        task_of: Callable[[], str | None] | None = None,
    ) -> None:
        self.config = config if config is not None else load_config()
        target = sink if sink is not None else sink_target(self.config)
        self.store = PolicyStore(target, config=self.config)
        self.engine = PolicyEngine(self.store, self.config, clock=clock.now if clock else time.monotonic)
        self.task_of = task_of or (lambda: None)
        self._app_client = client
        self._target = Path(target)
        self._clock = clock
        self._queue: DeferralQueue | None = None
        self._queue_lock = threading.Lock()
        on_fork_in_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        """A parent's thread may have been starting the queue, holding the lock: the child's would stay
        held, and its first deferred request wait for ever. The child then starts a queue of its own
        (the parent's half-built one was never assigned); a started one renews itself."""
        self._queue_lock = threading.Lock()

    @property
    def queue(self) -> DeferralQueue:
        """The deferral queue (started on first use): also resumes what an earlier process left."""
        with self._queue_lock:
            if self._queue is None:
                client = _sync_client(self._app_client)
                self._queue = DeferralQueue(
                    self._target, client, self.config, clock=self._clock, engine=self.engine
                )
                self._queue.start()
            return self._queue

    def _defer(self, params: dict[str, Any], task: str | None) -> DeferredHandle | None:
        """The request queued for a batch, or None if it cannot be: it is then sent at once, as if not
        deferred. Deferral is an optimisation; a sink claudetop cannot write (or its owners directory:
        read-only, full, a file in the way) or a closed queue must not fail the application's call."""
        try:
            return self.queue.enqueue(params, task=task)
        except (OSError, sqlite3.Error, DeferralQueueClosed) as err:
            warn_once("deferral", f"cannot queue a deferred request ({err}); sending such requests at once")
            return None

    def _enforced(self) -> bool:
        mode = self.store.current().mode(PolicyName.BATCHING)
        return self.config.batching.enabled and mode is PolicyMode.ENFORCE

    def close(self) -> None:
        """Stop the worker (what is queued or in flight stays in the sink, for another queue to take
        over) and release the store."""
        if self._queue is not None:
            self._queue.close()
        self.store.close()


class _Messages:
    def __init__(self, client: anthropic.Anthropic, owner: Deferrable) -> None:
        self._client = client
        self._owner = owner

    def create(self, **params: Any) -> DeferredHandle:
        task = self._owner.task_of()
        if self._owner._enforced() and (deferred := self._owner._defer(params, task)) is not None:
            return deferred
        handle = DeferredHandle(f"now_{uuid.uuid4().hex}", deferred=False)
        marker = DEFERRABLE_REQUEST.set(True)
        try:
            handle._future.set_result(self._client.messages.create(**params))
        except BaseException as err:
            handle._future.set_exception(err)
        finally:
            DEFERRABLE_REQUEST.reset(marker)
        return handle


class _AsyncMessages:
    def __init__(self, client: anthropic.AsyncAnthropic, owner: AsyncDeferrable) -> None:
        self._client = client
        self._owner = owner

    async def create(self, **params: Any) -> DeferredHandle:
        task = self._owner.task_of()
        if self._owner._enforced():
            deferred = await asyncio.to_thread(self._owner._defer, params, task)
            if deferred is not None:
                return deferred
        handle = DeferredHandle(f"now_{uuid.uuid4().hex}", deferred=False)
        marker = DEFERRABLE_REQUEST.set(True)
        try:
            handle._future.set_result(await self._client.messages.create(**params))
        except BaseException as err:
            handle._future.set_exception(err)
        finally:
            DEFERRABLE_REQUEST.reset(marker)
        return handle


class Deferrable(_DeferrableBase):
    """``deferrable(client)`` for a sync client: ``.messages.create(**params)`` gives a ``DeferredHandle``."""

    def __init__(self, client: anthropic.Anthropic, **options: Any) -> None:
        super().__init__(client, **options)
        self.messages = _Messages(client, self)


class AsyncDeferrable(_DeferrableBase):
    """``deferrable(client)`` for an async client: ``h = await d.messages.create(...)``, then ``await h``."""

    def __init__(self, client: anthropic.AsyncAnthropic, **options: Any) -> None:
        super().__init__(client, **options)
        self.messages = _AsyncMessages(client, self)


def _sync_client(client: anthropic.Anthropic | anthropic.AsyncAnthropic) -> anthropic.Anthropic:
    """The client the worker thread uses: a synchronous twin of the app's, without its middleware.

    The queue records batch states and results itself (with task, policies and ``deferred``); the
    hook seeing the same calls would record the result lines a second time under the same ids.
    """
    if isinstance(client, anthropic.Anthropic):
        return client.copy(middleware=[], max_retries=0)
    return anthropic.Anthropic(
        api_key=client.api_key,
        auth_token=client.auth_token,
        base_url=client.base_url,
        timeout=client.timeout,
        max_retries=0,
        default_headers={k: v for k, v in client.default_headers.items() if isinstance(v, str)},
    )


@overload
def deferrable(
    client: anthropic.Anthropic,
    *,
    sink: str | Path | None = ...,
    config: Config | None = ...,
    clock: Clock | None = ...,
    task_of: Callable[[], str | None] | None = ...,
) -> Deferrable: ...


@overload
def deferrable(
    client: anthropic.AsyncAnthropic,
    *,
    sink: str | Path | None = ...,
    config: Config | None = ...,
    clock: Clock | None = ...,
    task_of: Callable[[], str | None] | None = ...,
) -> AsyncDeferrable: ...


def deferrable(
    client: anthropic.Anthropic | anthropic.AsyncAnthropic,
    *,
    sink: str | Path | None = None,
    config: Config | None = None,
    clock: Clock | None = None,
    task_of: Callable[[], str | None] | None = None,
) -> Deferrable | AsyncDeferrable:
    """Wrap ``client`` so its ``messages.create`` can be deferred to a Message Batch when policy says so.

    Batching ``off`` or ``shadow``: the call runs at once and the handle is already resolved (in
    shadow the hook records what deferring would have saved). ``enforce``: the request is queued
    durably and the handle resolves when its batch ends. ``task_of`` returns the current task tag
    (the hook passes ``claudetop.hook.tags.current_task``); ``clock`` times the worker (wall clock
    by default, a ``SimClock`` in simulations).
    """
    options: dict[str, Any] = {"sink": sink, "config": config, "clock": clock, "task_of": task_of}
    if isinstance(client, anthropic.AsyncAnthropic):
        return AsyncDeferrable(client, **options)
    return Deferrable(client, **options)
