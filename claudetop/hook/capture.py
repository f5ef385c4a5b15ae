"""What the application's thread hands to the writer: references and timestamps, nothing worked out.

A ``Capture`` holds the SDK's ``APIRequest`` and the ``httpx2.Response`` (or the exception) of
one HTTP attempt, the task tag and two clock readings. Which endpoint it was, the status, the
bytes sent and received, the idempotency key: all are read off those objects later, on the
writer thread (``claudetop.hook.attempt``), because every microsecond spent here is added to the
application's call.
"""

from __future__ import annotations

import itertools
import os
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claudetop.hook.streams import Tap


class EventIds:
    """Unique, cheap event ids: a random per-process prefix and a counter; renewed after ``fork``.

    Taken on the writer threads (one per sink), so events of all sinks share one counter.
    """

    def __init__(self) -> None:
        self.renew()

    def renew(self) -> None:
        self._prefix = f"h{secrets.token_hex(8)}{os.getpid():x}-"
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):x}"


EVENT_IDS = EventIds()

if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=EVENT_IDS.renew)


@dataclass(slots=True)
class Capture:
    """One HTTP attempt, as the middleware saw it."""

    request: Any
    """The SDK's ``APIRequest`` this attempt was sent with; its ``json`` is never read off this thread."""
    task: str | None
    wall_start: float
    """The middleware's clock (``time.time()`` unless a simulation sets one) at the start of the attempt."""
    started: float
    """``time.perf_counter()`` at the start of the attempt."""
    ended: float | None = None
    response: Any = None
    """The ``httpx2.Response``, when the attempt got one."""
    error_type: str | None = None
    """The exception the attempt raised (its name only: the exception itself holds the stack)."""
    error_status: int | None = None
    """The HTTP status the exception carried, if any."""
    stream: bool = False
    """The request asked for a stream; only worked out when it matters (a tapped body, an error)."""
    tap: Tap | None = None
    """The reader of a body the application streams; its bytes are picked over on the writer thread."""
    policy_engine: Any = None
    """The engine that decided, so the writer can settle savings and report cache outcomes to it."""
    policy_outcome: Any = None
    """What it decided: ``decisions`` and ``cache_prefix`` (``claudetop.hook.middleware.PolicyOutcome``)."""


@dataclass(slots=True)
class ResultLines:
    """The lines of one chunk of a batch's results file, captured as they streamed past the
    application: one queue item per chunk, however many results it holds."""

    batch_id: str | None
    lines: list[bytes]
    wall: float
    task: str | None
    sent_headers: Any
    size: int
    """Bytes held, which bound how much a writer that falls behind may queue."""


@dataclass(slots=True, frozen=True)
class RetryStarted:
    """The SDK started another attempt of the logical request ``key``: its held failure must wait for
    that attempt however long it takes (a long generation, a slow stream)."""

    key: str
