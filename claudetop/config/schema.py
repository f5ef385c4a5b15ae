"""The config file's schema: one pydantic model per ``sample_config.toml`` section.

Every model is frozen and forbids unknown keys, so a typo is an error with a line number rather
than a setting silently ignored. Defaults here are the defaults the sample file documents; a test
checks the two agree.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator

NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Seconds = Annotated[float, Field(gt=0)]
UsdPerMTok = Annotated[Decimal, Field(ge=0)]


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CacheConfig(_Section):
    enabled: bool = True
    ttl: Literal["5m", "1h", "auto"] = "5m"
    min_reads_per_write: Annotated[float, Field(ge=0)] = 1.2
    prefix_stabilisation_warnings: bool = True


DEFAULT_TIERS: dict[str, str] = {
    "extraction": "claude-haiku-4-5",
    "analysis": "claude-sonnet-4-6",
    "chat": "claude-sonnet-4-6",
    "code_review": "claude-sonnet-4-6",
    "summarisation": "claude-sonnet-4-6",
    "reasoning": "claude-opus-4-7",
}


class RoutingConfig(_Section):
    default_model: NonEmpty = "claude-sonnet-4-6"
    tiers: dict[NonEmpty, NonEmpty] = Field(default_factory=lambda: dict(DEFAULT_TIERS))
    validated_tasks: list[NonEmpty] = Field(default_factory=list)
    validation_required: bool = True
    min_eval_pass_rate: Annotated[float, Field(ge=0, le=1)] = 0.95


class BatchingConfig(_Section):
    enabled: bool = True
    async_tasks: list[NonEmpty] = Field(default_factory=lambda: ["summarisation"])
    max_wait_s: Annotated[float, Field(gt=0, le=86_400)] = 60.0
    batch_size: Annotated[int, Field(ge=1, le=100_000)] = 100
    poll_interval_s: Seconds = 60.0
    backoff_cap_s: Seconds = 900.0

    @field_validator("backoff_cap_s")
    @classmethod
    def _cap_not_below_interval(cls, cap: float, info: ValidationInfo) -> float:
        interval = info.data.get("poll_interval_s")
        if interval is not None and cap < interval:
            raise ValueError(f"must be at least poll_interval_s ({interval:g})")
        return cap


class MonitoringConfig(_Section):
    monthly_budget_usd: Annotated[Decimal, Field(gt=0)] | None = None
    alert_thresholds: list[Annotated[float, Field(gt=0, le=10)]] = Field(
        default_factory=lambda: [0.5, 0.8, 1.0]
    )
    refresh_interval_s: Annotated[float, Field(ge=0.1, le=3600)] = 1.0
    alert_command: NonEmpty | None = None

    @field_validator("alert_thresholds")
    @classmethod
    def _thresholds_ascending(cls, t: list[float]) -> list[float]:
        if any(a >= b for a, b in itertools.pairwise(t)):
            raise ValueError(f"must be strictly ascending, got {t}")
        return t


class SinkConfig(_Section):
    path: NonEmpty | None = None
    """A SQLite file, a ``.jsonl`` file or a ``postgresql://`` URL; ``None`` means the platform default."""


class ModelPriceConfig(_Section):
    """Per-model price overrides, USD per million tokens; unset fields keep the published price."""

    input_per_mtok: UsdPerMTok | None = None
    output_per_mtok: UsdPerMTok | None = None
    cache_write_5m_per_mtok: UsdPerMTok | None = None
    cache_write_1h_per_mtok: UsdPerMTok | None = None
    cache_read_per_mtok: UsdPerMTok | None = None
    multiplier: Annotated[Decimal, Field(gt=0)] = Decimal(1)
    """Applied to the whole cost of the model, e.g. 0.8 for a 20% contract discount."""


class PricingConfig(_Section):
    residency_multiplier: Annotated[Decimal, Field(gt=0)] | None = None
    """Surcharge on US-only inference; ``None`` keeps Anthropic's published multiplier."""
    models: dict[NonEmpty, ModelPriceConfig] = Field(default_factory=dict)


class Config(_Section):
    app: NonEmpty | None = None
    default_task: NonEmpty | None = None
    disabled: bool = False
    theme: NonEmpty = "dark"
    """A shipped or user theme; the monitor, which reads the theme files, checks the name."""
    cache: CacheConfig = Field(default_factory=CacheConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    batching: BatchingConfig = Field(default_factory=BatchingConfig)
    output_caps: dict[NonEmpty, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    sink: SinkConfig = Field(default_factory=SinkConfig)
    keys: dict[NonEmpty, NonEmpty] = Field(default_factory=dict)
    """Action name → Textual key(s); the names, the keys and their clashes are checked by the monitor
    (``claudetop.ui.keys``), which knows the actions and what Textual calls each key."""
    pricing: PricingConfig = Field(default_factory=PricingConfig)
