"""An injected clock dates what the hook records (simulations run faster than the wall clock);
latency stays a real duration."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import anthropic

import claudetop
from claudetop.model import Endpoint
from claudetop.simulate import FakeAnthropic, FakeConfig, FaultRule, SimClock
from tests.integration.hook.conftest import read_batches, read_events
from tests.integration.hook.test_hook_batches_errors import HI, batch_request
from tests.integration.hook.test_hook_messages import MODEL

START = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)


def test_every_surface_is_dated_by_the_injected_clock(sink: Path) -> None:
    clock = SimClock(speed=0, start=START)
    with FakeAnthropic(clock=clock) as fake:
        bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
        client = claudetop.instrument(bare, sink=sink, policies=False, clock=clock.now)
        client.messages.create(model=MODEL, max_tokens=10, messages=HI)
        clock.advance(3600)
        with client.messages.stream(model=MODEL, max_tokens=10, messages=HI) as stream:
            stream.get_final_message()
        clock.advance(3600)
        batch = client.messages.batches.create(requests=[batch_request("a"), batch_request("b")])
        clock.advance(86_400)
        client.messages.batches.retrieve(batch.id)
        clock.advance(3600)
        list(client.messages.batches.results(batch.id))
    events = read_events(sink)
    by_kind: dict[Endpoint, list[datetime]] = {}
    for event in events:
        by_kind.setdefault(event.endpoint, []).append(event.ts)
    hour, day = timedelta(hours=1), timedelta(days=1)
    assert by_kind[Endpoint.MESSAGES] == [START, START + hour]
    assert by_kind[Endpoint.BATCH_CREATE] == [START + 2 * hour]
    assert by_kind[Endpoint.BATCH_RETRIEVE] == [START + 2 * hour + day, START + 3 * hour + day]
    assert by_kind[Endpoint.BATCH_RESULT] == [START + 3 * hour + day] * 2
    assert read_batches(sink)[batch.id].updated_at == START + 3 * hour + day
    calls = [e for e in events if e.endpoint is not Endpoint.BATCH_RESULT]
    assert all(e.latency_ms is not None and e.latency_ms < 60_000 for e in calls)  # real, not simulated


def test_a_retried_call_is_dated_at_its_first_attempt(sink: Path) -> None:
    """The SDK backs off between attempts; each attempt reads the clock, the event keeps the first."""
    ticks = iter(START.timestamp() + 600 * n for n in range(10))
    config = FakeConfig(faults=[FaultRule("rate_limit", next_n=2, retry_after_s=0.01)])
    with FakeAnthropic(clock=SimClock(speed=0, start=START), config=config) as fake:
        bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=2)
        client = claudetop.instrument(bare, sink=sink, policies=False, clock=lambda: next(ticks))
        client.messages.create(model=MODEL, max_tokens=10, messages=HI)
    [event] = read_events(sink)
    assert event.retries == 2 and event.status == 200
    assert event.ts == START
    assert next(ticks) == START.timestamp() + 600 * 3  # one clock reading per attempt
