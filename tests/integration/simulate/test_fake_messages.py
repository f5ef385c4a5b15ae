"""``/v1/messages``, count_tokens, models via the real SDK: sync, async, stream=True, messages.stream()."""

import anthropic
import pytest

from claudetop.simulate import FakeAnthropic
from claudetop.simulate.tokens import MESSAGE_OVERHEAD, marker

SYSTEM = "You review contracts for a B2B document platform. " * 400  # 20,400 bytes


def _user(text: str) -> anthropic.types.MessageParam:
    return {"role": "user", "content": text}


def expected_tokens(text: str) -> int:
    """The documented approximation, recomputed here: ceil(utf-8 bytes / 4)."""
    return -(-len(text.encode()) // 4)


def test_non_streaming_usage_and_output_length(client: anthropic.Anthropic) -> None:
    prompt = f"Summarise clause 4. {marker(120)}"
    msg = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=500,
        system=SYSTEM,
        messages=[_user(prompt)],
    )
    assert msg.type == "message" and msg.role == "assistant"
    assert msg.stop_reason == "end_turn"
    assert msg.usage.output_tokens == 120
    assert expected_tokens(msg.content[0].text) == 120  # type: ignore[union-attr]
    assert msg.usage.input_tokens == expected_tokens(SYSTEM) + expected_tokens(prompt) + MESSAGE_OVERHEAD
    assert msg.usage.cache_read_input_tokens == 0
    assert msg.usage.cache_creation_input_tokens == 0
    assert msg.usage.service_tier == "standard"


def test_max_tokens_cap_stops_with_max_tokens(client: anthropic.Anthropic) -> None:
    msg = client.messages.create(
        model="claude-opus-4-7",
        max_tokens=64,
        messages=[_user(f"essay {marker(5000)}")],
    )
    assert msg.stop_reason == "max_tokens"
    assert msg.usage.output_tokens == 64


def test_same_request_same_answer(client: anthropic.Anthropic) -> None:
    kwargs = {"model": "claude-haiku-4-5", "max_tokens": 1000, "messages": [{"role": "user", "content": "x"}]}
    a = client.messages.create(**kwargs)  # type: ignore[call-overload]
    b = client.messages.create(**kwargs)  # type: ignore[call-overload]
    assert a.content == b.content and a.usage.output_tokens == b.usage.output_tokens
    assert a.id != b.id


def test_stream_true_event_sequence_and_usage(client: anthropic.Anthropic) -> None:
    events = list(
        client.messages.create(
            model="claude-opus-4-7",
            max_tokens=2000,
            system=[{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
            messages=[{"role": "user", "content": f"go {marker(700)}"}],
            stream=True,
        )
    )
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start" and kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds[1] == "content_block_start" and kinds[-3] == "content_block_stop"
    assert kinds.count("content_block_delta") > 1
    start = events[0].message.usage  # type: ignore[union-attr]
    assert start.cache_creation is not None
    assert start.cache_creation.ephemeral_1h_input_tokens == expected_tokens(SYSTEM)
    assert start.cache_creation_input_tokens == expected_tokens(SYSTEM)
    delta = events[-2]
    assert delta.usage.output_tokens == 700  # type: ignore[union-attr]
    assert delta.delta.stop_reason == "end_turn"  # type: ignore[union-attr]
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")  # type: ignore[union-attr]
    assert expected_tokens(text) == 700


def test_messages_stream_helper(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": f"hi {marker(300)}"}]
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == 50
    assert expected_tokens(text) == 50


async def test_async_client_and_async_stream(fake: FakeAnthropic) -> None:
    async with anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0) as c:
        msg = await c.messages.create(
            model="claude-haiku-4-5",
            max_tokens=100,
            messages=[_user(f"x {marker(10)}")],
        )
        assert msg.usage.output_tokens == 10
        async with c.messages.stream(
            model="claude-haiku-4-5",
            max_tokens=100,
            messages=[_user(f"y {marker(20)}")],
        ) as stream:
            final = await stream.get_final_message()
        assert final.usage.output_tokens == 20


def test_count_tokens_matches_served_input(client: anthropic.Anthropic) -> None:
    kwargs = {"model": "claude-sonnet-4-6", "system": SYSTEM, "messages": [{"role": "user", "content": "q"}]}
    counted = client.messages.count_tokens(**kwargs)  # type: ignore[arg-type]
    served = client.messages.create(max_tokens=5, **kwargs)  # type: ignore[call-overload]
    assert counted.input_tokens == served.usage.input_tokens


def test_models_list_and_retrieve(client: anthropic.Anthropic) -> None:
    ids = [m.id for m in client.models.list()]
    assert "claude-opus-4-7" in ids and "claude-haiku-4-5" in ids
    assert client.models.retrieve("claude-sonnet-4-6").display_name == "Claude Sonnet 4.6"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-nonexistent-9")


def test_validation_errors_have_the_api_shape(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError) as nf:
        client.messages.create(model="claude-9", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert nf.value.body["error"]["type"] == "not_found_error"  # type: ignore[index]
    assert nf.value.body["type"] == "error" and nf.value.body["request_id"].startswith("req_")  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError) as br:
        body = {"model": "claude-opus-4-7", "messages": [{"role": "user", "content": "x"}]}
        client.post("/v1/messages", body=body, cast_to=object)
    missing = {"type": "invalid_request_error", "message": "max_tokens: Field required"}
    assert br.value.body["error"] == missing  # type: ignore[index]
    with pytest.raises(anthropic.BadRequestError, match="ephemeral"):
        client.messages.create(
            model="claude-opus-4-7",
            max_tokens=5,
            system=[{"type": "text", "text": "s", "cache_control": {"type": "persistent"}}],  # type: ignore[typeddict-item]
            messages=[{"role": "user", "content": "x"}],
        )
    with pytest.raises(anthropic.BadRequestError, match="ttl"):
        client.messages.create(
            model="claude-opus-4-7",
            max_tokens=5,
            cache_control={"type": "ephemeral", "ttl": "10m"},  # type: ignore[typeddict-item]
            messages=[{"role": "user", "content": "x"}],
        )


def test_auth_required_and_admin_key_refused(fake: FakeAnthropic) -> None:
    with (
        anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-admin01-x", max_retries=0) as c,
        pytest.raises(anthropic.AuthenticationError),
    ):
        c.messages.create(model="claude-opus-4-7", max_tokens=5, messages=[{"role": "user", "content": "x"}])
