"""What the application's thread hands to the writer: raw facts about one HTTP attempt, nothing parsed.

Parsing JSON, hashing prefixes and pricing all happen later on the writer thread; a ``Capture``
only holds references (the request bytes already sent, the response bytes already read) and a
few timestamps, so building one costs about a microsecond.
"""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from claudetop.model import Endpoint, PolicyDecision

_BATCHES = "/v1/messages/batches"


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


class EventIds:
    """Unique, cheap event ids: a random per-process prefix and a counter; renewed after ``fork``."""

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self._prefix = f"h{secrets.token_hex(8)}{os.getpid():x}-"
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"


@dataclass(slots=True)
class Capture:
    """One HTTP attempt, as the middleware saw it."""

    id: str
    endpoint: Endpoint
    batch_id: str | None
    task: str | None
    wall_start: float
    """The middleware's clock (``time.time()`` unless a simulation sets one) at the start of the attempt."""
    started: float
    """``time.perf_counter()`` at the start of the attempt."""
    retries: int
    logical_key: str | None
    """The SDK's idempotency key: shared by every attempt of one call, so retries can be merged."""
    stream: bool = False
    request_body: bytes | None = None
    sent_headers: Any = None
    """The headers as sent; the API key is read from them on the writer thread."""
    decisions: tuple[PolicyDecision, ...] = ()
    policy_engine: Any = None
    """The engine that decided, so the writer can settle savings and report cache outcomes to it."""
    cache_prefix: str | None = None
    status: int | None = None
    error_type: str | None = None
    retry_after_s: float | None = None
    ended: float | None = None
    first_token: float | None = None
    response_body: bytes | None = None
    sse_lines: list[bytes] = field(default_factory=list)
    sse_tail: bytes = b""
    """Raw SSE bytes after the last ``sse_lines`` fold; the writer thread picks their usage lines out."""
    abandoned: bool = False
    unreadable: bool = False
    """The body was compressed in a way the tap cannot read, or cut off: tokens are not known."""


@dataclass(slots=True)
class ResultLine:
    """One line of a batch's results file, captured as it streamed past the application."""

    id: str
    batch_id: str | None
    line: bytes
    wall: float
    task: str | None
    sent_headers: Any


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
