"""An event the sink cannot store never holds up the events recorded after it: it is dropped and
counted, and everything else is written (it used to be retried with the whole backlog forever)."""

from __future__ import annotations

from pathlib import Path

import anthropic
import psycopg
import pytest

import claudetop
from claudetop.simulate import FakeAnthropic
from tests.integration.hook.conftest import read_events

HI = [{"role": "user", "content": "hi"}]


def _client(fake: FakeAnthropic, sink: str) -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
    return claudetop.instrument(client, sink=sink, policies=False)


def test_an_out_of_range_integer_is_stored_clamped(fake: FakeAnthropic, tmp_path: Path) -> None:
    """``max_tokens=2**63`` (a value an application may pass through) does not fit a 64-bit column."""
    sink = tmp_path / "events.db"
    client = _client(fake, str(sink))
    client.messages.create(model="claude-haiku-4-5", max_tokens=2**63, messages=HI, timeout=30)
    for _ in range(3):
        client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HI)
    events = read_events(sink)
    assert [e.max_tokens for e in events] == [2**63 - 1, 5, 5, 5]


@pytest.mark.postgres
def test_a_value_postgresql_refuses_drops_that_event_only(fake: FakeAnthropic, pg_dsn: str) -> None:
    """PostgreSQL text cannot hold a NUL character, which a task tag may carry."""
    client = _client(fake, pg_dsn)
    client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HI)
    with claudetop.task("nightly\x00job"):
        client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HI)
    for _ in range(3):
        client.messages.create(model="claude-haiku-4-5", max_tokens=5, messages=HI)
    assert claudetop.flush(10.0)
    (stats,) = [s for s in claudetop.stats() if s.sink == pg_dsn]
    with psycopg.connect(pg_dsn) as conn:
        tasks = [r[0] for r in conn.execute("SELECT task FROM events ORDER BY seq")]
    assert len(tasks) == 4 and not any("nightly" in (t or "") for t in tasks)
    assert stats.dropped == 1 and "rejected an event" in (stats.last_error or "")
