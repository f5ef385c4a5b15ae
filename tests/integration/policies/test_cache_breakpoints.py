"""The caching policy's breakpoints against the fake API's cache (same semantics as the real one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic

from claudetop.config import Config
from claudetop.policies import PolicyEngine, PolicyStore
from claudetop.simulate import FakeAnthropic, SimClock
from claudetop.simulate.workload import text


def test_conversation_turns_read_the_previous_turn_and_single_shots_only_the_system(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "events.db", config=Config())
    store.set("cache", "enforce", by="test")
    engine = PolicyEngine(store, Config())
    system = text(3000, "system")
    usages: list[Any] = []
    with FakeAnthropic(clock=SimClock(speed=1)) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        history: list[dict[str, Any]] = []
        for turn in range(3):
            user = f"{text(400, f'turn {turn}')} [[sim:output_tokens=200]]"
            body = {
                "model": "claude-sonnet-4-6",
                "max_tokens": 400,
                "system": system,
                "messages": [*history, {"role": "user", "content": user}],
            }
            message = client.messages.create(**engine.decide(body, "chat", None).body)
            usages.append(message.usage)
            history = [*body["messages"], {"role": "assistant", "content": message.content[0].text}]
        single = engine.decide({**body, "messages": [{"role": "user", "content": user}]}, "chat", None)
        alone = client.messages.create(**single.body).usage

    first, second, third = usages
    assert first.cache_read_input_tokens == 0 and first.cache_creation_input_tokens > 0
    system_tokens = first.cache_creation_input_tokens
    assert second.cache_read_input_tokens == system_tokens
    assert third.cache_read_input_tokens > system_tokens
    assert third.input_tokens == 0
    assert alone.cache_read_input_tokens == system_tokens and alone.cache_creation_input_tokens == 0
