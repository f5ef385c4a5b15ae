"""Every messages surface through the real SDK against the fake API: recorded usage == served usage."""

import gc
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest

import claudetop
from claudetop.model import Endpoint, UsageEvent, micros_from_usd
from claudetop.simulate import FakeAnthropic
from claudetop.simulate.tokens import marker
from tests.integration.hook.conftest import read_events

MODEL = "claude-sonnet-4-6"
# Published prices, USD per million tokens (claude-sonnet-4-6): input 3, output 15,
# 5m cache write 1.25x input, 1h cache write 2x input, cache read 0.1x input.
SONNET_PER_MTOK = {
    "input_tokens": Decimal(3),
    "output_tokens": Decimal(15),
    "cache_write_5m_tokens": Decimal("3.75"),
    "cache_write_1h_tokens": Decimal(6),
    "cache_read_tokens": Decimal("0.3"),
}
SECRET_PROMPT = "ZEBRA-PROMPT-7731 the quarterly numbers of Acme"
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
FIVE_MIN = {"type": "ephemeral"}


def sonnet_cost(usage: dict[str, int], batch: bool = False) -> int:
    usd = sum(Decimal(usage[k]) * price for k, price in SONNET_PER_MTOK.items()) / 1_000_000
    return micros_from_usd(usd / 2 if batch else usd)


def request_kwargs(out: int = 40) -> dict[str, Any]:
    """A request with a 1h breakpoint on the system prompt and a 5m one in the messages."""
    return {
        "model": MODEL,
        "max_tokens": 200,
        "system": [
            {
                "type": "text",
                "text": "You are terse. " * 600,
                "cache_control": {"type": "ephemeral", "ttl": "1h"},
            }
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "Context: " + "facts " * 1500,
                        "cache_control": {"type": "ephemeral"},
                    },
                    {"type": "text", "text": f"{SECRET_PROMPT} {marker(out)}"},
                ],
            }
        ],
    }


def served(usage: Any) -> dict[str, int]:
    """The token fields of a usage object the SDK handed the application, in UsageEvent terms."""
    split = usage.cache_creation
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_write_5m_tokens": split.ephemeral_5m_input_tokens if split else 0,
        "cache_write_1h_tokens": split.ephemeral_1h_input_tokens if split else 0,
        "cache_read_tokens": usage.cache_read_input_tokens or 0,
    }


def recorded(event: UsageEvent) -> dict[str, int]:
    return {k: getattr(event, k) for k in SONNET_PER_MTOK}


def check_message_event(event: UsageEvent, usage: dict[str, int], *, stream: bool, task: str) -> None:
    assert event.endpoint is Endpoint.MESSAGES and event.stream is stream
    assert recorded(event) == usage
    assert event.model == MODEL and event.requested_model == MODEL and event.status == 200
    assert event.task == task and event.max_tokens == 200 and event.retries == 0
    assert event.cost_micros == sonnet_cost(usage)
    assert event.latency_ms is not None and event.latency_ms > 0
    assert event.api_key_fp is not None and "sk-ant" not in event.api_key_fp
    scopes = [(p.scope, p.breakpoint, p.ttl) for p in event.prefixes]
    assert scopes == [("system", True, "1h"), ("messages", True, "5m")]


def client_for(fake: FakeAnthropic, sink: Path, **kw: Any) -> anthropic.Anthropic:
    bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0, **kw)
    return claudetop.instrument(bare, sink=sink, policies=False)


def aclient_for(fake: FakeAnthropic, sink: Path) -> anthropic.AsyncAnthropic:
    bare = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
    return claudetop.instrument(bare, sink=sink, policies=False)


def test_instrument_returns_a_new_client_and_is_idempotent(fake: FakeAnthropic, sink: Path) -> None:
    bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
    client = claudetop.instrument(bare, sink=sink, policies=False)
    assert client is not bare and type(client) is type(bare) and not bare.middleware
    assert claudetop.instrument(client, sink=sink) is client


def test_create_sync_records_served_usage_with_the_5m_1h_split(fake: FakeAnthropic, sink: Path) -> None:
    client = client_for(fake, sink)
    with claudetop.task("chat"):
        first = client.messages.create(**request_kwargs())
        second = client.messages.create(**request_kwargs())
    events = read_events(sink)
    assert len(events) == 2
    assert (
        served(first.usage)["cache_write_5m_tokens"] > 0 and served(first.usage)["cache_write_1h_tokens"] > 0
    )
    assert served(second.usage)["cache_read_tokens"] > 0
    for event, message in zip(events, (first, second), strict=True):
        check_message_event(event, served(message.usage), stream=False, task="chat")
        assert event.stop_reason == message.stop_reason
    assert events[0].prefixes == events[1].prefixes


