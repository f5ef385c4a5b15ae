"""Acceptance: kill -9 an app with 500 deferred requests queued and 2 batches in flight; after a
restart (itself killed once mid-way) every request's result is recorded exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anthropic

from claudetop.simulate import FakeAnthropic, SimClock

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
        results = db.execute("SELECT count(*), count(DISTINCT custom_id) FROM events").fetchone()
        rollup = db.execute("SELECT sum(requests) FROM rollups").fetchone()[0]
    assert results == (700, 700)
    assert {r[0] for r in recorded} == ids
    assert all(event_id == stored for _, event_id, stored in recorded)
    assert rollup == 700
