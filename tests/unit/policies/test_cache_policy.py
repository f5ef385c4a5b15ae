"""The caching policy's pure pieces: breakpoint placement, TTL choice, break-even tracking."""

from __future__ import annotations

import copy
from typing import Any

from claudetop.policies import cache

SYSTEM = "You are a careful contract analyst. " * 200


def body(**extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


def test_app_breakpoints_anywhere_are_detected() -> None:
    assert not cache.has_cache_control(body(system=SYSTEM))
    assert cache.has_cache_control(body(system=SYSTEM, cache_control={"type": "ephemeral"}))
    marked = [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert cache.has_cache_control(body(system=marked))
    msg = [
        {"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}]}
    ]
    assert cache.has_cache_control(body(messages=msg))


def test_breakpoint_on_string_system_keeps_the_text_and_leaves_the_input_alone() -> None:
    original = body(system=SYSTEM)
    snapshot = copy.deepcopy(original)
    new = cache.with_breakpoint(original, "system", "1h")
    assert original == snapshot
    assert new["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral", "ttl": "1h"}}
    ]
    assert {k: v for k, v in new.items() if k != "system"} == {
        k: v for k, v in original.items() if k != "system"
    }


def test_breakpoint_on_last_of_several_system_blocks_and_on_tools() -> None:
    blocks = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    new = cache.with_breakpoint(body(system=blocks), "system", "5m")
    assert new["system"][0] == {"type": "text", "text": "a"}
    assert new["system"][1]["cache_control"] == {"type": "ephemeral", "ttl": "5m"}
    assert "cache_control" not in blocks[1]
    tools = [{"name": "t1", "input_schema": {}}, {"name": "t2", "input_schema": {}}]
    new = cache.with_breakpoint(body(tools=tools), "tools", "5m")
    assert "cache_control" not in new["tools"][0] and "cache_control" in new["tools"][1]


def test_stable_prefix_hash_depends_on_model_tools_system_not_messages() -> None:
    a = cache.stable_prefix(body(system=SYSTEM))
    b = cache.stable_prefix(body(system=SYSTEM, messages=[{"role": "user", "content": "other"}]))
    c = cache.stable_prefix({**body(system=SYSTEM), "model": "claude-haiku-4-5"})
    d = cache.stable_prefix(body(system=SYSTEM + "!"))
    assert a is not None and b is not None and c is not None and d is not None
    assert a.sha256 == b.sha256
    assert len({a.sha256, c.sha256, d.sha256}) == 3
    assert a.scope == "system"
    assert a.tokens == len(SYSTEM) // cache.CHARS_PER_TOKEN
    assert cache.stable_prefix(body()) is None


def test_ttl_auto_follows_the_reuse_gap() -> None:
    assert cache.choose_ttl("5m", 3000.0) == "5m"
    assert cache.choose_ttl("1h", None) == "1h"
    assert cache.choose_ttl("auto", None) == "5m"
    assert cache.choose_ttl("auto", 30.0) == "5m"
    assert cache.choose_ttl("auto", 1800.0) == "1h"
    assert cache.ttl_setting("1h", "5m") == "1h"
    assert cache.ttl_setting("forever", "auto") == "auto"


def test_tracker_smooths_gaps_and_is_bounded() -> None:
    tracker = cache.PrefixTracker(capacity=3)
    assert tracker.seen("p", 0.0) == (None, tracker.seen("p", 0.0)[1])
    gap, stats = tracker.seen("p", 100.0)
    assert gap == 100.0
    assert stats.typical_gap_s is not None
    for i in range(10):
        tracker.seen(f"q{i}", float(i))
    assert len(tracker) == 3


def test_prefix_below_break_even_is_disabled_then_reprobed() -> None:
    tracker = cache.PrefixTracker()
    tracker.seen("p", 0.0)
    for _ in range(cache.MIN_WRITES_TO_JUDGE):
        tracker.observe("p", wrote=True, read=False, now=10.0, min_reads_per_write=1.2)
    assert tracker.disabled("p")
    tracker.seen("p", 10.0 + cache.REPROBE_AFTER_S)
    assert not tracker.disabled("p")


def test_prefix_with_enough_reads_stays_cached() -> None:
    tracker = cache.PrefixTracker()
    tracker.seen("p", 0.0)
    for _ in range(5):
        tracker.observe("p", wrote=True, read=False, now=1.0, min_reads_per_write=1.2)
        for _ in range(2):
            tracker.observe("p", wrote=False, read=True, now=1.0, min_reads_per_write=1.2)
    assert not tracker.disabled("p")
    assert cache.below_break_even(reads=3, writes=3, min_reads_per_write=1.2)
    assert not cache.below_break_even(reads=0, writes=2, min_reads_per_write=1.2)


def test_history_breakpoint_is_request_level_for_conversations_only() -> None:
    assert not cache.is_conversation(body(system=SYSTEM))
    turns = [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "q2"},
    ]
    chat = body(system=SYSTEM, messages=turns)
    assert cache.is_conversation(chat)
    pristine = copy.deepcopy(chat)
    marked = cache.with_history_breakpoint(chat, "1h")
    assert chat == pristine
    assert marked == {**pristine, "cache_control": {"type": "ephemeral", "ttl": "1h"}}
