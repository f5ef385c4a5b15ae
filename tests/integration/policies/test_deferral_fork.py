"""The deferral queue across ``fork()``: a child of an application whose queue is running defers
requests of its own and gets their results, and neither process's SQLite connection is harmed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anthropic
import httpx2

from claudetop.config import BatchingConfig, Config
from claudetop.policies.batching import DeferralQueue
from claudetop.simulate import FakeAnthropic, SimClock
from tests.forked import in_forked_child

ONE_PER_BATCH = Config(
    batching=BatchingConfig(batch_size=1, max_wait_s=60, poll_interval_s=0.05, backoff_cap_s=0.2)
)
"""Wall-clock timing: each request is submitted at once and its batch polled every few hundredths of
a second; a worker with nothing due sleeps for a minute (``IDLE_S``) unless its own process wakes it."""


def params(i: int) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": f"doc {i}"}],
    }


def sink_state(sink: Path) -> tuple[str, list[tuple[str, int]], int]:
    with sqlite3.connect(sink) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        states = db.execute("SELECT state, count(*) FROM deferred_requests GROUP BY state").fetchall()
        results = db.execute(
            "SELECT count(DISTINCT id) FROM events WHERE endpoint = 'batch_result'"
        ).fetchone()
    return integrity, states, results[0]


def test_a_forked_child_defers_requests_of_its_own_and_the_parent_carries_on(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        # No keep-alive: the processes must not share an HTTP connection either (not what this tests).
        http = httpx2.Client(limits=httpx2.Limits(max_keepalive_connections=0))
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", http_client=http)
        queue = DeferralQueue(sink, client, ONE_PER_BATCH)
        queue.start()
        try:
            # The worker has submitted, polled and recorded on its connection and sink; it now sleeps.
            assert queue.enqueue(params(0)).result(timeout=30).model == "claude-haiku-4-5"

            def child_gets_its_result() -> bool:
                handle = queue.enqueue(params(1))
                return bool(handle.result(timeout=20).model == "claude-haiku-4-5")

            assert in_forked_child(child_gets_its_result, timeout_s=30)
            assert queue.enqueue(params(2)).result(timeout=30).model == "claude-haiku-4-5"
            assert queue.pending() == 0
        finally:
            queue.close()
    assert sink_state(sink) == ("ok", [("done", 3)], 3)


LOCK_HOLDER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
"""


def test_a_fork_while_the_worker_waits_inside_sqlite_waits_for_it_and_the_child_can_defer(
    tmp_path: Path,
) -> None:
    """Another process holds the sink's write lock, so the worker's first write waits inside SQLite
    holding its connection (and the queue's lock): a child forked then must not inherit either held."""
    sink = tmp_path / "events.db"
    unused = anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="sk-ant-test")
    queue = DeferralQueue(sink, unused, Config())  # nothing reaches a batch: the default size is 100
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(sink)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        queue.start()  # its first step releases stale claims: a write, which now waits for the lock
        time.sleep(0.3)

        def release() -> None:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()

        releaser = threading.Timer(0.5, release)
        releaser.start()
        forking = time.monotonic()

        def child_can_defer() -> bool:
            waited = time.monotonic() - forking  # one clock for both processes
            queue.enqueue(params(1))
            return waited >= 0.4 and queue.queued() == 1

        assert in_forked_child(child_can_defer, timeout_s=20)
        releaser.join()
        assert holder.wait(10) == 0
        queue.enqueue(params(2))
        assert queue.queued() == 2
    finally:
        holder.kill()
        queue.close()
    assert sink_state(sink) == ("ok", [("queued", 2)], 0)
