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

from claudetop.hook.attempt import classify
from claudetop.hook.capture import Capture, ResultLines, RetryStarted
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

    ``active`` and ``decide`` run on the application's thread; ``settle`` and ``observe`` run on the
    writer thread once the response's usage is known.
    """

    def active(self) -> bool: ...

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
        default_task: str | None = None,
        policies: EngineSlot | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.writer = writer
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

    def _start(self, request: APIRequest) -> tuple[Capture, APIRequest]:
        started = time.perf_counter()
        task = None
        if request.headers:
            task, request = self._explicit_task(request)
        capture = Capture(
            request,
            task or current_task() or self.default_task or call_site(),
            self.clock(),
            started,
        )
        if request.retries_taken and request.options.idempotency_key:
            self.writer.submit(RetryStarted(request.options.idempotency_key))
        engine = self.policies.engine
        if (
            engine is not None
            and engine.active()
            and classify(request.method, request.url)[0] is Endpoint.MESSAGES
        ):
            request, outcome = self._apply_policies(engine, request, capture.task)
            capture.request = request
            if outcome is not None and (outcome.decisions or outcome.cache_prefix is not None):
                capture.policy_engine, capture.policy_outcome = engine, outcome
        return capture, request

    def _explicit_task(self, request: APIRequest) -> tuple[str | None, APIRequest]:
        """The per-call tag header, removed from the request (the API never sees it)."""
        headers = request.headers
        for name, explicit in headers.items():
            if name.lower() == TASK_HEADER:
                kept = {k: v for k, v in headers.items() if k.lower() != TASK_HEADER}
                tag = explicit.strip() if isinstance(explicit, str) and explicit.strip() else None
                return tag, request.copy(headers=kept)
        return None, request

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
                capture.error_status = response.status_code
            capture.stream = _asks_for_stream(capture.request)
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
        capture.response = http
        if not http.is_closed:  # the application will stream the body
            self._tap(capture, http, is_async)
            return
        capture.ended = time.perf_counter()
        self.writer.submit(capture)

    def _tap(self, capture: Capture, http: httpx2.Response, is_async: bool) -> None:
        request = capture.request
        endpoint, batch_id = classify(request.method, request.url)
        mode: Mode = "body"
        if http.status_code < 400 and endpoint is Endpoint.MESSAGES and _asks_for_stream(request):
            mode = "sse"
            capture.stream = True
        elif http.status_code < 400 and endpoint is Endpoint.BATCH_RESULTS:
            mode = "jsonl"
        on_lines = self._result_lines(batch_id, capture.task, http) if mode == "jsonl" else None
        tap = Tap(capture, mode, http.headers, self.writer.submit, self.writer.internal_error, on_lines)
        capture.tap = tap
        if is_async:
            http.stream = AsyncTappedStream(http.stream, tap)
        else:
            http.stream = TappedStream(http.stream, tap)

    def _result_lines(
        self, batch_id: str | None, task: str | None, http: httpx2.Response
    ) -> Callable[[list[bytes]], None]:
        writer, clock = self.writer, self.clock

        def on_lines(lines: list[bytes]) -> None:
            size = sum(map(len, lines))
            writer.submit(ResultLines(batch_id, lines, clock(), task, http.request.headers, size))

        return on_lines


def _asks_for_stream(request: APIRequest) -> bool:
    body = request.json
    return bool(request.stream) or (isinstance(body, dict | Mapping) and body.get("stream") is True)
