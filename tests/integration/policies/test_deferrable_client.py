"""``deferrable(client)`` through the real SDK: immediate when batching is off, a batch when enforced
(sync and async clients), and a shadow ``defer`` decision recorded by the hook in shadow mode."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import anthropic

import claudetop
from claudetop.config import BatchingConfig, Config
from claudetop.policies import PolicyStore
from claudetop.policies.batching import deferrable
from claudetop.simulate import FakeAnthropic, SimClock

CONFIG = Config(batching=BatchingConfig(batch_size=3, max_wait_s=60, poll_interval_s=60, backoff_cap_s=900))
HAIKU_IN, HAIKU_OUT = 1.0, 5.0
"""Published claude-haiku-4-5 prices, USD per MTok; batch results cost half."""


def params(i: int) -> dict[str, Any]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": f"doc {i}"}],
    }


def batch_results(sink: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(sink) as db:
        return db.execute(
            "SELECT custom_id, deferred, input_tokens, output_tokens, cost_micros FROM events "
            "WHERE endpoint = 'batch_result'"
        ).fetchall()


def test_sync_client_runs_now_when_off_and_batches_when_enforced(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    clock = SimClock(speed=3600)
    with FakeAnthropic(clock=clock) as fake, PolicyStore(sink, config=CONFIG) as store:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        wrapped = deferrable(client, sink=sink, config=CONFIG, clock=clock)
        now = wrapped.messages.create(**params(0))
        assert isinstance(now, claudetop.policies.batching.DeferredHandle)
        assert not now.deferred and now.done()
        assert now.result().model == "claude-haiku-4-5"
        assert fake.stats.by_route.get("batches_create", 0) == 0

        store.set("batching", "enforce", by="test")
        time.sleep(0.3)
        handles = [wrapped.messages.create(**params(i)) for i in range(1, 4)]
        assert all(h.deferred for h in handles)
        messages = [h.result(timeout=30) for h in handles]
        wrapped.close()
        assert fake.stats.by_route["batches_create"] == 1
    assert all(m.model == "claude-haiku-4-5" for m in messages)
    rows = batch_results(sink)
    assert sorted(r[0] for r in rows) == sorted(h.id for h in handles)
    for _, deferred, inp, out, cost in rows:
        assert deferred == 1
        assert cost == round((inp * HAIKU_IN + out * HAIKU_OUT) / 2)


def test_async_client_awaits_the_batch_result(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    clock = SimClock(speed=3600)
    with FakeAnthropic(clock=clock) as fake, PolicyStore(sink, config=CONFIG) as store:
        store.set("batching", "enforce", by="test")

        async def app() -> list[Any]:
            client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-test")
            wrapped = deferrable(client, sink=sink, config=CONFIG, clock=clock)
            handles = [await wrapped.messages.create(**params(i)) for i in range(3)]
            try:
                return [await asyncio.wait_for(h, 30) for h in handles]
            finally:
                wrapped.close()

        messages = asyncio.run(app())
    assert [m.model for m in messages] == ["claude-haiku-4-5"] * 3
    assert len(batch_results(sink)) == 3


def test_shadow_runs_now_and_the_hook_records_what_deferring_would_save(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    with FakeAnthropic(clock=SimClock(speed=60)) as fake, PolicyStore(sink, config=CONFIG) as store:
        store.set("batching", "shadow", by="test")
        hooked = claudetop.instrument(
            anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test"), sink=sink, config=CONFIG
        )
        wrapped = deferrable(hooked, sink=sink, config=CONFIG)
        deadline = time.monotonic() + 20
        decisions: list[dict[str, Any]] = []
        while not decisions and time.monotonic() < deadline:
            handle = wrapped.messages.create(**params(0))
            assert not handle.deferred
            claudetop.flush()
            with sqlite3.connect(sink) as db:
                row = db.execute("SELECT policies FROM events ORDER BY seq DESC LIMIT 1").fetchone()
            decisions = [d for d in json.loads(row[0]) if d["policy"] == "batching"] if row else []
        wrapped.close()
        assert fake.stats.by_route.get("batches_create", 0) == 0
    (decision,) = decisions
    assert decision["mode"] == "shadow" and decision["action"] == "defer" and not decision["changed_request"]
    assert decision["saving_micros"] > 0
