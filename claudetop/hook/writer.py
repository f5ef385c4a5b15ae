"""The hook's only thread: takes captures off a bounded queue, builds events, writes them in batches.

The application's thread does one thing here: ``Writer.submit`` appends to a ``deque`` (or counts
a drop when it is full). Everything that can be slow or fail — JSON, hashing, pricing, opening
and writing the sink — happens on one daemon thread, so a locked, full, read-only or corrupt
sink costs the application nothing but the events (counted, reported once on stderr, visible in
``stats()`` and, when the sink is SQLite and writable, as a ``hook_health:<host>:<pid>`` row in its
``meta`` table). Unwritten events wait in a bounded backlog and are retried with back-off; an event
the sink rejects for what it holds (a value it cannot store) is dropped and counted on its own.

Exit: an ``atexit`` handler flushes with a short timeout. ``fork()``: the child starts with an
empty queue, fresh locks and no thread or sink connection of its parent (the parent writes what
it had queued); its writer thread starts on its first capture.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from claudetop.hook.assemble import Assembler, Pricer
from claudetop.hook.capture import Capture, ResultLines, RetryStarted
from claudetop.model import BatchState, Micros, UsageEvent
from claudetop.sinks import Sink, connect_sqlite, is_data_error, is_postgres_target, open_sink
from claudetop.sinks.forksafe import leave_inherited, on_fork_in_child, sqlite_work

QUEUE_MAX = 20_000
RESULTS_QUEUE_MAX_BYTES = 256 * 1024 * 1024
"""Batch results an application reads faster than the writer turns them into events wait up to this
many bytes (a results file of 100,000 short answers fits), not a number of items."""
BACKLOG_MAX = 50_000
INTERVAL_S = 0.1
FLUSH_TIMEOUT_S = 2.0
SINK_BUSY_TIMEOUT_S = 2.0
"""A write waits this long for a locked SQLite file before the batch is retried later."""
YIELD_EVERY_S = 0.0005
"""The writer works this long between handing the GIL back: the longest an application thread
waits for it, and long enough that the writer's caches stay warm from one event to the next."""
HEALTH_EVERY_S = 5.0
REPORT_AFTER_FAILURES = 3
"""A busy sink that takes the batch on a later try loses nothing; say something once writes keep failing."""

Item = Capture | ResultLines | RetryStarted | threading.Event
"""An event in the queue is a flush request: set once everything queued before it is written."""


@dataclass(frozen=True)
class HookStats:
    """What the hook did in this process; ``dropped`` events never reached the sink."""

    captured: int
    written: int
    dropped: int
    internal_errors: int
    sink_errors: int
    queued: int
    last_error: str | None
    sink: str
    delayed: int = 0
    """Events written only on a retry, after the sink had failed (an outage they outlived)."""


