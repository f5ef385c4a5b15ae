"""Enforcing routing is refused while a configured downshift is unvalidated; shadow is always allowed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from claudetop.config import Config, RoutingConfig
from claudetop.model import PolicyMode, PolicyName, UsageEvent
from claudetop.policies import PolicyRefused, PolicyStore
from claudetop.policies.evals import MIN_EVALS, write_eval
from claudetop.policies.routing import plan_route, possible_downshifts
from claudetop.pricing import model_info
from claudetop.sinks import SQLiteSink


def test_refusal_names_task_models_and_offers_shadow(tmp_path: Path) -> None:
    with PolicyStore(tmp_path / "e.db", config=Config()) as store:
        with pytest.raises(PolicyRefused) as refused:
            store.set("routing", "enforce", by="t")
        reason = refused.value.reason
        assert "extraction: claude-sonnet-4-6 -> claude-haiku-4-5" in reason
        assert "no evals recorded" in reason
        assert "shadow" in reason
        assert store.current().mode(PolicyName.ROUTING) is PolicyMode.OFF
        assert store.audit() == []
        assert store.set("routing", "shadow", by="t").to_mode is PolicyMode.SHADOW


def test_config_validated_task_allows_enforce(tmp_path: Path) -> None:
    config = Config(routing=RoutingConfig(validated_tasks=["extraction"]))
    with PolicyStore(tmp_path / "e.db", config=config) as store:
        assert store.set("routing", "enforce", by="t").to_mode is PolicyMode.ENFORCE


@pytest.mark.parametrize(
    ("passed", "total", "allowed"), [(MIN_EVALS, MIN_EVALS, True), (18, 20, False), (19, 19, False)]
)
def test_eval_results_gate_enforce(tmp_path: Path, passed: int, total: int, allowed: bool) -> None:
    with PolicyStore(tmp_path / "e.db", config=Config()) as store:
        for i in range(total):
            write_eval(store._db, "extraction", "claude-haiku-4-5", i < passed, datetime.now(UTC))
        if allowed:
            store.set("routing", "enforce", by="t")
        else:
            with pytest.raises(PolicyRefused, match=f"{passed}/{total} evals passed"):
                store.set("routing", "enforce", by="t")


def test_models_seen_in_traffic_count_as_the_reference(tmp_path: Path) -> None:
    path = tmp_path / "e.db"
    config = Config(
        routing=RoutingConfig(default_model="claude-haiku-4-5", tiers={"review": "claude-sonnet-4-6"})
    )
    with PolicyStore(path, config=config) as store:
        store.set("routing", "enforce", by="t")
        with SQLiteSink(path) as sink:
            sink.write_events(
                [UsageEvent(id="e1", ts=datetime.now(UTC), task="review", model="claude-opus-4-7")]
            )
        with pytest.raises(PolicyRefused, match="review: claude-opus-4-7 -> claude-sonnet-4-6"):
            store.set("routing", "enforce", by="t")


def test_plan_route_pure() -> None:
    routing = RoutingConfig()
    assert plan_route(None, "claude-sonnet-4-6", routing, model_info) is None
    assert plan_route("chat", "claude-sonnet-4-6", routing, model_info) is None
    route = plan_route("extraction", "claude-opus-4-7", routing, model_info)
    assert route is not None and route.downshift and route.to_model == "claude-haiku-4-5"
    up = plan_route("reasoning", "claude-haiku-4-5", routing, model_info)
    assert up is not None and not up.downshift
    unknown = plan_route("extraction", "acme-llm", routing, model_info)
    assert unknown is not None and unknown.downshift
    assert [r.task for r in possible_downshifts(routing, [], model_info)] == ["extraction"]
