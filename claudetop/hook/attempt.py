"""What a capture means, worked out on the writer thread: endpoint, status, the bytes sent and read.

The application's thread hands over the SDK's request and the HTTP response as they are
(``claudetop.hook.capture``); reading them here costs the application nothing. Only what is
immutable once the call has returned is read: the request bytes as sent, the response headers
and body, the request's URL and idempotency key — never the application's own body ``dict``,
which it may reuse.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx2

from claudetop.hook.capture import EVENT_IDS, Capture
from claudetop.model import Endpoint, PolicyDecision

_BATCHES = "/v1/messages/batches"
_BODY_ENDPOINTS = frozenset({Endpoint.MESSAGES, Endpoint.COUNT_TOKENS})


@functools.lru_cache(maxsize=512)
def classify(method: str, url: str) -> tuple[Endpoint, str | None]:
    """The API surface a request hits, and the batch id in its path if it names one.

    Works for absolute URLs (``results_url``), the beta namespace (``?beta=true``) and the
    Bedrock/Vertex clients, whose middleware sees the Anthropic path before it is rewritten.
    """
    path = urlsplit(url).path.rstrip("/")
    method = method.upper()
    if path.endswith("/v1/messages") and method == "POST":
        return Endpoint.MESSAGES, None
    if path.endswith("/v1/messages/count_tokens"):
        return Endpoint.COUNT_TOKENS, None
    if path.startswith("/v1/models"):
        return Endpoint.MODELS, None
    _, sep, rest = path.partition(_BATCHES)
    if not sep:
        return Endpoint.OTHER, None
    parts = [p for p in rest.split("/") if p]
    if not parts:
        return (Endpoint.BATCH_CREATE if method == "POST" else Endpoint.BATCH_LIST), None
    batch_id = parts[0]
    if len(parts) == 1:
        return (Endpoint.BATCH_RETRIEVE if method == "GET" else Endpoint.OTHER), batch_id
    if parts[1] == "cancel":
        return Endpoint.BATCH_CANCEL, batch_id
    if parts[1] == "results":
        return Endpoint.BATCH_RESULTS, batch_id
    return Endpoint.OTHER, batch_id


@dataclass(slots=True)
class Attempt:
    """One HTTP attempt, read off its capture."""

    id: str
    endpoint: Endpoint
    batch_id: str | None
    task: str | None
    wall_start: float
    started: float
    retries: int
    logical_key: str | None
    """The SDK's idempotency key: shared by every attempt of one call, so retries can be merged."""
    stream: bool = False
    decisions: tuple[PolicyDecision, ...] = ()
    policy_engine: Any = None
    cache_prefix: str | None = None
    ended: float | None = None
    status: int | None = None
    error_type: str | None = None
    retry_after_s: float | None = None
    sent_headers: Any = None
    """The headers as sent; the API key is read from them."""
    request_body: bytes | None = None
    response_body: bytes | None = None
    sse_lines: list[bytes] = field(default_factory=list)
    first_token: float | None = None
    abandoned: bool = False
    unreadable: bool = False


def resolve(capture: Capture) -> Attempt:
    """What the attempt was and got, read off the objects the application's thread handed over."""
    request, outcome = capture.request, capture.policy_outcome
    endpoint, batch_id = classify(request.method, request.url)
    attempt = Attempt(
        id=EVENT_IDS.next(),
        endpoint=endpoint,
        batch_id=batch_id,
        task=capture.task,
        wall_start=capture.wall_start,
        started=capture.started,
        retries=request.retries_taken,
        logical_key=request.options.idempotency_key,
        stream=capture.stream and endpoint is Endpoint.MESSAGES,
        decisions=tuple(outcome.decisions) if outcome is not None else (),
        policy_engine=capture.policy_engine,
        cache_prefix=outcome.cache_prefix if outcome is not None else None,
        ended=capture.ended,
    )
    if capture.error_type is not None:
        attempt.error_type, attempt.status = capture.error_type, capture.error_status
        return attempt
    http: httpx2.Response = capture.response
    attempt.status = http.status_code
    attempt.retry_after_s = retry_after(http.headers) if http.status_code >= 400 else None
    sent = http.request
    attempt.sent_headers = sent.headers
    try:
        attempt.request_body = sent.content if endpoint in _BODY_ENDPOINTS else None
    except httpx2.RequestNotRead:
        attempt.request_body = None
    tap = capture.tap
    if tap is None:
        try:
            attempt.response_body = http.content
        except httpx2.ResponseNotRead:  # closed unread: nothing to learn from the body
            attempt.response_body = None
        return attempt
    if tap.mode == "sse":
        attempt.sse_lines = tap.sse_usage()
        attempt.first_token = tap.first_token
    elif tap.mode == "body":
        attempt.response_body = tap.body()
    attempt.abandoned = tap.abandoned
    attempt.unreadable = tap.unreadable
    return attempt


def api_key_of(headers: Any) -> str | None:
    """The API key (``x-api-key``, or a bearer token) in request headers."""
    if headers is None:
        return None
    key = headers.get("x-api-key") or headers.get("authorization")
    return key.removeprefix("Bearer ") if isinstance(key, str) and key else None


def retry_after(headers: Any) -> float | None:
    """Seconds from a ``retry-after`` header, when it is a plain number (what the API sends)."""
    value = headers.get("retry-after") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
