"""PolicyEngine.decide over a real PolicyStore (SQLite file) and the real price book.

Expected savings are computed here from published per-MTok prices (USD per million tokens ==
micro-dollars per token): claude-sonnet-4-6 input $3, 5m cache write $3.75, 1h write $6, cache read
$0.30, output $15; claude-haiku-4-5 input $1, output $5.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from claudetop.config import CacheConfig, Config, RoutingConfig
from claudetop.model import PolicyMode, UsageEvent
from claudetop.policies import PolicyEngine, PolicyStore
from claudetop.policies.cache import MIN_WRITES_TO_JUDGE
from claudetop.policies.evals import MIN_EVALS, write_eval

SONNET, HAIKU = "claude-sonnet-4-6", "claude-haiku-4-5"
SONNET_IN, SONNET_W5M, SONNET_W1H, SONNET_READ, SONNET_OUT = 3.0, 3.75, 6.0, 0.30, 15.0
HAIKU_IN, HAIKU_OUT = 1.0, 5.0

SYSTEM = "x" * 10_000
"""2,500 estimated tokens: above sonnet-4-6's 2,048-token minimum cacheable prefix."""
SYSTEM_TOKENS = 2_500
MESSAGE_TOKENS = 2
"""``"user"`` + ``"hi"``: six characters of text in the messages."""


class StepClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def request(**extra: Any) -> dict[str, Any]:
    body = {
        "model": SONNET,
        "max_tokens": 4096,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": "hi"}],
    }
    return {**body, **extra}


@pytest.fixture
def store(tmp_path: Path) -> PolicyStore:
    return PolicyStore(tmp_path / "events.db", config=Config(output_caps={"extraction": 512}))


def engine(store: PolicyStore, clock: StepClock | None = None, config: Config | None = None) -> PolicyEngine:
    return PolicyEngine(store, config or store.config, clock=clock or StepClock())


def test_everything_off_returns_the_same_object_and_no_decisions(store: PolicyStore) -> None:
    body = request()
    outcome = engine(store).decide(body, "extraction", SONNET)
    assert outcome.body is body
    assert outcome.decisions == ()


def test_shadow_cache_leaves_the_request_alone_and_estimates_write_then_read(store: PolicyStore) -> None:
    store.set("cache", "shadow", by="t")
    clock = StepClock()
    e = engine(store, clock)
    body = request()
    pristine = copy.deepcopy(body)
    first = e.decide(body, "chat", SONNET)
    assert first.body is body and body == pristine
    (decision,) = first.decisions
    assert (decision.policy, decision.mode, decision.changed_request) == ("cache", PolicyMode.SHADOW, False)
    assert decision.action.startswith("cache ttl=5m prefix=")
    assert decision.saving_micros == round(SYSTEM_TOKENS * (SONNET_IN - SONNET_W5M))

    clock.t += 60
    (again,) = e.decide(request(), "chat", SONNET).decisions
    assert again.saving_micros == round(SYSTEM_TOKENS * (SONNET_IN - SONNET_READ))


def test_enforced_cache_marks_the_end_of_the_system_prompt_in_a_copy(store: PolicyStore) -> None:
    store.set("cache", "enforce", by="t")
    body = request()
    pristine = copy.deepcopy(body)
    outcome = engine(store).decide(body, "chat", SONNET)
    assert body == pristine
    assert outcome.body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral", "ttl": "5m"}}
    ]
    assert outcome.body["messages"] == body["messages"]
    (decision,) = outcome.decisions
    assert (decision.mode, decision.changed_request) == (PolicyMode.ENFORCE, True)
    assert outcome.cache_prefix is not None and decision.action.endswith(outcome.cache_prefix[:12])


def test_short_prefixes_and_app_breakpoints_are_left_alone(store: PolicyStore) -> None:
    store.set("cache", "enforce", by="t")
    e = engine(store)
    short = request(system="y" * 4_000)
    assert e.decide(short, "chat", SONNET).body is short
    own = request(cache_control={"type": "ephemeral"})
    outcome = e.decide(own, "chat", SONNET)
    assert outcome.body is own and outcome.decisions == ()


def test_ttl_auto_picks_1h_for_a_prefix_reused_every_half_hour(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "e.db", config=Config(cache=CacheConfig(ttl="auto")))
    store.set("cache", "enforce", by="t")
    clock = StepClock()
    e = engine(store, clock)
    assert e.decide(request(), "job", SONNET).body["system"][0]["cache_control"]["ttl"] == "5m"
    clock.t += 1800
    assert e.decide(request(), "job", SONNET).body["system"][0]["cache_control"]["ttl"] == "1h"


def test_ttl_param_on_the_policy_overrides_config(store: PolicyStore) -> None:
    store.set("cache", "enforce", {"ttl": "1h"}, by="t")
    assert engine(store).decide(request(), "job", SONNET).body["system"][0]["cache_control"]["ttl"] == "1h"


def test_prefix_with_writes_but_no_reads_stops_being_cached(store: PolicyStore) -> None:
    store.set("cache", "enforce", by="t")
    e = engine(store)
    for _ in range(MIN_WRITES_TO_JUDGE):
        outcome = e.decide(request(), "chat", SONNET)
        written = UsageEvent(id="r", ts=datetime.now(UTC), model=SONNET, cache_write_5m_tokens=SYSTEM_TOKENS)
        e.observe(outcome.cache_prefix, written)
    body = request()
    outcome = e.decide(body, "chat", SONNET)
    assert outcome.body is body
    (decision,) = outcome.decisions
    assert decision.action.endswith("below-break-even") and not decision.changed_request


