"""Closing a deferral queue: what it leaves in the sink is taken over by another queue, exactly once,
and the app's handles do not wait for results this queue will never collect."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import anthropic
import pytest

from claudetop.config import BatchingConfig, Config
from claudetop.policies.batching import DeferralQueue, DeferredRequestFailed
from claudetop.policies.queue_owners import owners_dir
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


def test_handles_left_at_close_fail_instead_of_waiting_for_ever(tmp_path: Path) -> None:
    unused = anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="sk-ant-test")
    queue = DeferralQueue(tmp_path / "events.db", unused, Config())  # 100 a batch: it stays queued
    handle = queue.enqueue(params(0))
    queue.close()
    with pytest.raises(DeferredRequestFailed, match="closed"):
        handle.result(timeout=5)


def test_an_owner_whose_lock_file_was_deleted_makes_it_again_so_its_requests_are_adopted(
    tmp_path: Path,
) -> None:
    sink = tmp_path / "events.db"
    clock = SimClock(speed=0)
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        owner = DeferralQueue(sink, client_for(fake), Config(), clock=clock)
        owner.enqueue(params(0))
        shutil.rmtree(owners_dir(sink))  # a temporary-file cleaner
        owner.step()
        assert (owners_dir(sink) / f"{owner._me()}.lock").exists()
        owner.close()

        adopter = DeferralQueue(sink, client_for(fake), Config(), clock=clock)
        try:
            adopter.flush()
        finally:
            adopter.close()
    assert states(sink) == {"submitted": 1}


def test_a_queue_whose_app_changes_directory_still_adopts_what_closed_queues_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    clock = SimClock(speed=0)
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        adopter = DeferralQueue(Path("events.db"), client_for(fake), Config(), clock=clock)
        closed = DeferralQueue(tmp_path / "events.db", client_for(fake), Config(), clock=clock)
        closed.enqueue(params(0))
        closed.close()
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        monkeypatch.chdir(elsewhere)
        try:
            adopter.flush()
        finally:
            adopter.close()
    assert states(tmp_path / "events.db") == {"submitted": 1}
