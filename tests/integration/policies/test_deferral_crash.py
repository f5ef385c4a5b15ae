"""Acceptance: kill -9 an app with 500 deferred requests queued and 2 batches in flight; after a
restart (itself killed once mid-way) every request's result is recorded exactly once. Another
process already running on the sink leaves them alone while the app lives, and takes them over once
it is killed; so are requests queued by a claudetop from before queues owned their requests."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anthropic

from claudetop.policies.batching import CLAIM_TIMEOUT_S, DeferralQueue
from claudetop.simulate import FakeAnthropic, SimClock
from claudetop.sinks.schema import MIGRATIONS, format_ts, migrate
from tests.integration.policies.deferral_app import CONFIG

APP = Path(__file__).with_name("deferral_app.py")
ROOT = Path(__file__).resolve().parents[3]


def spawn(mode: str, base_url: str, sink: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, str(APP), mode, base_url, str(sink)], stdout=subprocess.PIPE, text=True, env=env
    )


def states(sink: Path) -> dict[str, int]:
    with sqlite3.connect(sink) as db:
        return dict(db.execute("SELECT state, count(*) FROM deferred_requests GROUP BY state").fetchall())


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)


def wait_until(done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"not done in {timeout_s:g} s"
        time.sleep(0.02)


def recorded_once(sink: Path) -> tuple[int, int, int]:
    """Events (all of them results), distinct requests they are for, and the rollups' request count."""
    with sqlite3.connect(sink) as db:
        events, requests = db.execute("SELECT count(*), count(DISTINCT custom_id) FROM events").fetchone()
        rollup = db.execute("SELECT coalesce(sum(requests), 0) FROM rollups").fetchone()[0]
    return events, requests, rollup


def test_sigkill_with_queued_and_in_flight_requests_loses_nothing_and_records_nothing_twice(
    tmp_path: Path,
) -> None:
    sink = tmp_path / "events.db"
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        app = spawn("queue", fake.base_url, sink)
        try:
            assert app.stdout is not None and app.stdout.readline().strip() == "READY"
            kill(app)
        finally:
            app.kill()
        assert states(sink) == {"submitted": 200, "queued": 500}
        with sqlite3.connect(sink) as db:
            assert db.execute("SELECT count(DISTINCT batch_id) FROM deferred_requests").fetchone()[0] == 2

        resumed = spawn("resume", fake.base_url, sink)
        try:
            deadline = time.monotonic() + 30
            while states(sink).get("done", 0) == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            kill(resumed)
            print("after killing the restarted app:", states(sink))
        finally:
            resumed.kill()

        final = spawn("resume", fake.base_url, sink)
        try:
            out, _ = final.communicate(timeout=45)
        finally:
            final.kill()
        assert out.strip() == "DONE"

        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        server_requests = sum(b.request_counts.succeeded for b in client.messages.batches.list(limit=100))

    assert states(sink) == {"done": 700}
    assert server_requests == 700
    with sqlite3.connect(sink) as db:
        ids = {r[0] for r in db.execute("SELECT id FROM deferred_requests")}
        recorded = db.execute(
            "SELECT e.custom_id, e.id, d.event_id FROM events e "
            "JOIN deferred_requests d ON d.id = e.custom_id WHERE e.endpoint = 'batch_result'"
        ).fetchall()
    assert recorded_once(sink) == (700, 700, 700)
    assert {r[0] for r in recorded} == ids
    assert all(event_id == stored for _, event_id, stored in recorded)


def test_a_running_process_leaves_a_live_apps_requests_alone_and_takes_them_over_when_it_is_killed(
    tmp_path: Path,
) -> None:
    sink = tmp_path / "events.db"
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        app = spawn("queue", fake.base_url, sink)
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        queue = DeferralQueue(sink, client, CONFIG, clock=SimClock(speed=3600))
        try:
            assert app.stdout is not None and app.stdout.readline().strip() == "READY"
            for _ in range(3):
                queue.flush()
            assert states(sink) == {"submitted": 200, "queued": 500}
            assert set(fake.stats.batch_retrieve_calls.values()) == {0}, "the app's batches were polled"

            kill(app)
            queue.start()
            wait_until(lambda: queue.pending() == 0, timeout_s=60)
        finally:
            app.kill()
            queue.close()
        retrieves = fake.stats.batch_retrieve_calls
    assert states(sink) == {"done": 700}
    assert recorded_once(sink) == (700, 700, 700)
    with sqlite3.connect(sink) as db:
        recorded = dict(db.execute("SELECT id, retrieve_calls FROM batches").fetchall())
    # The adopter polled alone (collecting adds one retrieve: the SDK's batches.results asks first).
    assert retrieves == {batch: polls + 1 for batch, polls in recorded.items()}


def queue_from_before_owners(sink: Path, claimed_at: datetime) -> None:
    """Rows of a claudetop from before queues had owners: one queued, one claimed at ``claimed_at``."""
    old = sqlite3.connect(sink, isolation_level=None)
    migrate(old, MIGRATIONS[:3])  # the fourth gives requests their owner
    now = format_ts(datetime.now(UTC))
    params = '{"model":"claude-haiku-4-5","max_tokens":20,"messages":[{"role":"user","content":"doc"}]}'
    old.executemany(
        "INSERT INTO deferred_requests (id, created_at, params, state, claimed_at) VALUES (?, ?, ?, ?, ?)",
        [
            ("dfr_queued", now, params, "queued", None),
            ("dfr_claimed", now, params, "submitting", format_ts(claimed_at)),
        ],
    )
    old.close()


def test_requests_queued_by_a_claudetop_from_before_owners_are_taken_over(tmp_path: Path) -> None:
    """One queued, one claimed by a process that died before its batch was made: both are submitted."""
    sink = tmp_path / "events.db"
    queue_from_before_owners(sink, datetime.now(UTC) - timedelta(seconds=CLAIM_TIMEOUT_S + 60))
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        queue = DeferralQueue(sink, client, CONFIG, clock=SimClock(speed=3600))
        try:
            queue.start()
            wait_until(lambda: queue.pending() == 0, timeout_s=60)
        finally:
            queue.close()
    assert states(sink) == {"done": 2}
    assert recorded_once(sink) == (2, 2, 2)


def test_a_fresh_claim_by_a_claudetop_from_before_owners_is_left_until_it_times_out(tmp_path: Path) -> None:
    """That claudetop may still be inside ``batches.create`` for it, and has no lock to say it is not:
    submitting the request again would make a second batch for it."""
    sink = tmp_path / "events.db"
    clock = SimClock(speed=0)
    queue_from_before_owners(sink, clock.now_dt())
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        queue = DeferralQueue(sink, client, CONFIG, clock=clock)
        try:
            queue.flush()
            with sqlite3.connect(sink) as db:
                claimed = db.execute("SELECT state, owner FROM deferred_requests WHERE id = 'dfr_claimed'")
                assert claimed.fetchone() == ("submitting", None)
            assert states(sink) == {"submitted": 1, "submitting": 1}

            clock.advance(CLAIM_TIMEOUT_S + 1)
            queue.flush()
            assert states(sink) == {"submitted": 2}
        finally:
            queue.close()
