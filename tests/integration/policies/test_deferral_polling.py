"""The deferral queue against the fake API through the real SDK, on a simulated day.

The clock is frozen and moved by the test (``SimClock.advance``) to exactly when the queue says
something is next due, so a simulated day runs in seconds and every retrieve the server counts is
one the queue's backoff chose to make.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anthropic
import pytest

from claudetop.config import BatchingConfig, Config
from claudetop.model import PolicyMode
from claudetop.policies import PolicyEngine, PolicyStore
from claudetop.policies.batching import DeferralQueue, DeferredRequestFailed
from claudetop.simulate import FakeAnthropic, FakeConfig, FaultRule, SimClock

DAY_S = 24 * 3600.0
SONNET = "claude-sonnet-4-6"
SONNET_IN, SONNET_OUT = 3.0, 15.0
"""Published claude-sonnet-4-6 prices, USD per MTok (= micro-dollars per token); batch is 50% of both."""


def params(i: int) -> dict[str, Any]:
    return {
        "model": SONNET,
        "max_tokens": 200,
        "messages": [{"role": "user", "content": f"summarise doc {i}"}],
    }


@pytest.fixture
def clock() -> SimClock:
    return SimClock(speed=0, start=datetime(2026, 11, 2, tzinfo=UTC))


def queue_for(tmp_path: Path, fake: FakeAnthropic, clock: SimClock, config: Config) -> DeferralQueue:
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
    store = PolicyStore(tmp_path / "events.db", config=config)
    return DeferralQueue(
        tmp_path / "events.db", client, config, clock=clock, engine=PolicyEngine(store, config)
    )


def run_until(queue: DeferralQueue, clock: SimClock, end: float) -> None:
    while clock.now() < end:
        delay = queue.step()
        clock.advance(min(max(delay, 1.0), end - clock.now()))


def test_a_simulated_day_of_deferred_work_polls_gently_and_records_each_result_once(
    tmp_path: Path, clock: SimClock
) -> None:
    config = Config(
        batching=BatchingConfig(batch_size=25, max_wait_s=1800, poll_interval_s=60, backoff_cap_s=900)
    )
    with FakeAnthropic(clock=clock) as fake:
        queue = queue_for(tmp_path, fake, clock, config)
        start = clock.now()
        handles = []
        for i in range(288):
            handles.append(queue.enqueue(params(i), task="summarisation"))
            run_until(queue, clock, start + (i + 1) * 300.0)
        run_until(queue, clock, start + DAY_S + 4 * 3600)
        assert queue.pending() == 0
        retrieves = fake.stats.batch_retrieve_calls

    assert len(retrieves) >= 288 // 25
    assert max(retrieves.values()) <= 40, retrieves
    messages = [h.result(timeout=0) for h in handles]
    assert all(m.model == SONNET for m in messages)

    db = sqlite3.connect(tmp_path / "events.db")
    rows = db.execute(
        "SELECT id, custom_id, batch_id, deferred, task, input_tokens, output_tokens, cache_read_tokens, "
        "cache_write_5m_tokens, cost_micros, policies FROM events WHERE endpoint = 'batch_result'"
    ).fetchall()
    assert len(rows) == 288
    assert {r[1] for r in rows} == {h.id for h in handles}
    for event_id, custom_id, batch_id, deferred, task, inp, out, read, write, cost, policies in rows:
        assert event_id == f"batch:{batch_id}:{custom_id}"
        assert deferred == 1 and task == "summarisation"
        assert read == write == 0
        assert cost == round((inp * SONNET_IN + out * SONNET_OUT) / 2)
        assert '"action":"defer"' in policies and '"mode":"enforce"' in policies
    batches = db.execute("SELECT count(*), sum(deferred), max(retrieve_calls) FROM batches").fetchone()
    assert batches[0] == len(retrieves) and batches[1] == batches[0]


def test_retry_after_on_a_rate_limited_retrieve_is_honoured(tmp_path: Path, clock: SimClock) -> None:
    wait_s = 1200.0
    rule = FaultRule(
        kind="rate_limit", path="/v1/messages/batches/", method="GET", next_n=1, retry_after_s=wait_s
    )
    config = Config(batching=BatchingConfig(batch_size=1, poll_interval_s=60, backoff_cap_s=900))
    with FakeAnthropic(
        clock=clock, config=FakeConfig(faults=[rule], batch_processing_s=(7200, 7200))
    ) as fake:
        queue = queue_for(tmp_path, fake, clock, config)
        queue.enqueue(params(0))
        queue.step()
        first_due = queue.step()
        clock.advance(first_due)
        after_429 = queue.step()
        assert fake.stats.faults_fired
        assert after_429 >= wait_s
        assert after_429 > config.batching.backoff_cap_s


def test_errored_requests_fail_their_handle_and_are_still_recorded(tmp_path: Path, clock: SimClock) -> None:
    config = Config(batching=BatchingConfig(batch_size=2))
    with FakeAnthropic(clock=clock) as fake:
        queue = queue_for(tmp_path, fake, clock, config)
        good = queue.enqueue(params(1))
        bad = queue.enqueue({"model": SONNET, "messages": [{"role": "user", "content": "no max_tokens"}]})
        run_until(queue, clock, clock.now() + 3 * 3600)
    assert good.result(timeout=0).model == SONNET
    with pytest.raises(DeferredRequestFailed):
        bad.result(timeout=0)
    db = sqlite3.connect(tmp_path / "events.db")
    kinds = db.execute("SELECT custom_id, error_type FROM events WHERE endpoint = 'batch_result'").fetchall()
    assert dict(kinds) == {good.id: None, bad.id: "invalid_request_error"}


def test_policy_mode_is_enforce_on_queued_requests(tmp_path: Path, clock: SimClock) -> None:
    config = Config(output_caps={"summarisation": 100})
    store = PolicyStore(tmp_path / "events.db", config=config)
    store.set("output_caps", PolicyMode.ENFORCE, by="t")
    with FakeAnthropic(clock=clock) as fake:
        queue = queue_for(tmp_path, fake, clock, config)
        queue.enqueue(params(0), task="summarisation")
        row = (
            sqlite3.connect(tmp_path / "events.db")
            .execute("SELECT params, policies FROM deferred_requests")
            .fetchone()
        )
    assert '"max_tokens":100' in row[0]
    assert "cap max_tokens=100" in row[1]