async def test_create_async_records_served_usage(fake: FakeAnthropic, sink: Path) -> None:
    client = aclient_for(fake, sink)
    with claudetop.task("chat"):
        message = await client.messages.create(**request_kwargs())
    [event] = read_events(sink)
    check_message_event(event, served(message.usage), stream=False, task="chat")


def test_stream_true_and_stream_helper_sync(fake: FakeAnthropic, sink: Path) -> None:
    client = client_for(fake, sink)
    usages = []
    with claudetop.task("stream"):
        start: Any = None
        delta: Any = None
        for ev in client.messages.create(**request_kwargs(), stream=True):
            if ev.type == "message_start":
                start = ev.message.usage
            elif ev.type == "message_delta":
                delta = ev.usage
        usages.append({**served(start), "output_tokens": delta.output_tokens})
        with client.messages.stream(**request_kwargs()) as s:
            usages.append(served(s.get_final_message().usage))
    events = read_events(sink)
    assert len(events) == 2
    for event, usage in zip(events, usages, strict=True):
        check_message_event(event, usage, stream=True, task="stream")
        assert (
            event.ttft_ms is not None and event.latency_ms is not None and event.ttft_ms <= event.latency_ms
        )


async def test_stream_true_and_stream_helper_async(fake: FakeAnthropic, sink: Path) -> None:
    client = aclient_for(fake, sink)
    with claudetop.task("stream"):
        stream = await client.messages.create(**request_kwargs(), stream=True)
        last: Any = None
        async for ev in stream:
            last = ev
        assert last.type == "message_stop"
        async with client.messages.stream(**request_kwargs()) as s:
            final = await s.get_final_message()
    events = read_events(sink)
    assert len(events) == 2
    check_message_event(events[1], served(final.usage), stream=True, task="stream")
    assert events[0].output_tokens == final.usage.output_tokens and events[0].stream


def test_abandoned_stream_records_what_arrived(fake: FakeAnthropic, sink: Path) -> None:
    client = client_for(fake, sink)
    stream = client.messages.create(**request_kwargs(out=150), stream=True)
    start: Any = None
    for ev in stream:
        if ev.type == "message_start":
            start = ev.message.usage
        if ev.type == "content_block_delta":
            break
    stream.close()
    [event] = read_events(sink)
    assert event.stream and event.stop_reason is None
    assert recorded(event) == served(start)


async def test_abandoned_async_stream_records_what_arrived(fake: FakeAnthropic, sink: Path) -> None:
    client = aclient_for(fake, sink)
    async with client.messages.stream(**request_kwargs(out=150)) as s:
        async for ev in s:
            if ev.type == "content_block_delta":
                break
    [event] = read_events(sink)
    assert event.stream and event.stop_reason is None and event.input_tokens > 0


def test_count_tokens_and_beta_namespace(fake: FakeAnthropic, sink: Path) -> None:
    client = client_for(fake, sink)
    counted = client.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    beta = client.beta.messages.create(**request_kwargs())
    with client.beta.messages.stream(**request_kwargs()) as s:
        beta_streamed = s.get_final_message()
    beta_counted = client.beta.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "x"}])
    events = read_events(sink)
    assert [e.endpoint for e in events] == [
        Endpoint.COUNT_TOKENS,
        Endpoint.MESSAGES,
        Endpoint.MESSAGES,
        Endpoint.COUNT_TOKENS,
    ]
    assert counted.input_tokens > 0 and beta_counted.input_tokens > 0
    assert (
        events[0].cost_micros is None and events[0].input_tokens == 0 and events[0].requested_model == MODEL
    )
    assert recorded(events[1]) == served(beta.usage) and recorded(events[2]) == served(beta_streamed.usage)


async def test_task_tags_follow_asyncio_tasks(fake: FakeAnthropic, sink: Path) -> None:
    import asyncio

    client = aclient_for(fake, sink)

    @claudetop.task("decorated")
    async def one(tag: str) -> None:
        with claudetop.task(tag):
            await asyncio.sleep(0.01)
            await client.messages.create(
                model=MODEL, max_tokens=5, messages=[{"role": "user", "content": tag}]
            )

    await asyncio.gather(*(one(f"t{i}") for i in range(6)))
    await one.__wrapped__("inner")  # type: ignore[attr-defined]
    await client.messages.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    events = read_events(sink)
    assert sorted(e.task or "" for e in events[:6]) == [f"t{i}" for i in range(6)]
    assert events[-1].task == f"{__name__}:test_task_tags_follow_asyncio_tasks"


