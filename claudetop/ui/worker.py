"""The one thread that does the monitor's I/O: poll sources, fold into the aggregator, build a
``Snapshot``, post it to the app; then wait for the refresh interval (or a ``refresh now``).

Waiting *after* each build (for the rest of the interval, and at least a share of it) rather than
on a fixed timer means a slow cycle delays the next one instead of piling up behind it. The
aggregator and the policy store are only ever touched from this thread, so neither needs locking,
and SQLite connections stay on the thread that made them.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

from textual.message import Message

from claudetop.model import Snapshot
from claudetop.ui.messages import FeedTrouble, Loading, SnapshotReady

Post = Callable[[Message], object]
Job = Callable[[], Message | None]
"""Work the UI hands to the I/O thread (a policy change); its message, if any, is posted back."""

MIN_INTERVAL_S = 0.1
REST_SHARE = 0.25
"""However long a build took, the thread then rests at least this share of the interval (the UI
thread needs the interpreter too)."""
MAX_INTERVAL_S = 3600.0


class SnapshotFeed(Protocol):
    """What the app needs from whatever produces snapshots."""

    interval_s: float

    def start(self, post: Post) -> None: ...

    def refresh_now(self) -> None: ...

    def submit(self, job: Job) -> None: ...

    def stop(self) -> None: ...


def describe(err: BaseException) -> str:
    """One line for the banner: what failed, in the exception's own words."""
    text = str(err).strip() or "no details"
    return f"{type(err).__name__}: {text}"


class SnapshotWorker:
    """Runs ``build`` on a daemon thread every ``interval_s`` seconds (start to start), resting at least
    ``REST_SHARE`` of the interval after a build that took longer.

    While ``loading()`` says the first read is not finished, the next build starts at once: history
    is read in bounded chunks, each shown with its progress, rather than in one long silent cycle.
    """

    def __init__(
        self,
        build: Callable[[], Snapshot],
        interval_s: float = 1.0,
        *,
        close: Callable[[], None] | None = None,
        loading: Callable[[], Loading | None] | None = None,
        name: str = "claudetop-feed",
    ) -> None:
        self.build = build
        self._loading = loading
        self._close = close
        self.interval_s = min(max(interval_s, MIN_INTERVAL_S), MAX_INTERVAL_S)
        self._jobs: deque[Job] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._post: Post | None = None
        self.cycles = 0

    def start(self, post: Post) -> None:
        self._post = post
        self._thread.start()

    def refresh_now(self) -> None:
        self._wake.set()

    def submit(self, job: Job) -> None:
        self._jobs.append(job)
        self._wake.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        assert self._post is not None
        post = self._post
        troubled = False
        last_loading: Loading | None = None
        while not self._stop.is_set():
            while self._jobs:
                message = self._jobs.popleft()()
                if message is not None:
                    post(message)
            started = time.perf_counter()
            try:
                snapshot = self.build()
            except Exception as err:  # the monitor must outlive any broken input: banner, retry next cycle
                troubled = True
                post(FeedTrouble(describe(err)))
            else:
                if troubled:
                    troubled = False
                    post(FeedTrouble(None))
                loading = self._loading() if self._loading is not None else None
                post(SnapshotReady(snapshot, time.perf_counter() - started, loading))
                moving, last_loading = loading is not None and loading != last_loading, loading
                if moving:  # still reading history and getting on with it: next chunk at once
                    self.cycles += 1
                    continue
            self.cycles += 1
            took = time.perf_counter() - started
            self._wake.wait(max(self.interval_s - took, self.interval_s * REST_SHARE))
            self._wake.clear()
        if self._close is not None:
            self._close()
