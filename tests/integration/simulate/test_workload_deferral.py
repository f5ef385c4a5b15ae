"""The nightly summarisation job goes through ``claudetop.deferrable``: at once with batching off,
as Message Batches on the simulated clock with it enforced, tagged with its task either way."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import anthropic
import pytest

import claudetop
from claudetop.config import config_from_text
from claudetop.policies import PolicyStore
from claudetop.simulate import FakeAnthropic, FakeConfig, SimClock
from claudetop.simulate.workload import NAIVE_SCENARIOS, Workload

START = datetime(2026, 3, 2, 1, 59, tzinfo=UTC)
WINDOW_S = 1800.0
"""Covers the whole job: its documents arrive every 2 simulated seconds from 02:00 to 02:09:58."""
DOCUMENTS = int(NAIVE_SCENARIOS["summarisation"].rate_per_hour)


def nightly(tmp_path: Path, mode: str) -> tuple[Workload, FakeAnthropic, Path]:
    sink = tmp_path / f"{mode}.db"
    config = config_from_text("")
    with PolicyStore(sink, config=config) as store:
        store.set("batching", mode, by="test")
    clock = SimClock(speed=3600, start=START)
    fake = FakeAnthropic(clock=clock, config=FakeConfig(batch_processing_s=(60, 600)))
    with fake:

        def client() -> anthropic.Anthropic:
            raw = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
            return claudetop.instrument(raw, sink=sink, config=config, policies=False)

        workload = Workload(
            client,
            clock,
            ("summarisation",),
            deferrable=lambda c: claudetop.deferrable(c, sink=sink, config=config, clock=clock),
            async_tasks=config.batching.async_tasks,
        )
        guard = threading.Timer(30, workload.stop.set)
        guard.start()
        try:
            workload.run(WINDOW_S, start=START.timestamp())
        finally:
            guard.cancel()
    return workload, fake, sink


def batch_results(sink: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(sink) as conn:
        rows = conn.execute(
            "SELECT task, service_tier FROM events WHERE endpoint = 'batch_result'"
        ).fetchall()
    return [(task, tier) for task, tier in rows]


def test_batching_off_sends_each_document_at_once(tmp_path: Path) -> None:
    workload, fake, sink = nightly(tmp_path, "off")
    assert workload.stats.calls == {"summarisation": DOCUMENTS}
    assert workload.stats.deferred == 0 and workload.stats.awaiting == 0
    assert [r.service_tier for r in fake.ledger.rows()] == ["standard"] * DOCUMENTS
    assert "batches_create" not in fake.stats.by_route
    assert batch_results(sink) == []


@pytest.mark.timeout(60)
def test_batching_enforced_defers_every_document_and_collects_the_results(tmp_path: Path) -> None:
    workload, fake, sink = nightly(tmp_path, "enforce")
    assert workload.stats.deferred == DOCUMENTS
    assert workload.stats.calls == {"summarisation": DOCUMENTS} and not workload.stats.errors
    assert workload.stats.awaiting == 0
    assert [r.service_tier for r in fake.ledger.rows()] == ["batch"] * DOCUMENTS
    assert batch_results(sink) == [("summarisation", "batch")] * DOCUMENTS
