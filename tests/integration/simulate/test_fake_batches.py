"""Message Batches lifecycle through the real SDK, on an accelerated (hand-stepped) clock."""

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from claudetop.simulate import FakeAnthropic, FakeConfig, SimClock
from claudetop.simulate.tokens import marker


def request(cid: str, model: str = "claude-sonnet-4-6", out: int = 30) -> Any:
    params = {
        "model": model,
        "max_tokens": 100,
        "messages": [{"role": "user", "content": f"doc {cid} {marker(out)}"}],
    }
    return {"custom_id": cid, "params": params}


@pytest.fixture
def slow_fake(clock: SimClock) -> Iterator[FakeAnthropic]:
    """Batch requests take 20-30 simulated hours: some finish before the 24 h expiry, some don't."""
    config = FakeConfig(batch_processing_s=(20 * 3600, 30 * 3600), seed=7)
    with FakeAnthropic(clock=clock, config=config) as server:
        yield server


def test_counts_move_and_results_download(
    client: anthropic.Anthropic, clock: SimClock, fake: FakeAnthropic
) -> None:
    reqs = [request(f"r{i}") for i in range(10)] + [request("bad", model="claude-unknown")]
    batch = client.messages.batches.create(requests=reqs)
    assert batch.processing_status == "in_progress"
    assert batch.request_counts.processing == 11 and batch.results_url is None
    seen_processing = [batch.request_counts.processing]
    for _ in range(8):
        clock.advance(600)
        b = client.messages.batches.retrieve(batch.id)
        seen_processing.append(b.request_counts.processing)
    assert seen_processing == sorted(seen_processing, reverse=True)
    assert len(set(seen_processing)) > 0 and seen_processing[-1] == 0
    assert b.processing_status == "ended" and b.ended_at is not None and b.results_url
    assert b.request_counts.succeeded == 10 and b.request_counts.errored == 1
    results = {r.custom_id: r.result for r in client.messages.batches.results(batch.id)}
    assert results["bad"].type == "errored"
    assert results["bad"].error.error.type == "not_found_error"  # type: ignore[union-attr]
    ok = results["r3"]
    assert ok.type == "succeeded"
    assert ok.message.usage.output_tokens == 30  # type: ignore[union-attr]
    assert ok.message.usage.service_tier == "batch"  # type: ignore[union-attr]
    assert fake.stats.batch_retrieve_calls[batch.id] == 9  # 8 polls + the one inside results()


def test_list_and_delete(client: anthropic.Anthropic, clock: SimClock) -> None:
    ids = [client.messages.batches.create(requests=[request("a")]).id for _ in range(3)]
    listed = [b.id for b in client.messages.batches.list(limit=2)]
    assert listed == ids[::-1]  # newest first, auto-paging across pages of 2
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.delete(ids[0])
    clock.advance(3601)
    assert client.messages.batches.delete(ids[0]).type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        client.messages.batches.retrieve(ids[0])


def test_expiry_yields_expired(slow_fake: FakeAnthropic, clock: SimClock) -> None:
    with anthropic.Anthropic(base_url=slow_fake.base_url, api_key="sk-ant-t", max_retries=0) as client:
        batch = client.messages.batches.create(requests=[request(f"r{i}") for i in range(40)])
        clock.advance(23 * 3600)
        mid = client.messages.batches.retrieve(batch.id)
        assert mid.processing_status == "in_progress" and mid.request_counts.succeeded > 0
        clock.advance(2 * 3600)
        end = client.messages.batches.retrieve(batch.id)
        counts = end.request_counts
        assert end.processing_status == "ended"
        assert counts.expired > 0 and counts.succeeded > 0 and counts.succeeded + counts.expired == 40
        kinds = [r.result.type for r in client.messages.batches.results(batch.id)]
        assert kinds.count("expired") == counts.expired


def test_cancel_yields_canceled(slow_fake: FakeAnthropic, clock: SimClock) -> None:
    with anthropic.Anthropic(base_url=slow_fake.base_url, api_key="sk-ant-t", max_retries=0) as client:
        batch = client.messages.batches.create(requests=[request(f"r{i}") for i in range(5)])
        clock.advance(3600)
        canceling = client.messages.batches.cancel(batch.id)
        assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
        clock.advance(60)
        done = client.messages.batches.retrieve(batch.id)
        assert done.processing_status == "ended" and done.request_counts.canceled == 5
        assert {r.result.type for r in client.messages.batches.results(batch.id)} == {"canceled"}


async def test_async_batches(fake: FakeAnthropic, clock: SimClock) -> None:
    async with anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-t", max_retries=0) as c:
        batch = await c.messages.batches.create(requests=[request("x")])
        clock.advance(3601)
        assert (await c.messages.batches.retrieve(batch.id)).processing_status == "ended"
        results = [r async for r in await c.messages.batches.results(batch.id)]
        assert results[0].result.type == "succeeded"


def test_debug_stats_endpoint(client: anthropic.Anthropic) -> None:
    batch = client.messages.batches.create(requests=[request("x")])
    for _ in range(3):
        client.messages.batches.retrieve(batch.id)
    stats = client.get("/_sim/stats", cast_to=object)
    assert stats["batch_retrieve_calls"] == {batch.id: 3}  # type: ignore[index]


def test_batched_requests_with_cache_control_report_cache_usage(clock: SimClock) -> None:
    """Caching works in batches: the first request processed writes the shared prefix, the rest read it,
    each at its own processing time (60-120 s apart at most, well inside the 5m TTL)."""
    guide = "Summarise for the board. " * 1_000
    system = [{"type": "text", "text": guide, "cache_control": {"type": "ephemeral"}}]
    reqs = [
        {
            "custom_id": f"d{i}",
            "params": {
                "model": "claude-sonnet-4-6",
                "max_tokens": 50,
                "system": system,
                "messages": [{"role": "user", "content": f"document {i} {marker(20)}"}],
            },
        }
        for i in range(5)
    ]
    with (
        FakeAnthropic(clock=clock, config=FakeConfig(batch_processing_s=(60, 120), seed=3)) as fake,
        anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0) as client,
    ):
        batch = client.messages.batches.create(requests=reqs)  # type: ignore[arg-type]
        clock.advance(121)
        assert client.messages.batches.retrieve(batch.id).processing_status == "ended"
        usages = [r.result.message.usage for r in client.messages.batches.results(batch.id)]  # type: ignore[union-attr]
    prefix = -(-len(guide.encode()) // 4)
    assert sorted(u.cache_creation_input_tokens for u in usages) == [0, 0, 0, 0, prefix]
    assert sorted(u.cache_read_input_tokens for u in usages) == [0, prefix, prefix, prefix, prefix]
    assert {u.service_tier for u in usages} == {"batch"}
