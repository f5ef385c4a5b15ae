"""The SDK middleware: sees every HTTP attempt the client makes, records it, never changes the outcome.

It runs inside the SDK's retry loop, once per attempt (``request.retries_taken`` says which). Per
attempt it takes a task tag, optionally lets the policy engine rewrite a ``messages.create`` body,
calls the rest of the chain, and hands a ``Capture`` to the writer — for a streamed body, once the
application has finished reading it (or stopped). Everything claudetop does is wrapped: an error in
claudetop's own code is counted and the call proceeds exactly as it would without the hook; the
SDK's own result or exception is passed back untouched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx2
from anthropic import APIRequest, APIResponse, AsyncAPIResponse, AsyncCallNext, CallNext, Middleware

from claudetop.hook.capture import Capture, EventIds, ResultLine, classify, retry_after
from claudetop.hook.streams import AsyncTappedStream, Mode, Tap, TappedStream
from claudetop.hook.tags import TASK_HEADER, call_site, current_task
from claudetop.hook.writer import Writer
from claudetop.model import Endpoint, PolicyDecision, UsageEvent


class PolicyOutcome(Protocol):
    @property
    def body(self) -> dict[str, Any]: ...
    @property
    def decisions(self) -> tuple[PolicyDecision, ...]: ...
    @property
    def cache_prefix(self) -> str | None: ...


class PolicyEngine(Protocol):
    """The seam to ``claudetop.policies.PolicyEngine``: may rewrite a messages body before it is sent.

    ``decide`` runs on the application's thread; ``settle`` and ``observe`` run on the writer thread
    once the response's usage is known.
    """

    def decide(self, body: dict[str, Any], task: str | None, model: str | None) -> PolicyOutcome: ...

    def settle(
        self, decisions: tuple[PolicyDecision, ...], event: UsageEvent
    ) -> tuple[PolicyDecision, ...]: ...

    def observe(self, prefix_hash: str | None, usage: UsageEvent) -> None: ...


class EngineSlot:
    """Holds the policy engine once it is ready; it is built off the application's thread."""

    engine: PolicyEngine | None = None


