"""Closing a deferral queue: what it leaves in the sink is taken over by another queue, exactly once,
and the app's handles do not wait for results this queue will never collect."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import anthropic

from claudetop.config import BatchingConfig, Config
from claudetop.policies.batching import DeferralQueue
from claudetop.simulate import FakeAnthropic, FakeConfig, FaultRule, SimClock
from tests.integration.policies.test_deferral_crash import states, wait_until

ONE_PER_BATCH = Config(
    batching=BatchingConfig(batch_size=1, max_wait_s=60, poll_interval_s=0.05, backoff_cap_s=0.2)
)

SLOW_CREATE = FaultRule(kind="slow", path="/v1/messages/batches", method="POST", next_n=1, delay_s=2.0)
"""The first ``batches.create`` is made on the server at once but answered 2 real seconds later."""


def params(i: int) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 20,
        "messages": [{"role": "user", "content": f"doc {i}"}],
    }


def client_for(fake: FakeAnthropic) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")


def test_closing_while_the_worker_waits_on_batches_create_makes_one_batch_per_request(tmp_path: Path) -> None:
    """The worker records the batch it created after ``close`` returned; the queue that adopts the
    request polls that batch instead of submitting the request again."""
    sink = tmp_path / "events.db"
    with FakeAnthropic(clock=SimClock(speed=3600), config=FakeConfig(faults=[SLOW_CREATE])) as fake:
        closing = DeferralQueue(sink, client_for(fake), ONE_PER_BATCH)
        closing.start()
        closing.enqueue(params(0))
        wait_until(lambda: states(sink) == {"submitting": 1}, timeout_s=30)
        closing.close(timeout=0.1)
        assert closing._thread is not None
        worker = closing._thread
        worker.join(30)
        assert not worker.is_alive()
        with sqlite3.connect(sink) as db:
            recorded = db.execute("SELECT state, batch_id IS NOT NULL FROM deferred_requests").fetchall()
        assert recorded in ([("submitted", 1)], [("done", 1)]), "the batch the worker created went unrecorded"

        adopter = DeferralQueue(sink, client_for(fake), ONE_PER_BATCH)
        adopter.start()
        try:
            wait_until(lambda: adopter.pending() == 0, timeout_s=30)
        finally:
            adopter.close()
        batches = list(client_for(fake).messages.batches.list(limit=100))
    assert [b.request_counts.succeeded for b in batches] == [1]
    with sqlite3.connect(sink) as db:
        assert db.execute("SELECT count(*) FROM events WHERE endpoint = 'batch_result'").fetchone()[0] == 1
