"""The deferral queue across ``fork()``: a child of an application whose queue is running defers
requests of its own and gets their results, and neither process's SQLite connection is harmed.
Parent and child share the sink, each with its own requests: each resolves its own handles, each
batch is polled by one of them, and a child that outlives its parent does not keep the parent's
requests from being taken over."""

from __future__ import annotations

import json
import os
import signal
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
from claudetop.sinks import forksafe
from tests.forked import in_forked_child, until_held_by_another_thread

ONE_PER_BATCH = Config(
    batching=BatchingConfig(batch_size=1, max_wait_s=60, poll_interval_s=0.05, backoff_cap_s=0.2)
)
"""Wall-clock timing: each request is submitted at once and its batch polled every few hundredths of
a second; a worker with nothing due sleeps for a minute (``IDLE_S``) unless its own process wakes it."""


SHARED = Config(batching=BatchingConfig(batch_size=3, max_wait_s=2, poll_interval_s=0.05, backoff_cap_s=0.2))
"""Two processes with two requests each: neither fills a batch of 3 alone, so each submits its own
after 2 s. A queue that claimed every process's requests would put three of the four into one batch
at once, a batch that only one of the two processes could have made handles for."""


def params(i: int | str) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": f"doc {i}"}],
    }


def client_for(fake: FakeAnthropic) -> anthropic.Anthropic:
    """No keep-alive: the processes must not share an HTTP connection either (not what this tests)."""
    http = httpx2.Client(limits=httpx2.Limits(max_keepalive_connections=0))
    return anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", http_client=http)


def served_messages(client: anthropic.Anthropic) -> dict[str, str]:
    """Request (custom) id -> id of the message the API answered it with, over every batch."""
    return {
        item.custom_id: item.result.message.id
        for batch in client.messages.batches.list(limit=100)
        for item in client.messages.batches.results(batch.id)
        if item.result.type == "succeeded"
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
        queue = DeferralQueue(sink, client_for(fake), ONE_PER_BATCH)
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
        queue.start()
        # Its first step releases stale claims: a write, which waits for the lock inside SQLite, in a
        # sqlite_work section (holding forksafe's guard) until the holder lets go.
        until_held_by_another_thread(forksafe._guard)

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


def test_processes_sharing_a_sink_each_resolve_their_own_handles_and_poll_their_own_batches(
    tmp_path: Path,
) -> None:
    sink = tmp_path / "events.db"
    childs = tmp_path / "child.json"
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        queue = DeferralQueue(sink, client_for(fake), SHARED)
        queue.start()
        try:
            parents = [queue.enqueue(params(f"parent {i}")) for i in range(2)]

            def child_resolves_its_own() -> bool:
                handles = [queue.enqueue(params(f"child {i}")) for i in range(2)]
                childs.write_text(json.dumps({h.id: h.result(timeout=30).id for h in handles}))
                return True

            assert in_forked_child(child_resolves_its_own, timeout_s=60)
            resolved = {**json.loads(childs.read_text()), **{h.id: h.result(timeout=30).id for h in parents}}
        finally:
            queue.close()
        retrieves = fake.stats.batch_retrieve_calls  # before served_messages adds its own
        served = served_messages(client_for(fake))
    assert len(resolved) == 4
    assert resolved == served  # each handle holds the message its own request was answered with
    with sqlite3.connect(sink) as db:
        recorded = dict(db.execute("SELECT id, retrieve_calls FROM batches").fetchall())
    # A batch's poller records the retrieves it polled with, and collecting makes one more (the SDK's
    # ``batches.results`` asks for the batch first): the server saw none from the other process.
    assert retrieves == {batch: polls + 1 for batch, polls in recorded.items()}
    assert sink_state(sink) == ("ok", [("done", 4)], 4)


def test_a_child_that_outlives_its_parent_leaves_the_parents_requests_to_be_taken_over(
    tmp_path: Path,
) -> None:
    """The child inherits the descriptor of the parent's owner lock. If it kept it, the parent's
    requests would look owned for as long as the child lived, with nobody to submit them."""
    sink = tmp_path / "events.db"
    ready_r, ready_w = os.pipe()
    release_r, release_w = os.pipe()
    parent = os.fork()
    if parent == 0:  # pragma: no cover - the application: queues a request, forks a worker, dies
        signal.alarm(20)
        try:
            unused = anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="sk-ant-test")
            queue = DeferralQueue(sink, unused, Config())  # kept: a queue collected is a dead owner
            queue.enqueue(params(0))
            if os.fork() == 0:  # its after-fork handlers have run when this line does
                os.write(ready_w, b"+")
                os.read(release_r, 1)  # lives on until the test is done
            else:
                os.read(ready_r, 1)
        finally:
            os._exit(0)
    try:
        os.waitpid(parent, 0)
        with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
            queue = DeferralQueue(sink, client_for(fake), Config())
            try:
                queue.flush()
            finally:
                queue.close()
    finally:
        os.write(release_w, b"+")
    assert sink_state(sink) == ("ok", [("submitted", 1)], 0)