def test_explicit_task_header_is_recorded_and_never_sent(fake: FakeAnthropic, sink: Path) -> None:
    sent: list[httpx2.Headers] = []
    http = httpx2.Client(event_hooks={"request": [lambda r: sent.append(r.headers)]})
    client = client_for(fake, sink, http_client=http)
    with claudetop.task("outer"):
        client.messages.create(
            model=MODEL,
            max_tokens=5,
            messages=[{"role": "user", "content": "x"}],
            extra_headers={claudetop.hook.TASK_HEADER: "explicit"},
        )
    [event] = read_events(sink)
    assert event.task == "explicit"
    assert sent and all(claudetop.hook.TASK_HEADER not in h for h in sent)


@pytest.mark.parametrize("suffix", [".db", ".jsonl"])
def test_no_prompt_or_completion_text_reaches_the_sink(
    fake: FakeAnthropic, tmp_path: Path, suffix: str
) -> None:
    sink = tmp_path / f"events{suffix}"
    client = client_for(fake, sink)
    message = client.messages.create(**request_kwargs())
    with client.messages.stream(**request_kwargs()) as s:
        streamed = s.get_final_text()
    completion = message.content[0].text  # type: ignore[union-attr]
    assert claudetop.flush(10.0)
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"hook" in stored  # the events are there...
    for secret in (
        SECRET_PROMPT,
        "You are terse.",
        "facts facts",
        completion[:40],
        streamed[:40],
        "sk-ant-test",
    ):
        assert secret.encode() not in stored, secret  # ...and no text of the conversation


def _cyclic_garbage(client: anthropic.Anthropic, calls: int) -> int:
    """Objects only the cycle collector frees, left by ``calls`` streamed and plain calls."""
    gc.collect()
    gc.disable()
    try:
        for _ in range(calls):
            with client.messages.stream(**request_kwargs()) as s:
                s.get_final_message()
            for _ev in client.messages.create(**request_kwargs(), stream=True):
                pass
            client.messages.create(**request_kwargs())
        assert claudetop.flush(10.0)
        return gc.collect()
    finally:
        gc.enable()


def test_recording_leaves_no_reference_cycles_behind(fake: FakeAnthropic, sink: Path) -> None:
    """Left to the garbage collector, each call's objects would cost the application a pause later."""
    bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
    hooked = client_for(fake, sink)
    _cyclic_garbage(hooked, 1)  # first calls: imports, caches, the writer thread
    _cyclic_garbage(bare, 1)
    assert _cyclic_garbage(hooked, 20) <= _cyclic_garbage(bare, 20)


def test_raw_and_streaming_response_wrappers_record_the_served_usage(fake: FakeAnthropic, sink: Path) -> None:
    """``with_raw_response`` reads the body before the hook sees it; ``with_streaming_response`` leaves it
    for the application to read later, through the hook's tap."""
    client = client_for(fake, sink)
    with claudetop.task("wrappers"):
        raw = client.messages.with_raw_response.create(**request_kwargs())
        first = raw.parse()
        with client.messages.with_streaming_response.create(**request_kwargs(out=60)) as response:
            second = response.parse()
    events = read_events(sink)
    assert len(events) == 2
    for event, message in zip(events, (first, second), strict=True):
        check_message_event(event, served(message.usage), stream=False, task="wrappers")


# Published fast-mode prices, USD per million tokens (claude-opus-4-6, speed "fast"): input 30,
# output 150, cache multipliers on top (https://platform.claude.com/docs/en/about-claude/pricing#fast-mode-pricing).
OPUS_FAST_PER_MTOK = {
    "input_tokens": Decimal(30),
    "output_tokens": Decimal(150),
    "cache_write_5m_tokens": Decimal("37.5"),
    "cache_write_1h_tokens": Decimal(60),
    "cache_read_tokens": Decimal(3),
}


def test_fast_mode_is_recorded_and_priced_at_fast_mode_rates(fake: FakeAnthropic, sink: Path) -> None:
    client = client_for(fake, sink)
    kwargs = {**request_kwargs(), "model": "claude-opus-4-6"}
    message = client.messages.create(**kwargs, speed="fast")
    with client.messages.stream(**kwargs, speed="fast") as s:
        streamed = s.get_final_message()
    assert message.usage.speed == streamed.usage.speed == "fast"
    events = read_events(sink)
    assert [e.speed for e in events] == ["fast", "fast"]
    for event, served_message in zip(events, (message, streamed), strict=True):
        usage = served(served_message.usage)
        assert recorded(event) == usage
        usd = sum(Decimal(usage[k]) * price for k, price in OPUS_FAST_PER_MTOK.items()) / 1_000_000
        assert event.cost_micros == micros_from_usd(usd)