def test_prefix_that_is_read_keeps_being_cached(store: PolicyStore) -> None:
    store.set("cache", "enforce", by="t")
    e = engine(store)
    for i in range(3 * MIN_WRITES_TO_JUDGE):
        outcome = e.decide(request(), "chat", SONNET)
        tokens = {"cache_read_tokens": SYSTEM_TOKENS} if i % 3 else {"cache_write_5m_tokens": SYSTEM_TOKENS}
        e.observe(outcome.cache_prefix, UsageEvent(id="r", ts=datetime.now(UTC), model=SONNET, **tokens))
    assert e.decide(request(), "chat", SONNET).decisions[0].changed_request


def test_routing_shadow_records_the_route_and_its_input_side_saving(store: PolicyStore) -> None:
    store.set("routing", "shadow", by="t")
    body = request(system="short")
    outcome = engine(store).decide(body, "extraction", SONNET)
    assert outcome.body is body
    (decision,) = outcome.decisions
    assert decision.action == f"route {SONNET}->{HAIKU}"
    assert (decision.mode, decision.changed_request) == (PolicyMode.SHADOW, False)
    tokens = 2 + MESSAGE_TOKENS
    assert decision.saving_micros == round(tokens * (SONNET_IN - HAIKU_IN))


def test_routing_enforced_for_a_validated_task_changes_the_model(tmp_path: Path) -> None:
    config = Config(routing=RoutingConfig(validated_tasks=["extraction"]))
    store = PolicyStore(tmp_path / "e.db", config=config)
    store.set("routing", "enforce", by="t")
    outcome = engine(store).decide(request(), "extraction", SONNET)
    assert outcome.body["model"] == HAIKU
    assert outcome.decisions[0].changed_request


def test_routing_enforce_blocks_a_downshift_that_lost_its_validation(store: PolicyStore) -> None:
    for _ in range(MIN_EVALS):
        write_eval(store._db, "extraction", HAIKU, True, datetime.now(UTC))
    store.set("routing", "enforce", by="t")
    e = engine(store)
    assert e.decide(request(), "extraction", SONNET).body["model"] == HAIKU
    for _ in range(MIN_EVALS):
        write_eval(store._db, "extraction", HAIKU, False, datetime.now(UTC))
    store._checked_at = float("-inf")
    store._data_version = None
    body = request()
    outcome = e.decide(body, "extraction", SONNET)
    assert outcome.body is body
    assert outcome.decisions[0].action.endswith("blocked=unvalidated")
    assert outcome.decisions[0].mode is PolicyMode.SHADOW


def test_upshift_needs_no_validation(store: PolicyStore) -> None:
    config = Config(routing=RoutingConfig(tiers={"reasoning": "claude-opus-4-7"}))
    s = PolicyStore(store.path, config=config)
    s.set("routing", "enforce", by="t")
    assert engine(s).decide(request(), "reasoning", SONNET).body["model"] == "claude-opus-4-7"


def test_output_caps_shadow_and_enforce(store: PolicyStore) -> None:
    store.set("output_caps", "shadow", by="t")
    e = engine(store)
    body = request()
    shadow = e.decide(body, "extraction", SONNET)
    assert shadow.body is body and shadow.decisions[0].action == "cap max_tokens=512"
    store.set("output_caps", "enforce", by="t")
    assert e.decide(body, "extraction", SONNET).body["max_tokens"] == 512
    assert body["max_tokens"] == 4096
    assert e.decide(body, "chat", SONNET).body is body


def test_policies_compose_routing_then_cache_on_the_routed_model(tmp_path: Path) -> None:
    config = Config(routing=RoutingConfig(validated_tasks=["extraction"]), output_caps={"extraction": 512})
    store = PolicyStore(tmp_path / "e.db", config=config)
    for name in ("routing", "output_caps", "cache"):
        store.set(name, "enforce", by="t")
    body = request(system="z" * 20_000)
    outcome = engine(store).decide(body, "extraction", SONNET)
    assert outcome.body["model"] == HAIKU and outcome.body["max_tokens"] == 512
    assert outcome.body["system"][0]["cache_control"]["type"] == "ephemeral"
    assert [d.policy for d in outcome.decisions] == ["routing", "output_caps", "cache"]


def test_settle_reprices_routing_from_the_real_usage(tmp_path: Path) -> None:
    config = Config(routing=RoutingConfig(validated_tasks=["extraction"]))
    store = PolicyStore(tmp_path / "e.db", config=config)
    store.set("routing", "enforce", by="t")
    e = engine(store)
    outcome = e.decide(request(), "extraction", SONNET)
    served = UsageEvent(id="r", ts=datetime.now(UTC), model=HAIKU, input_tokens=10_000, output_tokens=1_000)
    (settled,) = e.settle(outcome.decisions, served)
    expected = round(10_000 * (SONNET_IN - HAIKU_IN) + 1_000 * (SONNET_OUT - HAIKU_OUT))
    assert settled.saving_micros == expected


def test_a_conversation_turn_that_reads_the_prefix_and_writes_history_counts_as_a_read(
    store: PolicyStore,
) -> None:
    store.set("cache", "enforce", by="t")
    e = engine(store)
    for _ in range(3 * MIN_WRITES_TO_JUDGE):
        outcome = e.decide(request(), "chat", SONNET)
        turn = UsageEvent(
            id="r",
            ts=datetime.now(UTC),
            model=SONNET,
            cache_read_tokens=SYSTEM_TOKENS,
            cache_write_5m_tokens=900,
        )
        e.observe(outcome.cache_prefix, turn)
    assert e.decide(request(), "chat", SONNET).decisions[0].changed_request
