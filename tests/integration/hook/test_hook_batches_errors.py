"""Batches (states, polls, results at batch rates) and errors/retries through the real SDK."""

from pathlib import Path
from typing import Any

import anthropic
import pytest

import claudetop
from claudetop.model import BatchStatus, Endpoint
from claudetop.simulate import FakeAnthropic, FaultRule, SimClock
from claudetop.simulate.tokens import marker
from tests.integration.hook.conftest import read_batches, read_events
from tests.integration.hook.test_hook_messages import MODEL, recorded, served, sonnet_cost

HI = [{"role": "user", "content": "x"}]


def sync_client(fake: FakeAnthropic, sink: Path, retries: int) -> anthropic.Anthropic:
    bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=retries)
    return claudetop.instrument(bare, sink=sink, policies=False)


def batch_request(cid: str, out: int = 30, model: str = MODEL) -> Any:
    params = {
        "model": model,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": f"doc {cid} {marker(out)}"}],
    }
    return {"custom_id": cid, "params": params}


def test_batch_lifecycle_sync(fake: FakeAnthropic, clock: SimClock, sink: Path) -> None:
    bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
    client = claudetop.instrument(bare, sink=sink, policies=False)
    batch = client.messages.batches.create(
        requests=[*(batch_request(f"r{i}") for i in range(5)), batch_request("bad", model="claude-unknown")]
    )
    other = client.messages.batches.create(requests=[batch_request("c")])
    client.messages.batches.cancel(other.id)
    for _ in range(8):
        clock.advance(600)
        client.messages.batches.retrieve(batch.id)
    listed = list(client.messages.batches.list())
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    events = read_events(sink)
    kinds = [e.endpoint for e in events]
    assert kinds.count(Endpoint.BATCH_CREATE) == 2 and kinds.count(Endpoint.BATCH_CANCEL) == 1
    assert kinds.count(Endpoint.BATCH_RETRIEVE) == 9  # 8 polls + the one inside results()
    assert kinds.count(Endpoint.BATCH_LIST) >= 1 and kinds.count(Endpoint.BATCH_RESULTS) == 1
    per_result = {e.custom_id: e for e in events if e.endpoint is Endpoint.BATCH_RESULT}
    assert set(per_result) == set(results) and len(listed) == 2
    for cid, result in results.items():
        event = per_result[cid]
        assert event.batch_id == batch.id and event.is_batch
        if result.type == "succeeded":
            usage = served(result.message.usage)
            assert recorded(event) == usage
            assert event.cost_micros == sonnet_cost(usage, batch=True)
        else:
            assert event.error_type == "not_found_error" and event.output_tokens == 0
    states = read_batches(sink)
    assert states[batch.id].status is BatchStatus.ENDED and states[batch.id].retrieve_calls == 9
    assert states[batch.id].succeeded == 5 and states[batch.id].errored == 1
    assert states[other.id].status in (BatchStatus.CANCELING, BatchStatus.ENDED)
    assert fake.stats.batch_retrieve_calls[batch.id] == 9


async def test_batch_lifecycle_async_and_beta(fake: FakeAnthropic, clock: SimClock, sink: Path) -> None:
    bare = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
    client = claudetop.instrument(bare, sink=sink, policies=False)
    batch = await client.beta.messages.batches.create(requests=[batch_request(f"a{i}") for i in range(3)])
    clock.advance(4000)
    await client.messages.batches.retrieve(batch.id)
    got = [r async for r in await client.messages.batches.results(batch.id)]
    events = read_events(sink)
    results = [e for e in events if e.endpoint is Endpoint.BATCH_RESULT]
    assert len(results) == len(got) == 3
    for event, line in zip(
        sorted(results, key=lambda e: e.custom_id or ""), sorted(got, key=lambda r: r.custom_id), strict=True
    ):
        assert recorded(event) == served(line.result.message.usage)  # type: ignore[union-attr]
        assert event.cost_micros == sonnet_cost(recorded(event), batch=True)
    assert read_batches(sink)[batch.id].status is BatchStatus.ENDED


