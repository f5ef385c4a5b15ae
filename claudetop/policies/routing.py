"""Model routing: which model a task's requests should use, and whether that is a downshift.

Pure functions over the config's ``routing.tiers`` (task → model). A *downshift* moves a task to
a cheaper tier (opus → sonnet → haiku); it is what can silently hurt quality, so enforcing one is
gated on validation (``claudetop.policies.evals``). When either model is unknown to the price
book the move is treated as a downshift: the gate errs on the side of checking.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from claudetop.config import RoutingConfig


class ModelFacts(Protocol):
    """What routing and caching need to know of a model (``claudetop.pricing.ModelInfo`` has it)."""

    @property
    def id(self) -> str: ...

    @property
    def tier(self) -> str: ...

    @property
    def min_cacheable_tokens(self) -> int: ...


ModelLookup = Callable[[str], ModelFacts | None]


def default_lookup(model_id: str) -> ModelFacts | None:
    """The price book's model catalogue (imported on first use: the hook stays light to import)."""
    from claudetop.pricing import model_info

    return model_info(model_id)


TIER_RANK: dict[str, int] = {"haiku": 0, "sonnet": 1, "opus": 2}


@dataclass(frozen=True)
class Route:
    task: str
    from_model: str
    to_model: str
    downshift: bool


def canonical(model: str, lookup: ModelLookup) -> str:
    info = lookup(model)
    return info.id if info is not None else model


def is_downshift(from_model: str, to_model: str, lookup: ModelLookup) -> bool:
    a, b = lookup(from_model), lookup(to_model)
    if a is None or b is None or a.tier not in TIER_RANK or b.tier not in TIER_RANK:
        return True
    return TIER_RANK[b.tier] < TIER_RANK[a.tier]


def plan_route(
    task: str | None, model: str | None, routing: RoutingConfig, lookup: ModelLookup
) -> Route | None:
    """The route for a request of ``task`` on ``model``, or ``None`` when routing has nothing to do."""
    if task is None or model is None:
        return None
    target = routing.tiers.get(task)
    if target is None or canonical(target, lookup) == canonical(model, lookup):
        return None
    return Route(task, model, target, is_downshift(model, target, lookup))


def possible_downshifts(
    routing: RoutingConfig, observed: Iterable[tuple[str, str]], lookup: ModelLookup
) -> list[Route]:
    """Every downshift enforcing routing could make: against the default model and the models seen per task.

    ``observed`` is (task, model) pairs from recent traffic.
    """
    reference: dict[str, set[str]] = {task: {routing.default_model} for task in routing.tiers}
    for task, model in observed:
        if task in reference:
            reference[task].add(model)
    routes: list[Route] = []
    for task, models in sorted(reference.items()):
        for model in sorted(models):
            route = plan_route(task, model, routing, lookup)
            if route is not None and route.downshift:
                routes.append(route)
    return routes
