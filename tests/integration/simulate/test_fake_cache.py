"""Prompt caching semantics through the real SDK, on a frozen clock stepped by hand."""

from typing import Any

import anthropic
import pytest

from claudetop.simulate import SimClock
from claudetop.simulate.tokens import MESSAGE_OVERHEAD

LONG = "Company style guide and product facts for the support assistant. " * 400  # 26,400 bytes
LONG_TOKENS = -(-len(LONG.encode()) // 4)


def ask(
    client: anthropic.Anthropic, system: Any, question: str = "q", model: str = "claude-sonnet-4-6", **kw: Any
) -> Any:
    return client.messages.create(
        model=model, max_tokens=10, system=system, messages=[{"role": "user", "content": question}], **kw
    ).usage


def cached(text: str, ttl: str = "5m") -> list[dict[str, Any]]:
    return [{"type": "text", "text": text, "cache_control": {"type": "ephemeral", "ttl": ttl}}]


def test_write_then_read_within_ttl(client: anthropic.Anthropic, clock: SimClock) -> None:
    first = ask(client, cached(LONG))
    assert first.cache_creation_input_tokens == LONG_TOKENS
    assert first.cache_creation.ephemeral_5m_input_tokens == LONG_TOKENS
    assert first.cache_read_input_tokens == 0
    assert first.input_tokens == 1 + MESSAGE_OVERHEAD
    clock.advance(299)
    second = ask(client, cached(LONG), question="another question")
    assert second.cache_read_input_tokens == LONG_TOKENS
    assert second.cache_creation_input_tokens == 0


def test_miss_after_ttl(client: anthropic.Anthropic, clock: SimClock) -> None:
    ask(client, cached(LONG))
    clock.advance(301)
    again = ask(client, cached(LONG))
    assert again.cache_read_input_tokens == 0
    assert again.cache_creation_input_tokens == LONG_TOKENS


def test_one_hour_ttl_outlives_five_minutes(client: anthropic.Anthropic, clock: SimClock) -> None:
    first = ask(client, cached(LONG, "1h"))
    assert first.cache_creation.ephemeral_1h_input_tokens == LONG_TOKENS
    assert first.cache_creation.ephemeral_5m_input_tokens == 0
    clock.advance(50 * 60)
    assert ask(client, cached(LONG, "1h")).cache_read_input_tokens == LONG_TOKENS
    clock.advance(61 * 60)
    assert ask(client, cached(LONG, "1h")).cache_read_input_tokens == 0


def test_hit_refreshes_ttl(client: anthropic.Anthropic, clock: SimClock) -> None:
    ask(client, cached(LONG))
    for _ in range(4):  # 16 minutes in all, each gap under 5 minutes
        clock.advance(240)
        assert ask(client, cached(LONG)).cache_read_input_tokens == LONG_TOKENS


def test_below_minimum_is_not_cached(client: anthropic.Anthropic, clock: SimClock) -> None:
    short = "Be brief. " * 100  # 250 tokens, below every model's minimum
    for _ in range(2):
        usage = ask(client, cached(short))
        assert usage.cache_creation_input_tokens == 0 and usage.cache_read_input_tokens == 0
    # 1,500 tokens: cacheable on Opus 4.1 (1,024) but not on Opus 4.7 (4,096)
    mid = "x" * 6000
    assert ask(client, cached(mid), model="claude-opus-4-1").cache_creation_input_tokens == 1500
    assert ask(client, cached(mid), model="claude-opus-4-7").cache_creation_input_tokens == 0


def test_fragmented_prefix_is_never_read(client: anthropic.Anthropic, clock: SimClock) -> None:
    for minute in range(5):
        clock.advance(60)
        usage = ask(client, cached(f"Current time: 10:{minute:02d}. {LONG}"))
        assert usage.cache_read_input_tokens == 0
        assert usage.cache_creation_input_tokens > LONG_TOKENS


def test_per_model_entries(client: anthropic.Anthropic) -> None:
    ask(client, cached(LONG), model="claude-sonnet-4-6")
    assert ask(client, cached(LONG), model="claude-opus-4-7").cache_read_input_tokens == 0


def test_top_level_cache_control_caches_the_conversation(client: anthropic.Anthropic) -> None:
    history = [{"role": "user", "content": LONG}, {"role": "assistant", "content": "ok"}]
    first = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=5,
        cache_control={"type": "ephemeral"},
        messages=[*history, {"role": "user", "content": "turn one"}],
    ).usage
    assert first.input_tokens == 0 and first.cache_creation_input_tokens > LONG_TOKENS
    second = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=5,
        cache_control={"type": "ephemeral"},
        messages=[
            *history,
            {"role": "user", "content": "turn one"},
            {"role": "assistant", "content": "a"},
            {"role": "user", "content": "turn two"},
        ],
    ).usage
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens > 0 and second.input_tokens == 0


def test_longest_prefix_read_and_rest_written(client: anthropic.Anthropic) -> None:
    tools = [
        {
            "name": "lookup",
            "description": LONG,
            "input_schema": {"type": "object"},
            "cache_control": {"type": "ephemeral"},
        }
    ]
    first = ask(client, "system v1 " * 50, tools=tools)
    tools_tokens = first.cache_creation_input_tokens
    assert tools_tokens > LONG_TOKENS
    both = ask(client, cached("system v2 " * 1000), tools=tools)
    assert both.cache_read_input_tokens == tools_tokens
    assert both.cache_creation_input_tokens == 2500


def test_more_than_four_breakpoints_rejected(client: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError, match="maximum of 4"):
        ask(client, system)


def test_one_hour_after_five_minutes_rejected(client: anthropic.Anthropic) -> None:
    system = [*cached("a" * 100, "5m"), *cached("b" * 100, "1h")]
    with pytest.raises(anthropic.BadRequestError, match="1h"):
        ask(client, system)


def test_mixed_ttls_split_usage(client: anthropic.Anthropic) -> None:
    system = [*cached(LONG, "1h"), *cached("y" * 20000, "5m")]
    usage = ask(client, system)
    assert usage.cache_creation.ephemeral_1h_input_tokens == LONG_TOKENS
    assert usage.cache_creation.ephemeral_5m_input_tokens == 5000


def test_string_content_is_the_same_prefix_as_one_text_block(client: anthropic.Anthropic) -> None:
    """The API documents a string ``system``/``content`` as shorthand for one text block: same cache entry."""
    as_string = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=5,
        system=LONG,
        cache_control={"type": "ephemeral"},
        messages=[{"role": "user", "content": LONG}],
    ).usage
    assert as_string.cache_creation_input_tokens == 2 * LONG_TOKENS + MESSAGE_OVERHEAD
    as_blocks = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=5,
        system=[{"type": "text", "text": LONG}],
        cache_control={"type": "ephemeral"},
        messages=[{"role": "user", "content": [{"type": "text", "text": LONG}]}],
    ).usage
    assert as_blocks.cache_read_input_tokens == as_string.cache_creation_input_tokens
    assert as_blocks.cache_creation_input_tokens == 0 and as_blocks.input_tokens == 0
