"""Message Batches on simulated time: create, retrieve, list, cancel, results (JSONL), delete.

Each request gets a completion time ``created_at + d`` with ``d`` drawn (seeded) from
``processing_s``; state is brought up to date lazily whenever a batch is looked at, so no
background thread is needed and an accelerated clock moves batches as fast as it moves
TTLs. A request still unfinished at ``expires_at`` (24 h) is ``expired``; after a cancel,
unfinished requests become ``canceled`` once ``cancel_delay_s`` has passed. Requests whose
params the API would reject come back ``errored`` with the API's error object. Succeeded
results are served through the same messages engine (cache included) with
``service_tier: "batch"``. Every retrieve is counted per batch, so polling storms show up.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from claudetop.simulate.clock import SimClock
from claudetop.simulate.errors import ApiError, invalid

EXPIRY_S = 24 * 3600.0
MAX_REQUESTS = 100_000

ServeFn = Callable[[dict[str, Any], float], dict[str, Any]]
"""Serves one request's params at a simulated time; returns the Message JSON or raises ApiError."""


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class _Item:
    custom_id: str
    params: Any
    due_at: float
    result: dict[str, Any] | None = None
    resolved_at: float | None = None


@dataclass
class _Batch:
    id: str
    created_at: float
    items: list[_Item]
    expires_at: float
    cancel_at: float | None = None
    cancel_initiated_at: float | None = None
    ended_at: float | None = None
    retrieve_calls: int = 0


@dataclass
class BatchStore:
    clock: SimClock
    serve: ServeFn
    base_url: Callable[[], str]
    processing_s: tuple[float, float] = (60.0, 3600.0)
    cancel_delay_s: float = 30.0
    seed: int = 0
    _batches: dict[str, _Batch] = field(default_factory=dict)
    _order: list[str] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def create(self, body: Any) -> dict[str, Any]:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not requests:
            raise invalid(
                "requests: Field required" if requests is None else "requests: at least one request"
            )
        if len(requests) > MAX_REQUESTS:
            raise invalid(f"requests: at most {MAX_REQUESTS} requests per batch")
        seen: set[str] = set()
        now = self.clock.now()
        items: list[_Item] = []
        with self._lock:
            for i, r in enumerate(requests):
                cid = r.get("custom_id") if isinstance(r, dict) else None
                if not isinstance(cid, str) or not cid:
                    raise invalid(f"requests.{i}.custom_id: Field required")
                if cid in seen:
                    raise invalid(f"requests.{i}.custom_id: duplicate custom_id {cid!r}")
                seen.add(cid)
                lo, hi = self.processing_s
                items.append(_Item(cid, r.get("params"), now + self._rng.uniform(lo, hi)))
            batch_id = f"msgbatch_{self._rng.getrandbits(96):024x}"
            batch = _Batch(batch_id, now, items, now + EXPIRY_S)
            self._batches[batch_id] = batch
            self._order.append(batch_id)
            return self._json(batch)

    def _get(self, batch_id: str) -> _Batch:
        batch = self._batches.get(batch_id)
        if batch is None:
            raise ApiError("not_found_error", f"message batch {batch_id} not found")
        self._advance(batch, self.clock.now())
        return batch

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        with self._lock:
            batch = self._get(batch_id)
            batch.retrieve_calls += 1
            return self._json(batch)

    def list(
        self, limit: int = 20, after_id: str | None = None, before_id: str | None = None
    ) -> dict[str, Any]:
        """Newest first, like the API; ``after_id``/``before_id`` page through that order."""
        with self._lock:
            ids = list(reversed(self._order))
            if after_id in ids:
                ids = ids[ids.index(after_id) + 1 :]
            elif before_id in ids:
                ids = ids[: ids.index(before_id)][-limit:]
            page = ids[: max(1, min(limit, 1000))]
            data = [self._json(self._get(i)) for i in page]
            more = len(ids) > len(page)
            return {
                "data": data,
                "has_more": more,
                "first_id": page[0] if page else None,
                "last_id": page[-1] if page else None,
            }

    def cancel(self, batch_id: str) -> dict[str, Any]:
        with self._lock:
            batch = self._get(batch_id)
            if batch.ended_at is None and batch.cancel_at is None:
                now = self.clock.now()
                batch.cancel_initiated_at = now
                batch.cancel_at = now + self.cancel_delay_s
            return self._json(batch)

    def results(self, batch_id: str) -> bytes:
        with self._lock:
            batch = self._get(batch_id)
            if batch.ended_at is None:
                raise invalid(f"message batch {batch_id} is still processing; results are not yet available")
            lines = [
                json.dumps({"custom_id": it.custom_id, "result": it.result}, separators=(",", ":"))
                for it in batch.items
            ]
            return ("\n".join(lines) + "\n").encode()

    def delete(self, batch_id: str) -> dict[str, Any]:
        with self._lock:
            batch = self._get(batch_id)
            if batch.ended_at is None:
                raise invalid(f"message batch {batch_id} must be canceled or ended before it can be deleted")
            del self._batches[batch_id]
            self._order.remove(batch_id)
            return {"id": batch_id, "type": "message_batch_deleted"}

    def advance_all(self) -> None:
        now = self.clock.now()
        with self._lock:
            for batch in self._batches.values():
                self._advance(batch, now)

    def retrieve_calls(self) -> dict[str, int]:
        with self._lock:
            return {b.id: b.retrieve_calls for b in self._batches.values()}

    def _advance(self, batch: _Batch, now: float) -> None:
        if batch.ended_at is not None:
            return
        for it in sorted((i for i in batch.items if i.result is None), key=lambda i: i.due_at):
            cancel_at = batch.cancel_at if batch.cancel_at is not None else float("inf")
            if it.due_at <= min(now, batch.expires_at) and it.due_at < cancel_at:
                it.result, it.resolved_at = self._run(it), it.due_at
            elif cancel_at <= min(now, batch.expires_at):
                it.result, it.resolved_at = {"type": "canceled"}, cancel_at
            elif now >= batch.expires_at:
                it.result, it.resolved_at = {"type": "expired"}, batch.expires_at
        if all(i.result is not None for i in batch.items):
            batch.ended_at = max(i.resolved_at or now for i in batch.items)

    def _run(self, item: _Item) -> dict[str, Any]:
        try:
            message = self.serve(item.params, item.due_at)
        except ApiError as exc:
            return {"type": "errored", "error": exc.body(f"req_batch_{item.custom_id}")}
        return {"type": "succeeded", "message": message}

    def _json(self, b: _Batch) -> dict[str, Any]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        for it in b.items:
            counts["processing" if it.result is None else it.result["type"]] += 1
        if b.ended_at is not None:
            status = "ended"
        elif b.cancel_at is not None:
            status = "canceling"
        else:
            status = "in_progress"
        return {
            "id": b.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": iso(b.created_at),
            "expires_at": iso(b.expires_at),
            "ended_at": iso(b.ended_at),
            "cancel_initiated_at": iso(b.cancel_initiated_at),
            "archived_at": None,
            "results_url": f"{self.base_url()}/v1/messages/batches/{b.id}/results" if b.ended_at else None,
        }