class ClaudetopMiddleware(Middleware):
    """Records usage for a sync or async client; add it with ``claudetop.instrument(client)``.

    ``clock`` (POSIX seconds) dates what is recorded: event timestamps and when a batch state was
    seen. A simulation passes its simulated clock so the events carry the time the simulated API
    saw; latency and time to first token are always real durations (``time.perf_counter``).
    """

    def __init__(
        self,
        writer: Writer,
        ids: EventIds,
        default_task: str | None = None,
        policies: EngineSlot | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.writer = writer
        self.ids = ids
        self.default_task = default_task
        self.policies = policies or EngineSlot()
        self.clock = clock

    # --- the two entry points -----------------------------------------------------------------

    def handle(self, request: APIRequest, call_next: CallNext) -> APIResponse[Any]:
        capture, request = self._begin(request)
        if capture is None:
            return call_next(request)
        try:
            response = call_next(request)
        except BaseException as err:
            self._failed(capture, err)
            raise
        self._finished(capture, response, is_async=False)
        return response

    async def handle_async(self, request: APIRequest, call_next: AsyncCallNext) -> AsyncAPIResponse[Any]:
        capture, request = self._begin(request)
        if capture is None:
            return await call_next(request)
        try:
            response = await call_next(request)
        except BaseException as err:
            self._failed(capture, err)
            raise
        self._finished(capture, response, is_async=True)
        return response

    # --- before the attempt -------------------------------------------------------------------

    def _begin(self, request: APIRequest) -> tuple[Capture | None, APIRequest]:
        try:
            return self._start(request)
        except Exception as err:
            self.writer.internal_error(err)
            return None, request

    def _start(self, request: APIRequest) -> tuple[Capture | None, APIRequest]:
        started = time.perf_counter()
        endpoint, batch_id = classify(request.method, request.url)
        task, request = self._task(request)
        engine = self.policies.engine
        outcome = None
        if endpoint is Endpoint.MESSAGES and engine is not None:
            request, outcome = self._apply_policies(engine, request, task)
        body = request.json
        stream = bool(request.stream) or (
            isinstance(body, dict | Mapping) and body.get("stream") is True  # dict first: no ABC check
        )
        capture = Capture(
            id=self.ids.next(),
            endpoint=endpoint,
            batch_id=batch_id,
            task=task,
            wall_start=self.clock(),
            started=started,
            retries=request.retries_taken,
            logical_key=request.options.idempotency_key,
            stream=stream and endpoint is Endpoint.MESSAGES,
        )
        if outcome is not None:
            capture.policy_engine = engine
            capture.decisions = tuple(outcome.decisions)
            capture.cache_prefix = outcome.cache_prefix
        return capture, request

    def _task(self, request: APIRequest) -> tuple[str | None, APIRequest]:
        headers = request.headers
        if headers and any(k.lower() == TASK_HEADER for k in headers):
            explicit = next(v for k, v in headers.items() if k.lower() == TASK_HEADER)
            kept = {k: v for k, v in headers.items() if k.lower() != TASK_HEADER}
            if isinstance(explicit, str) and explicit.strip():
                return explicit.strip(), request.copy(headers=kept)
            return current_task() or self.default_task or call_site(), request.copy(headers=kept)
        return current_task() or self.default_task or call_site(), request

    def _apply_policies(
        self, engine: PolicyEngine, request: APIRequest, task: str | None
    ) -> tuple[APIRequest, PolicyOutcome | None]:
        body = request.json
        if not isinstance(body, dict):
            return request, None
        try:
            model = body.get("model")
            outcome = engine.decide(body, task, model if isinstance(model, str) else None)
            if outcome.body is not body:
                request = request.copy(body=outcome.body)
        except Exception as err:
            self.writer.internal_error(err)
            return request, None
        return request, outcome

    # --- after the attempt --------------------------------------------------------------------

    def _failed(self, capture: Capture, err: BaseException) -> None:
        try:
            capture.ended = time.perf_counter()
            capture.error_type = type(err).__name__
            response = getattr(err, "response", None)
            if isinstance(response, httpx2.Response):
                capture.status = response.status_code
            self.writer.submit(capture)
        except Exception as bug:
            self.writer.internal_error(bug)

    def _finished(self, capture: Capture, response: object, is_async: bool) -> None:
        try:
            self._record(capture, response, is_async)
        except Exception as err:
            self.writer.internal_error(err)

    def _record(self, capture: Capture, response: object, is_async: bool) -> None:
        http = getattr(response, "http_response", None)
        if not isinstance(http, httpx2.Response):
            return  # an inner middleware answered without HTTP; nothing was sent or billed
        capture.status = http.status_code
        capture.retry_after_s = retry_after(http.headers) if http.status_code >= 400 else None
        sent = http.request
        capture.sent_headers = sent.headers
        try:
            capture.request_body = sent.content if capture.endpoint in _BODY_ENDPOINTS else None
        except httpx2.RequestNotRead:
            capture.request_body = None
        try:
            capture.response_body = http.content
        except httpx2.ResponseNotRead:
            self._tap(capture, http, is_async)
            return
        capture.ended = time.perf_counter()
        if capture.stream:  # an error answer to a stream request, already read
            capture.stream = False
        self.writer.submit(capture)

    def _tap(self, capture: Capture, http: httpx2.Response, is_async: bool) -> None:
        mode: Mode
        if capture.stream and http.status_code < 400:
            mode = "sse"
        elif capture.endpoint is Endpoint.BATCH_RESULTS and http.status_code < 400:
            mode = "jsonl"
        else:
            mode = "body"
            capture.stream = False
        writer, ids, clock = self.writer, self.ids, self.clock

        def on_line(line: bytes) -> None:
            writer.submit(
                ResultLine(ids.next(), capture.batch_id, line, clock(), capture.task, capture.sent_headers)
            )

        tap = Tap(
            capture, mode, http.headers.get("content-encoding"), writer.submit, on_line, writer.internal_error
        )
        if is_async:
            http.stream = AsyncTappedStream(http.stream, tap)  # type: ignore[arg-type]
        else:
            http.stream = TappedStream(http.stream, tap)  # type: ignore[arg-type]


_BODY_ENDPOINTS = frozenset({Endpoint.MESSAGES, Endpoint.COUNT_TOKENS})
