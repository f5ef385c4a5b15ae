"""What the monitor shows at one instant: an immutable ``Snapshot`` built by ``claudetop.analysis``.

Panels only render a snapshot; they never compute. Every number here is traceable to one pure
function in ``claudetop.analysis`` (named in the field's docstring where it is not obvious).

Conventions, so the UI never has to guess:

- money is integer micro-dollars (``Micros``), fields end in ``_micros``; ``None`` means
  "cannot be known" (unpriced model, no data yet), never zero;
- ratios and shares are floats in ``[0, 1]`` (``None`` when the denominator is zero);
- ages and durations are seconds (``float``), timestamps aware UTC datetimes;
- sequences are tuples, already sorted the way a panel shows them.

They are frozen dataclasses, not validated models: only ``claudetop.analysis`` builds them, from data
that was validated where it entered, and a monitor builds one several times a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from claudetop.model.money import Micros
from claudetop.model.policies import ParamValue, PolicyMode, PolicyName
from claudetop.model.times import json_time

# --- header ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceStatus:
    """One input's health, as ``claudetop.sources`` reports it."""

    name: str
    ok: bool
    message: str | None = None
    events_read: int = 0
    garbage_lines: int = 0
    last_error_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The report's form: plain JSON values."""
        return {
            "name": self.name,
            "ok": self.ok,
            "message": self.message,
            "events_read": self.events_read,
            "garbage_lines": self.garbage_lines,
            "last_error_at": json_time(self.last_error_at),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BurnPoint:
    """Spend in one time bucket (``start`` to ``start + Header.burn_bucket_s``)."""

    start: datetime
    cost_micros: Micros
    requests: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BudgetAlertRow:
    """A budget threshold that fired this month (``analysis.budget``): once per UTC calendar month."""

    threshold: float
    """Fraction of the monthly budget, e.g. 0.8."""
    fired_at: datetime
    month_to_date_micros: Micros
    """Spend to date when it fired."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    generated_at: datetime
    month_start: datetime
    """First instant of the current (UTC) calendar month."""
    month_to_date_micros: Micros
    projected_month_micros: Micros
    """Month to date plus the trailing-rate projection to month end (``analysis.projection``)."""
    budget_micros: Micros | None = None
    budget_fraction: float | None = None
    """Projected month / budget (can exceed 1)."""
    budget_fraction_to_date: float | None = None
    """Month to date / budget."""
    budget_alerts: tuple[BudgetAlertRow, ...] = ()
    """Thresholds crossed this month, lowest first."""
    burn_rate_micros_per_hour: Micros = 0
    """Spend over the last hour."""
    burn_bucket_s: int = 300
    burn_series: tuple[BurnPoint, ...] = ()
    """Oldest first, one point per bucket, empty buckets included as zeros."""
    requests_last_5m: int = 0
    requests_today: int = 0
    sources: tuple[SourceStatus, ...] = ()


# --- cache ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixRow:
    """One cacheable prefix (by fingerprint) and what caching it did."""

    hash_short: str
    """First 12 hex digits of the SHA-256."""
    task: str | None
    scope: str
    """Where the prefix ends: ``tools``, ``system`` or ``messages``."""
    tokens: int
    writes: int
    reads: int
    wasted_micros: Micros
    """What its cache writes cost beyond plain input, minus what its reads saved (≥ 0 shown)."""
    last_seen: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheView:
    hit_ratio: float | None
    """Token-weighted: ``read / (read + write + uncached input)``."""
    read_tokens: int = 0
    write_tokens: int = 0
    uncached_input_tokens: int = 0
    reads_per_write: float | None = None
    """Cache-read events per cache-write event, over prefixes that were written."""
    break_even_reads_per_write: float = 1.2
    saved_micros: Micros = 0
    """Cost without any cache minus actual cost (negative when caching lost money)."""
    worst_prefixes: tuple[PrefixRow, ...] = ()
    """Most wasted dollars first."""


# --- model mix ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MixRow:
    """One model (or one task): its calls, tokens and dollars, with shares of the total."""

    key: str
    """Model id or task tag; ``"(none)"`` for events without one."""
    calls: int
    tokens: int
    """Prompt (input + cache write + cache read) plus output tokens."""
    output_tokens: int = 0
    cost_micros: Micros
    unpriced_calls: int = 0
    call_share: float
    token_share: float
    cost_share: float | None
    models: dict[str, int] = field(default_factory=dict)
    """For task rows: calls per model serving the task (shows routing at a glance)."""
    max_tokens_stop_rate: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelMixView:
    by_model: tuple[MixRow, ...] = ()
    by_task: tuple[MixRow, ...] = ()
    output_share_of_cost: float | None = None


# --- batches --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchPollRow:
    batch_id: str
    status: str
    requests: int
    age_s: float
    retrieve_calls: int
    retrieves_per_minute: float
    deferred: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchView:
    batches_in_progress: int = 0
    batches_canceling: int = 0
    batches_ended: int = 0
    requests_processing: int = 0
    requests_succeeded: int = 0
    requests_errored: int = 0
    requests_canceled: int = 0
    requests_expired: int = 0
    oldest_in_progress_age_s: float | None = None
    deferred_queue_depth: int | None = None
    """Requests claudetop's deferral queue holds but has not submitted yet; ``None`` if unknown."""
    share_of_requests: float | None = None
    """Billable requests served as batch results / all billable requests."""
    saved_micros: Micros = 0
    """Cost at standard rates minus actual, for batch results."""
    polling: tuple[BatchPollRow, ...] = ()
    """Highest retrieve rate first."""


# --- projection -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioRow:
    """One line of the audit's table: what a month of this traffic costs under some policies."""

    name: ScenarioName
    label: str
    monthly_cost_micros: Micros
    cache_hit_ratio: float | None
    model_mix: str
    """e.g. ``"62% sonnet, 30% haiku, 8% opus"`` (share of requests by tier)."""
    tier_shares: dict[str, float] = field(default_factory=dict)
    batch_share: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class DailySpend:
    day: date
    cost_micros: Micros


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectionView:
    method: str
    """Plain words, e.g. ``"month to date + mean daily spend of the last 7 days x 12 days left"``."""
    window_days: float
    month_to_date_micros: Micros
    projected_month_micros: Micros
    low_micros: Micros
    high_micros: Micros
    """Uncertainty band (± one standard deviation of daily spend, scaled to the days left)."""
    scenarios: tuple[ScenarioRow, ...] = ()
    daily: tuple[DailySpend, ...] = ()
    """Actual spend per day this month, oldest first."""
    projected_line: tuple[DailySpend, ...] = ()
    """Projected cumulative spend from today to the last day of the month."""


# --- findings -------------------------------------------------------------------------------

Severity = Literal["info", "warning", "critical"]
ScenarioName = Literal["naive", "now", "enabled_policies", "all_policies"]
FindingId = Literal[
    "cache_fragmentation",
    "ttl_misalignment",
    "blind_downshifting",
    "batch_polling_storm",
    "ignoring_output_costs",
    "cache_write_overhead",
    "system_prompt_drift",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One detected pitfall, with why we think so, what it costs and what to do."""

    id: FindingId
    title: str
    severity: Severity
    monthly_impact_micros: Micros | None
    """Estimated money lost per month (``None`` when it is a risk, not a cost)."""
    evidence: tuple[str, ...]
    fix: str
    subject: str | None = None
    """The task, prefix or batch the finding is about."""


# --- policies -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyRow:
    name: PolicyName
    mode: PolicyMode
    params: dict[str, ParamValue] = field(default_factory=dict)
    shadow_saving_micros: Micros = 0
    """Savings recorded by shadow decisions (would have saved) this month."""
    enforced_saving_micros: Micros = 0
    decisions: int = 0
    last_change_at: datetime | None = None
    last_change_by: str | None = None


# --- live requests --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LiveRow:
    """One recent event, compact enough for a DataTable row."""

    id: str
    ts: datetime
    model: str | None
    task: str | None
    endpoint: str
    app: str | None = None
    """The ``app`` tag of the instrumented application (``claudetop.instrument(app=...)``)."""
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_micros: Micros | None
    latency_ms: float | None
    status: int | None
    stop_reason: str | None
    flags: str
    """Short markers: ``B`` batch, ``D`` deferred, ``C`` cache read, ``W`` cache write, ``E`` error,
    ``R`` retried, ``P`` a policy changed the request."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnpricedModel:
    model: str
    requests: int
    tokens: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Snapshot:
    """Everything the monitor's panels show, computed once by ``analysis.Aggregator.snapshot``."""

    header: Header
    cache: CacheView
    mix: ModelMixView
    batches: BatchView
    projection: ProjectionView
    findings: tuple[Finding, ...] = ()
    """Largest monthly impact first."""
    policies: tuple[PolicyRow, ...] = ()
    live: tuple[LiveRow, ...] = ()
    """Newest first."""
    unpriced: tuple[UnpricedModel, ...] = ()
    dropped: dict[str, int] = field(default_factory=dict)
    """Counters of input that was not used: ``duplicate_events``, ``garbage_lines``, ``hook_dropped``..."""
    total_requests: int = 0
    total_cost_micros: Micros = 0

    @classmethod
    def empty(cls, now: datetime) -> Snapshot:
        """What panels show before the first events arrive."""
        month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return cls(
            header=Header(
                generated_at=now, month_start=month_start, month_to_date_micros=0, projected_month_micros=0
            ),
            cache=CacheView(hit_ratio=None),
            mix=ModelMixView(),
            batches=BatchView(),
            projection=ProjectionView(
                method="no data yet",
                window_days=0,
                month_to_date_micros=0,
                projected_month_micros=0,
                low_micros=0,
                high_micros=0,
            ),
        )