def test_reading_results_twice_does_not_double_count(
    fake: FakeAnthropic, clock: SimClock, sink: Path
) -> None:
    client = sync_client(fake, sink, 0)
    batch = client.messages.batches.create(requests=[batch_request("x")])
    clock.advance(4000)
    for _ in range(2):
        list(client.messages.batches.results(batch.id))
    assert sum(e.endpoint is Endpoint.BATCH_RESULT for e in read_events(sink)) == 1


def test_every_result_of_a_large_batch_read_at_full_speed_is_recorded(
    fake: FakeAnthropic, clock: SimClock, sink: Path
) -> None:
    """More results than the hook's queue holds items (20,000), read as fast as the SDK yields them."""
    count = 30_000
    bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0, timeout=600)
    batch = bare.messages.batches.create(requests=[batch_request(f"r{i}", out=1) for i in range(count)])
    clock.advance(7200)
    bare.messages.batches.retrieve(batch.id)
    client = claudetop.instrument(bare, sink=sink, policies=False)
    assert sum(1 for _ in client.messages.batches.results(batch.id)) == count
    results = [e for e in read_events(sink) if e.endpoint is Endpoint.BATCH_RESULT]
    assert len(results) == count == len({e.id for e in results})
    assert [s.dropped for s in claudetop.stats() if s.sink == str(sink)] == [0]


def test_retried_call_is_one_event_with_retries(clock: SimClock, sink: Path) -> None:
    from claudetop.simulate import FakeConfig

    config = FakeConfig(faults=[FaultRule("rate_limit", next_n=2, retry_after_s=0.01)])
    with FakeAnthropic(clock=clock, config=config) as fake:
        client = sync_client(fake, sink, 2)
        message = client.messages.create(model=MODEL, max_tokens=10, messages=HI)
    [event] = read_events(sink)
    assert event.retries == 2 and event.status == 200 and event.error_type is None
    assert recorded(event) == served(message.usage)


def test_a_retry_that_takes_longer_than_the_hold_is_still_one_event(
    clock: SimClock, sink: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The failure waits for its retry to start (``RETRY_HOLD_S``, made short here), then for it to end,
    however long the answer takes."""
    from claudetop.hook import assemble
    from claudetop.simulate import FakeConfig

    monkeypatch.setattr(assemble, "RETRY_HOLD_S", 0.3)
    slow_answer = FaultRule("slow", next_n=1, delay_s=1.5)
    config = FakeConfig(faults=[FaultRule("rate_limit", next_n=1, retry_after_s=0.01), slow_answer])
    with FakeAnthropic(clock=clock, config=config) as fake:
        client = sync_client(fake, sink, 2)
        client.messages.create(model=MODEL, max_tokens=10, messages=HI)
    [event] = read_events(sink)
    assert (event.retries, event.status) == (1, 200)
    assert event.latency_ms is not None and event.latency_ms >= 1500


@pytest.mark.parametrize(
    ("kind", "status", "error_type", "exc"),
    [
        ("overloaded", 529, "overloaded_error", anthropic.APIStatusError),
        ("server_error", 500, "api_error", anthropic.InternalServerError),
        ("drop", None, "APIConnectionError", anthropic.APIConnectionError),
    ],
)
def test_final_errors_are_recorded(
    fake: FakeAnthropic, sink: Path, kind: Any, status: int | None, error_type: str, exc: type[Exception]
) -> None:
    fake.faults.add(FaultRule(kind, next_n=2))
    client = sync_client(fake, sink, 1)
    with pytest.raises(exc):
        client.messages.create(model=MODEL, max_tokens=10, messages=HI)
    [event] = read_events(sink)
    assert event.status == status and event.error_type == error_type and event.retries == 1
    assert event.input_tokens == 0 and event.output_tokens == 0 and event.latency_ms is not None


def test_client_error_is_recorded_immediately(fake: FakeAnthropic, sink: Path) -> None:
    client = sync_client(fake, sink, 2)
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="claude-unknown", max_tokens=10, messages=HI)
    [event] = read_events(sink)
    assert event.status == 404 and event.error_type == "not_found_error" and event.cost_micros is None
