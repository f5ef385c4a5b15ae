"""What the hook reads off a usage object: fast mode is kept, so it is priced at fast-mode rates."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from claudetop.hook.build import message_fields, usage_fields
from claudetop.model import UsageEvent
from claudetop.pricing import PriceBook
from tests.unit.pricing.published import OPUS_4_6, OPUS_4_6_FAST, all_kinds, micros


def _message(speed: str | None) -> dict[str, object]:
    usage: dict[str, object] = {
        "input_tokens": 1000,
        "output_tokens": 500,
        "cache_creation_input_tokens": 5000,
        "cache_creation": {"ephemeral_5m_input_tokens": 2000, "ephemeral_1h_input_tokens": 3000},
        "cache_read_input_tokens": 4000,
        "service_tier": "standard",
    }
    if speed is not None:
        usage["speed"] = speed
    return {"model": "claude-opus-4-6", "stop_reason": "end_turn", "usage": usage}


def _cost(speed: str | None) -> int | None:
    fields = message_fields(_message(speed))
    event = UsageEvent(id="e", ts=datetime(2026, 11, 24, 12, tzinfo=UTC), **fields)
    assert event.speed == speed
    return PriceBook().cost(event)


def test_fast_mode_is_recorded_and_priced_at_its_own_rates() -> None:
    tokens = (1000, 2000, 3000, 4000, 500)
    assert _cost("fast") == micros(all_kinds(OPUS_4_6_FAST, *tokens))
    assert _cost("standard") == _cost(None) == micros(all_kinds(OPUS_4_6, *tokens))
    assert micros(all_kinds(OPUS_4_6_FAST, *tokens)) == 6 * micros(all_kinds(OPUS_4_6, *tokens)) != Decimal(0)


def test_iterations_sum_their_tokens_and_server_tool_requests_come_from_the_top_level() -> None:
    """A server-side web-search loop: three sampling iterations, each with its own tokens; the top
    level repeats the last one and alone counts the searches (iterations carry none)."""
    iteration = {"type": "message", "input_tokens": 900, "output_tokens": 100,
                 "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2000}  # fmt: skip
    usage = {
        **iteration,
        "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 1},
        "iterations": [iteration, iteration, iteration],
    }
    fields = usage_fields(usage)
    assert (fields["input_tokens"], fields["output_tokens"], fields["cache_read_tokens"]) == (2700, 300, 6000)
    assert (fields["web_search_requests"], fields["web_fetch_requests"]) == (2, 1)