class Writer:
    """One sink target's queue, thread and sink connection."""

    def __init__(self, target: str, app: str | None, pricer_factory: Callable[[], Pricer | None]) -> None:
        self.target = target
        self.app = app
        self._pricer_factory = pricer_factory
        self.flush_timeout_s = FLUSH_TIMEOUT_S
        self._reset()
        _WRITERS.add(self)
        on_fork_in_child(self.after_fork_in_child)

    def _reset(self) -> None:
        self._queue: deque[Item] = deque()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sink: Sink | None = None
        self._health: sqlite3.Connection | None = None
        self._backlog: list[UsageEvent] = []
        self._batch_backlog: dict[str, BatchState] = {}
        self._retry_at = 0.0
        self._backoff = 0.5
        self._failing = 0
        self._health_at = 0.0
        self._health_dirty = False
        self._reported = False
        self._assembler: Assembler | None = None
        self._flushes: list[threading.Event] = []
        self._result_bytes = 0
        self._yielded = 0.0
        self.captured = self.written = self.dropped = self.internal_errors = self.sink_errors = 0
        self.delayed = 0
        self.last_error: str | None = None

    # --- application thread -------------------------------------------------------------------

    def submit(self, item: Item) -> None:
        """Queue one item; never blocks, never raises. Starts the thread on first use."""
        if self._thread is None:
            self._start()
        if isinstance(item, ResultLines):
            self._submit_results(item)
            return
        event = isinstance(item, Capture)  # not a note such as ``RetryStarted``
        if len(self._queue) >= QUEUE_MAX:
            if event:
                with self._lock:
                    self.dropped += 1
            return
        self._queue.append(item)
        if event:
            self.captured += 1

    def _submit_results(self, item: ResultLines) -> None:
        with self._lock:
            if self._result_bytes + item.size > RESULTS_QUEUE_MAX_BYTES:
                self.dropped += len(item.lines)
                return
            self._result_bytes += item.size
            self.captured += len(item.lines)
        self._queue.append(item)

    def internal_error(self, err: BaseException) -> None:
        """A bug in claudetop's own code: counted and reported, never raised to the application."""
        with self._lock:
            self.internal_errors += 1
            self.last_error = f"claudetop internal error: {type(err).__name__}: {err}"
            self._health_dirty = True
        if self._thread is None:
            self._start()  # the writer thread is the one that reports it

    def stats(self) -> HookStats:
        return HookStats(
            captured=self.captured,
            written=self.written,
            dropped=self.dropped,
            internal_errors=self.internal_errors,
            sink_errors=self.sink_errors,
            queued=len(self._queue) + len(self._backlog),
            last_error=self.last_error,
            sink=self.target,
            delayed=self.delayed,
        )

    def flush(self, timeout: float | None = None) -> bool:
        """Write everything queued so far, waiting at most ``timeout`` seconds; True if all was written.

        Failed attempts held back in case the SDK retries them are written as they are.
        """
        if self._thread is None:
            return not self._queue
        done = threading.Event()
        self._queue.append(done)
        return done.wait(self.flush_timeout_s if timeout is None else timeout) and not self._backlog

    def close(self, timeout: float | None = None) -> None:
        """Stop the thread after a last write (used at exit); held retries are written as they are."""
        thread = self._thread
        if thread is None:
            return
        self._stop.set()
        thread.join(self.flush_timeout_s if timeout is None else timeout)
        if thread.is_alive():
            self.last_error = self.last_error or f"sink {self.target} did not take the events before exit"
            self._report(force=True)

    def _start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stop = threading.Event()
            thread = threading.Thread(target=self._run, name="claudetop-writer", daemon=True)
            thread.start()
            self._thread = thread
        _ensure_exit_hook()

    # --- writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        self._assembler = Assembler(self.app, self._safe_pricer(), self.internal_error)
        while True:
            stopping = self._stop.wait(INTERVAL_S)
            try:
                self._cycle(final=stopping)
            except Exception as err:
                self.internal_error(err)
            if stopping:
                with sqlite_work():
                    self._close_sink()
                return

    def _safe_pricer(self) -> Pricer | None:
        try:
            pricer = self._pricer_factory()
        except Exception as err:
            self.internal_error(err)
            return None
        if pricer is None:
            return None

        def price(event: UsageEvent) -> Micros | None:
            try:
                return pricer(event)
            except Exception as err:
                self.internal_error(err)
                return None

        return price

    def _cycle(self, final: bool) -> None:
        assembler = self._assembler
        assert assembler is not None
        now = self._yielded = time.perf_counter()
        while self._queue:
            item = self._queue.popleft()
            if isinstance(item, threading.Event):
                self._flushes.append(item)
                continue
            if isinstance(item, ResultLines):
                with self._lock:
                    self._result_bytes -= item.size
                for line in item.lines:
                    self._assemble(assembler.add_result, item, line)
            elif isinstance(item, RetryStarted):
                assembler.retry_started(item.key, now)
            else:
                self._assemble(assembler.add, item, now)
        assembler.expire(now, everything=final or bool(self._flushes))
        events, batches = assembler.take()
        self._backlog.extend(events)
        for state in batches:
            self._batch_backlog[state.id] = state
        self._trim()
        with sqlite_work():
            self._write(final or bool(self._flushes))
        self._report(force=final and bool(self._backlog or self._batch_backlog))
        for done in self._flushes:
            done.set()
        self._flushes = []

    def _assemble(self, add: Callable[..., None], *args: object) -> None:
        """One event built, or counted as dropped; then the GIL handed back if this thread has held it
        long enough, so the application's threads never wait a whole switch interval."""
        try:
            add(*args)
        except Exception as err:
            self.internal_error(err)
            with self._lock:
                self.dropped += 1
        if time.perf_counter() - self._yielded > YIELD_EVERY_S:
            time.sleep(0)
            self._yielded = time.perf_counter()

    def _trim(self) -> None:
        excess = len(self._backlog) - BACKLOG_MAX
        if excess > 0:
            del self._backlog[:excess]
            with self._lock:
                self.dropped += excess

    def _write(self, final: bool) -> None:
        if not self._backlog and not self._batch_backlog:
            self._maybe_health(final)
            return
        if time.monotonic() < self._retry_at and not final:
            return
        try:
            sink = self._open()
            if self._backlog:
                try:
                    sink.write_events(self._backlog)
                except Exception as err:
                    if not is_data_error(err):
                        raise
                    self._drop_rejected(sink)
                self.written += len(self._backlog)
                if self._backoff > 0.5:
                    self.delayed += len(self._backlog)
                self._backlog = []
            if self._batch_backlog:
                sink.write_batches(list(self._batch_backlog.values()))
                self._batch_backlog = {}
            self._backoff = 0.5
            self._failing = 0
        except Exception as err:
            self.sink_errors += 1
            self._failing += 1
            self.last_error = f"cannot write to sink {self.target}: {type(err).__name__}: {err}"
            self._health_dirty = True
            self._close_sink()
            self._retry_at = time.monotonic() + self._backoff
            self._backoff = min(self._backoff * 2, 30.0)
            return
        self._maybe_health(final)

    def _drop_rejected(self, sink: Sink) -> None:
        """Write the backlog one event at a time after the sink rejected a value in it: events it
        rejects are dropped and counted, so one bad value never holds up everything recorded after
        it; the backlog keeps the events written (counted by the caller)."""
        kept: list[UsageEvent] = []
        for index, event in enumerate(self._backlog):
            try:
                sink.write_events([event])
            except Exception as err:
                if not is_data_error(err):
                    self.written += len(kept)
                    self._backlog = self._backlog[index:]
                    raise
                with self._lock:
                    self.dropped += 1
                    self.last_error = f"sink {self.target} rejected an event: {type(err).__name__}: {err}"
                    self._health_dirty = True
                continue
            kept.append(event)
        self._backlog = kept

    def _open(self) -> Sink:
        if self._sink is None:
            self._sink = open_sink(self.target, busy_timeout_s=SINK_BUSY_TIMEOUT_S)
        return self._sink

    def _close_sink(self) -> None:
        for closer in (self._sink, self._health):
            if closer is not None:
                try:
                    closer.close()
                except Exception as err:
                    self.last_error = f"closing sink {self.target}: {err}"
        self._sink = self._health = None

    def _report(self, force: bool = False) -> None:
        """Say once, on stderr, that events are being lost; the counters keep the details."""
        with self._lock:
            trouble = self.dropped or self.internal_errors or self._failing >= REPORT_AFTER_FAILURES
            if self._reported or not (force or trouble):
                return
            self._reported = True
        print(
            f"claudetop: usage events are not being recorded ({self.last_error or 'queue full'}); "
            "the application is unaffected. Counters: claudetop.hook.stats().",
            file=sys.stderr,
        )

    def _maybe_health(self, final: bool) -> None:
        """Keep a ``hook_health`` row in the sink's ``meta`` table (SQLite or PostgreSQL) on trouble."""
        problems = self.dropped or self.sink_errors or self.internal_errors
        if not problems or not self._health_dirty or Path(self.target).suffix == ".jsonl":
            return
        if not final and time.monotonic() - self._health_at < HEALTH_EVERY_S:
            return
        self._health_at = time.monotonic()
        try:
            stats = asdict(self.stats())
            stats["updated_at"] = datetime.now(UTC).isoformat()
            row = (f"hook_health:{socket.gethostname()}:{os.getpid()}", json.dumps(stats))
            if is_postgres_target(self.target):
                from claudetop.sinks.postgres import PostgresSink

                sink = self._open()
                if isinstance(sink, PostgresSink):
                    sink.write_meta(*row)
                self._health_dirty = False
                return
            if self._health is None:
                self._health = connect_sqlite(Path(self.target).expanduser(), busy_timeout_s=0.5)
            self._health.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", row)
            self._health_dirty = False
        except Exception as err:
            self.last_error = f"cannot record hook health in {self.target}: {err}"

    # --- process lifecycle --------------------------------------------------------------------

    def after_fork_in_child(self) -> None:
        leave_inherited(self._sink, self._health)
        self._reset()


_WRITERS: weakref.WeakSet[Writer] = weakref.WeakSet()
_exit_hook_installed = False


def _ensure_exit_hook() -> None:
    global _exit_hook_installed
    if not _exit_hook_installed:
        _exit_hook_installed = True
        atexit.register(close_all)


def close_all() -> None:
    """Flush and stop every writer, each within its short timeout; runs at interpreter exit."""
    for writer in list(_WRITERS):
        writer.close()


def _after_fork_in_child() -> None:
    """Runs after every writer's own ``after_fork_in_child`` (``forksafe`` registered its handler first)."""
    if _WRITERS and "multiprocessing" in sys.modules:
        # A multiprocessing child leaves through os._exit, which skips atexit, and its bootstrap first
        # clears every finalizer registered so far, then runs the after-fork callbacks: register the
        # flush from one of those.
        from multiprocessing.util import register_after_fork

        register_after_fork(close_all, _flush_at_multiprocessing_exit)


def _flush_at_multiprocessing_exit(_anchor: object) -> None:
    from multiprocessing.util import Finalize

    Finalize(None, close_all, exitpriority=100)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
