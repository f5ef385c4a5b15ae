"""The config file's schema: one frozen dataclass per ``sample_config.toml`` section.

Plain dataclasses, so the built-in defaults cost nothing to build: most runs have no config file,
and a ``claudetop report`` rerun should not pay for a validation library it does not use. A file or
an override is validated by pydantic (``claudetop.config.loader``), which reads the constraints
written here as ``Annotated`` metadata (``Rule``, ``Check``); this module itself never imports it.

Every section forbids unknown keys, so a typo is an error with a line number rather than a setting
silently ignored. Defaults here are the defaults the sample file documents; a test checks the two
agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Literal

_FORBID_EXTRA = {"extra": "forbid"}
"""pydantic's config for a stdlib dataclass (``__pydantic_config__``): unknown keys are errors."""


class Rule:
    """Constraints pydantic adds to a field's core schema when it validates (``gt``, ``ge``, ``le``,
    ``min_length``, ``strip_whitespace``...), with pydantic's own error messages."""

    def __init__(self, **constraints: Any) -> None:
        self.constraints = constraints

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        schema = handler(source)
        if str(schema.get("type", "")).startswith("function"):
            raise TypeError("a Rule must come before any Check in Annotated: it constrains the value itself")
        schema.update(self.constraints)
        return schema


class Check:
    """A check of a field's validated value against the section's fields before it; raises
    ``ValueError`` (reported at the field's line)."""

    def __init__(self, check: Callable[[Any, Mapping[str, Any]], None]) -> None:
        self.check = check

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        def run(value: Any, info: Any) -> Any:
            self.check(value, info.data)
            return value

        return core_schema.with_info_after_validator_function(run, handler(source))


NonEmpty = Annotated[str, Rule(min_length=1, strip_whitespace=True)]
Seconds = Annotated[float, Rule(gt=0)]
UsdPerMTok = Annotated[Decimal, Rule(ge=0)]


def _cap_not_below_interval(cap: float, earlier: Mapping[str, Any]) -> None:
    interval = earlier.get("poll_interval_s")
    if interval is not None and cap < interval:
        raise ValueError(f"must be at least poll_interval_s ({interval:g})")


def _ascending(thresholds: list[float], _earlier: Mapping[str, Any]) -> None:
    if any(a >= b for a, b in itertools.pairwise(thresholds)):
        raise ValueError(f"must be strictly ascending, got {thresholds}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheConfig:
    __pydantic_config__ = _FORBID_EXTRA

    enabled: bool = True
    ttl: Literal["5m", "1h", "auto"] = "5m"
    min_reads_per_write: Annotated[float, Rule(ge=0)] = 1.2
    prefix_stabilisation_warnings: bool = True


DEFAULT_TIERS: dict[str, str] = {
    "extraction": "claude-haiku-4-5",
    "analysis": "claude-sonnet-4-6",
    "chat": "claude-sonnet-4-6",
    "code_review": "claude-sonnet-4-6",
    "summarisation": "claude-sonnet-4-6",
    "reasoning": "claude-opus-4-7",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingConfig:
    __pydantic_config__ = _FORBID_EXTRA

    default_model: NonEmpty = "claude-sonnet-4-6"
    tiers: dict[NonEmpty, NonEmpty] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    validated_tasks: list[NonEmpty] = field(default_factory=list)
    validation_required: bool = True
    min_eval_pass_rate: Annotated[float, Rule(ge=0, le=1)] = 0.95


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchingConfig:
    __pydantic_config__ = _FORBID_EXTRA

    enabled: bool = True
    async_tasks: list[NonEmpty] = field(default_factory=lambda: ["summarisation"])
    max_wait_s: Annotated[float, Rule(gt=0, le=86_400)] = 60.0
    batch_size: Annotated[int, Rule(ge=1, le=100_000)] = 100
    poll_interval_s: Seconds = 60.0
    backoff_cap_s: Annotated[float, Rule(gt=0), Check(_cap_not_below_interval)] = 900.0


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitoringConfig:
    __pydantic_config__ = _FORBID_EXTRA

    monthly_budget_usd: Annotated[Decimal, Rule(gt=0)] | None = None
    alert_thresholds: Annotated[list[Annotated[float, Rule(gt=0, le=10)]], Check(_ascending)] = field(
        default_factory=lambda: [0.5, 0.8, 1.0]
    )
    refresh_interval_s: Annotated[float, Rule(ge=0.1, le=3600)] = 1.0
    alert_command: NonEmpty | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SinkConfig:
    __pydantic_config__ = _FORBID_EXTRA

    path: NonEmpty | None = None
    """A SQLite file, a ``.jsonl`` file or a ``postgresql://`` URL; ``None`` means the platform default."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelPriceConfig:
    """Per-model price overrides, USD per million tokens; unset fields keep the published price."""

    __pydantic_config__ = _FORBID_EXTRA

    input_per_mtok: UsdPerMTok | None = None
    output_per_mtok: UsdPerMTok | None = None
    cache_write_5m_per_mtok: UsdPerMTok | None = None
    cache_write_1h_per_mtok: UsdPerMTok | None = None
    cache_read_per_mtok: UsdPerMTok | None = None
    multiplier: Annotated[Decimal, Rule(gt=0)] = Decimal(1)
    """Applied to the whole cost of the model, e.g. 0.8 for a 20% contract discount."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PricingConfig:
    __pydantic_config__ = _FORBID_EXTRA

    residency_multiplier: Annotated[Decimal, Rule(gt=0)] | None = None
    """Surcharge on US-only inference; ``None`` keeps Anthropic's published multiplier."""
    models: dict[NonEmpty, ModelPriceConfig] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    __pydantic_config__ = _FORBID_EXTRA

    app: NonEmpty | None = None
    default_task: NonEmpty | None = None
    disabled: bool = False
    theme: NonEmpty = "dark"
    """A shipped or user theme; the monitor, which reads the theme files, checks the name."""
    cache: CacheConfig = field(default_factory=CacheConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    batching: BatchingConfig = field(default_factory=BatchingConfig)
    output_caps: dict[NonEmpty, Annotated[int, Rule(ge=1)]] = field(default_factory=dict)
    monitoring: MonitoringConfig = field(default_factory=MonitoringConfig)
    sink: SinkConfig = field(default_factory=SinkConfig)
    keys: dict[NonEmpty, NonEmpty] = field(default_factory=dict)
    """Action name → Textual key(s); the names, the keys and their clashes are checked by the monitor
    (``claudetop.ui.keys``), which knows the actions and what Textual calls each key."""
    pricing: PricingConfig = field(default_factory=PricingConfig)
