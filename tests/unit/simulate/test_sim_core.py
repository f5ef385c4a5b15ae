"""Pure pieces of the simulator: token approximation, cache bookkeeping, the clock, demo option parsing."""

import pytest

from claudetop.simulate.cache import PromptBlock, PromptCache
from claudetop.simulate.clock import SimClock
from claudetop.simulate.demo import DemoError, parse_policies
from claudetop.simulate.faults import FaultPlan, FaultRule
from claudetop.simulate.tokens import output_text, requested_output_tokens, text_tokens


def test_text_tokens_is_ceil_of_utf8_bytes_over_four() -> None:
    assert text_tokens("") == 0
    assert text_tokens("abcd") == 1 and text_tokens("abcde") == 2
    assert text_tokens("é" * 4) == 2  # 8 bytes


@pytest.mark.parametrize("n", [1, 7, 250, 4096])
def test_output_text_has_exactly_n_tokens(n: int) -> None:
    assert text_tokens(output_text(n, b"seed")) == n


def test_output_length_marker_and_default_range() -> None:
    assert requested_output_tokens("please [[sim:output_tokens=321]]", b"s") == 321
    lengths = {requested_output_tokens("no marker", bytes([i])) for i in range(50)}
    assert all(40 <= n <= 400 for n in lengths) and len(lengths) > 10


def test_clock_frozen_and_accelerated() -> None:
    frozen = SimClock(speed=0)
    t = frozen.now()
    frozen.advance(10)
    assert frozen.now() == t + 10
    assert SimClock(speed=3600).real_seconds(7200) == 2.0
    with pytest.raises(ValueError):
        frozen.advance(-1)


def test_cache_evicts_expired_entries() -> None:
    clock = SimClock(speed=0)
    cache = PromptCache(clock)
    for i in range(1_000):
        cache.process("m", [PromptBlock("system", f"p{i}".encode(), 5000, "5m")], 1024)
    assert len(cache) == 1_000
    clock.advance(301)
    for _ in range(1_000):  # expired entries are swept every 1,000 lookups
        cache.process("m", [PromptBlock("system", b"fresh", 5000, "5m")], 1024)
    assert len(cache) == 1 and cache.stats.evicted == 1_000


def test_cache_dates_a_lookup_at_its_own_processing_time() -> None:
    """Batch requests are worked out later than they happen: TTLs run from when each was processed."""
    clock = SimClock(speed=0)
    cache = PromptCache(clock)
    t0 = clock.now()
    block = [PromptBlock("system", b"guidelines", 5000, "5m")]
    clock.advance(3600)
    assert cache.process("m", block, 1024, now=t0).cache_write_5m == 5000
    assert cache.process("m", block, 1024, now=t0 + 200).cache_read_input_tokens == 5000
    assert cache.process("m", block, 1024, now=t0 + 499).cache_read_input_tokens == 5000
    assert cache.process("m", block, 1024, now=t0 + 800).cache_write_5m == 5000
    assert cache.process("m", block, 1024, now=t0 + 300).cache_read_input_tokens == 5000
    assert cache.process("m", block, 1024).cache_write_5m == 5000


def test_parse_policies() -> None:
    assert parse_policies("all=enforce,cache=off") == {
        "cache": "off",
        "routing": "enforce",
        "batching": "enforce",
        "output_caps": "enforce",
    }
    for bad in ("cache", "cache=on", "speed=off"):
        with pytest.raises(DemoError):
            parse_policies(bad)


def test_fault_plan_next_n_then_quiet() -> None:
    plan = FaultPlan([FaultRule("overloaded", next_n=2)])
    picks = [plan.pick("POST", "/v1/messages") for _ in range(4)]
    assert [p.kind if p else None for p in picks] == ["overloaded", "overloaded", None, None]
    assert plan.pick("GET", "/v1/models") is None
