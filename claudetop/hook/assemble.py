"""From captures to events and batch states, on the writer thread.

Retries: the SDK calls the middleware once per HTTP attempt, and every attempt of one call shares
the SDK's idempotency key. An attempt that failed in a way the SDK retries (408, 409, 429, 5xx,
connection errors) is held back for a short while; if another attempt with the same key follows,
the two become **one event per logical call**, with ``retries`` set, the first attempt's
timestamp, and ``latency_ms`` measured from the first attempt (so it includes the time lost to
failed attempts and back-off). Only the final attempt's usage counts — failed attempts are not
billed. A held failure that is not
followed by a retry is written as it is once its wait is over. GET requests (batch polls) carry
no idempotency key, so each of their attempts is its own event — which is what the polling-storm
finding wants to count anyway.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from claudetop.hook.attempt import Attempt, api_key_of, resolve
from claudetop.hook.batches import batch_objects, batch_state, result_fields
from claudetop.hook.build import (
    api_key_fingerprint,
    error_type_of,
    latency_ms,
    loads,
    message_fields,
    request_fields,
    status_error_type,
    stream_fields,
)
from claudetop.hook.capture import EVENT_IDS, Capture, ResultLines
from claudetop.model import BatchState, Endpoint, Micros, UsageEvent

RETRY_HOLD_S = 10.0
"""How long a retryable failure waits for its retry to start: the SDK backs off at most 8 s unless told
more."""
RETRY_RUN_S = 3600.0
"""How long it then waits for that retry to end (the SDK's longest timeouts are shorter)."""

_RETRYABLE = frozenset({408, 409, 429})

Pricer = Callable[[UsageEvent], Micros | None]


@dataclass(slots=True)
class _Held:
    attempt: Attempt
    first_started: float
    first_wall: float
    deadline: float


def _retryable(attempt: Attempt) -> bool:
    if attempt.status is None:
        return attempt.error_type is not None
    return attempt.status in _RETRYABLE or attempt.status >= 500


class Assembler:
    """Accumulates events and batch states until the writer takes them."""

    def __init__(
        self, app: str | None, pricer: Pricer | None, on_error: Callable[[BaseException], None]
    ) -> None:
        self.app = app
        self.on_error = on_error
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.pricer = pricer
        self.events: list[UsageEvent] = []
        self.batches: dict[str, BatchState] = {}
        self._held: dict[str, _Held] = {}
        self._retrieves: dict[str, int] = {}
        self._key_fps: dict[str, str] = {}

    def add_result(self, results: ResultLines, line: bytes) -> None:
        """One line of a batch's results file: one ``batch_result`` event."""
        self._emit_fields(self._result_line(results, line))

    def add(self, item: Capture, now: float) -> None:
        attempt = resolve(item)
        key = attempt.logical_key
        held = self._held.pop(key, None) if key else None
        first_started, first_wall = (
            (held.first_started, held.first_wall) if held else (attempt.started, attempt.wall_start)
        )
        failed = attempt.status is None or attempt.status >= 400
        if key and failed and _retryable(attempt):
            wait = RETRY_HOLD_S + (attempt.retry_after_s or 0.0)
            self._held[key] = _Held(attempt, first_started, first_wall, now + wait)
            return
        self._emit_attempt(attempt, first_started, first_wall)

    def retry_started(self, key: str, now: float) -> None:
        """Another attempt of ``key`` is under way: hold its failure until that attempt is captured."""
        held = self._held.get(key)
        if held is not None:
            held.deadline = max(held.deadline, now + RETRY_RUN_S)

    def expire(self, now: float, everything: bool = False) -> None:
        """Write out held failures whose retry did not come (all of them when the process exits)."""
        for key, held in list(self._held.items()):
            if everything or held.deadline <= now:
                del self._held[key]
                self._emit_attempt(held.attempt, held.first_started, held.first_wall)

    def take(self) -> tuple[list[UsageEvent], list[BatchState]]:
        events, batches = self.events, list(self.batches.values())
        self.events, self.batches = [], {}
        return events, batches

    @property
    def held(self) -> int:
        return len(self._held)

    def _key_fp(self, headers: Any) -> str | None:
        key = api_key_of(headers)
        if not key:
            return None
        fp = self._key_fps.get(key)
        if fp is None:
            fp = self._key_fps[key] = api_key_fingerprint(key)
        return fp

    def _common(self, id_: str, wall: float, task: str | None, sent_headers: Any) -> dict[str, Any]:
        return {
            "id": id_,
            "ts": datetime.fromtimestamp(wall, UTC),
            "source": "hook",
            "app": self.app,
            "host": self.host,
            "pid": self.pid,
            "api_key_fp": self._key_fp(sent_headers),
            "task": task,
        }

    def _emit_attempt(self, c: Attempt, first_started: float, first_wall: float) -> None:
        fields = self._common(c.id, first_wall, c.task, c.sent_headers)
        fields.update(endpoint=c.endpoint, batch_id=c.batch_id, stream=c.stream, retries=c.retries)
        fields["status"] = c.status
        fields["policies"] = c.decisions
        fields["latency_ms"], fields["ttft_ms"] = latency_ms(c, first_started)
        if c.endpoint in (Endpoint.MESSAGES, Endpoint.COUNT_TOKENS):
            requested = request_fields(loads(c.request_body))
            if c.endpoint is Endpoint.COUNT_TOKENS:
                requested.pop("prefixes", None)
            fields.update(requested)
        body = None if c.stream else loads(c.response_body)
        ok = c.status is not None and c.status < 400
        if c.endpoint is Endpoint.MESSAGES and ok:
            fields.update(stream_fields(c.sse_lines) if c.stream else message_fields(body))
        if c.status is not None and c.status >= 400:
            fields["error_type"] = error_type_of(body) or status_error_type(c.status)
        elif c.error_type is not None:
            fields["error_type"] = c.error_type
        if c.unreadable and ok and c.endpoint is Endpoint.MESSAGES and "error_type" not in fields:
            fields["error_type"] = "claudetop_usage_unreadable"
        if fields.get("model") is None:
            fields["model"] = fields.get("requested_model")
        if ok:
            self._batch_states(c, body)
        event = self._emit_fields(fields)
        if c.policy_engine is not None:
            try:
                self._settle(c, event)
            except Exception as err:
                self.on_error(err)

    def _settle(self, c: Attempt, event: UsageEvent) -> None:
        """Tell the policy engine what happened; its savings estimates become real figures."""
        settled = tuple(c.policy_engine.settle(event.policies, event))
        if settled != event.policies:
            self.events[-1] = event.model_copy(update={"policies": settled})
        c.policy_engine.observe(c.cache_prefix, event)

    def _batch_states(self, c: Attempt, body: Any) -> None:
        if c.endpoint is Endpoint.BATCH_RETRIEVE and c.batch_id:
            self._retrieves[c.batch_id] = self._retrieves.get(c.batch_id, 0) + 1
        seen = datetime.fromtimestamp(c.wall_start, UTC)
        for batch in batch_objects(body):
            calls = self._retrieves.get(str(batch.get("id")), 0)
            state = batch_state(batch, seen, calls, self.app, self.host)
            if state is not None:
                self.batches[state.id] = state

    def _result_line(self, r: ResultLines, line: bytes) -> dict[str, Any]:
        fields = self._common(EVENT_IDS.next(), r.wall, r.task, r.sent_headers)
        fields.update(endpoint=Endpoint.BATCH_RESULT, batch_id=r.batch_id)
        fields.update(result_fields(loads(line)))
        if r.batch_id and isinstance(fields.get("custom_id"), str):
            fields["id"] = f"batch:{r.batch_id}:{fields['custom_id']}"[:200]
        return fields

    def _emit_fields(self, fields: dict[str, Any]) -> UsageEvent:
        event = UsageEvent(**fields)
        if self.pricer is not None and event.billable and event.model:
            event = event.model_copy(update={"cost_micros": self.pricer(event)})
        self.events.append(event)
        return event
