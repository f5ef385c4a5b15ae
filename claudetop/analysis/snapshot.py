"""Builds the immutable ``Snapshot`` from an ``Aggregator``: the one place panels' numbers come from."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from claudetop.analysis import findings as f
from claudetop.analysis.aggregate import Aggregator, Counts, PrefixStats, label, merged
from claudetop.analysis.budget import BudgetAlerts, month_key
from claudetop.analysis.projection import Projection, month_bounds, project_month
from claudetop.analysis.rates import Rates, RateTable
from claudetop.analysis.whatif import ALL_LEVERS, Replayable, WhatIfResult, enabled_levers, naive_cost, replay
from claudetop.config import Config
from claudetop.model import (
    BatchPollRow,
    BatchStatus,
    BatchView,
    BudgetAlertRow,
    BurnPoint,
    CacheView,
    DailySpend,
    Finding,
    Header,
    LiveRow,
    Micros,
    MixRow,
    ModelMixView,
    PolicyChange,
    PolicyName,
    PolicyRow,
    PolicySet,
    PrefixRow,
    ProjectionView,
    ScenarioRow,
    Snapshot,
    SourceStatus,
    UnpricedModel,
)
from claudetop.model.snapshot import ScenarioName
from claudetop.pricing import model_info

if TYPE_CHECKING:
    from claudetop.model import UsageEvent

BURN_BUCKET_S = 300
BURN_SPAN = timedelta(hours=3)
PROJECTION_WINDOW_DAYS = 7
_DEFAULT_MIN_CACHEABLE = 1024


def min_cacheable_tokens(model: str) -> int:
    info = model_info(model)
    return info.min_cacheable_tokens if info else _DEFAULT_MIN_CACHEABLE


def tier_of(model: str) -> str:
    info = model_info(model)
    return info.tier if info else "other"


@dataclass(frozen=True, slots=True)
class Scenarios:
    """The audit's table computed from the trailing window's events."""

    naive: tuple[Micros, Micros]
    """(cost with no cache and no batch, what the same events actually cost)."""
    now: WhatIfResult
    enabled: WhatIfResult
    all: WhatIfResult


def _factor(cost: Micros, baseline: Micros) -> float:
    """How a scenario changes spend: its cost over what the same requests actually cost."""
    return cost / baseline if baseline else 1.0


def scenarios(
    events: list[Replayable],
    policies: PolicySet,
    config: Config,
    rates: RateTable,
    min_cacheable: Callable[[str], int] = min_cacheable_tokens,
) -> Scenarios:
    def run(levers: Iterable[PolicyName]) -> WhatIfResult:
        return replay(events, tuple(levers), config, rates, min_cacheable_tokens=min_cacheable)

    now = run(())
    return Scenarios(
        naive=naive_cost(events, rates),
        now=now,
        enabled=run(enabled_levers(policies)),
        all=run(ALL_LEVERS),
    )


def _mix_summary(calls: Mapping[str, int]) -> tuple[str, dict[str, float]]:
    total = sum(calls.values())
    tiers: dict[str, int] = {}
    for model, n in calls.items():
        tiers[tier_of(model)] = tiers.get(tier_of(model), 0) + n
    shares = {t: n / total for t, n in sorted(tiers.items(), key=lambda kv: -kv[1])} if total else {}
    return ", ".join(f"{s:.0%} {t}" for t, s in shares.items()) or "no requests", shares


def scenario_rows(s: Scenarios, projection: Projection, now: datetime) -> tuple[ScenarioRow, ...]:
    def row(
        name: ScenarioName, lbl: str, factor: float, r: WhatIfResult, hit: float | None, batch: float | None
    ) -> ScenarioRow:
        mix, shares = _mix_summary(r.calls_by_model)
        return ScenarioRow(
            name=name,
            label=lbl,
            monthly_cost_micros=projection.month_at_rate(factor, now),
            cache_hit_ratio=hit,
            model_mix=mix,
            tier_shares=shares,
            batch_share=batch,
        )

    return (
        row(
            "naive",
            "naive (no cache, no batch)",
            _factor(*s.naive),
            s.now,
            0.0 if s.now.requests else None,
            0.0,
        ),
        row("now", "now", 1.0, s.now, s.now.hit_ratio, s.now.batch_share),
        row(
            "enabled_policies",
            "with enabled policies",
            _factor(s.enabled.cost_micros, s.enabled.baseline_micros),
            s.enabled,
            s.enabled.hit_ratio,
            s.enabled.batch_share,
        ),
        row(
            "all_policies",
            "with all policies",
            _factor(s.all.cost_micros, s.all.baseline_micros),
            s.all,
            s.all.hit_ratio,
            s.all.batch_share,
        ),
    )


def _wasted(p: PrefixStats, rates: RateTable) -> Micros:
    r = rates.get(p.model)
    if r is None:
        return 0
    premium = p.writes_5m * (r.write_5m - r.input) + p.writes_1h * (r.write_1h - r.input)
    return max(0, round(p.tokens * (premium - p.reads * (r.input - r.read)) / 1_000_000))


def cache_view(
    groups: Mapping[tuple[object, ...], Counts],
    prefixes: Iterable[PrefixStats],
    rates: RateTable,
    break_even: float,
    top: int = 10,
) -> CacheView:
    """Hit ratio and dollars saved over ``groups`` keyed (model, batch); prefix tables over all time."""
    total = merged(groups.values())
    saved = 0
    for (model, batch), c in groups.items():
        r = rates.get(model if isinstance(model, str) else None, bool(batch))
        if r is not None:
            saved += r.cost(input=c.prompt_tokens, output=c.output) - _tokens_at(r, c)
    plist = list(prefixes)
    writes = sum(p.writes for p in plist)
    reads = sum(p.reads for p in plist if p.writes)
    worst = sorted(((p, _wasted(p, rates)) for p in plist if p.writes), key=lambda pw: -pw[1])[:top]
    return CacheView(
        hit_ratio=total.hit_ratio,
        read_tokens=total.read,
        write_tokens=total.writes,
        uncached_input_tokens=total.input,
        reads_per_write=reads / writes if writes else None,
        break_even_reads_per_write=break_even,
        saved_micros=saved,
        worst_prefixes=tuple(
            PrefixRow(
                hash_short=p.sha256[:12],
                task=p.task,
                scope=p.scope,
                tokens=p.tokens,
                writes=p.writes,
                reads=p.reads,
                wasted_micros=w,
                last_seen=datetime.fromtimestamp(p.last_seen, UTC),
            )
            for p, w in worst
        ),
    )


def mix_rows(
    groups: Mapping[tuple[object, ...], Counts], models: Mapping[tuple[object, ...], Counts] | None = None
) -> tuple[MixRow, ...]:
    """One row per key of ``groups`` (keyed by a 1-tuple), most expensive first. ``models`` (keyed
    (key, model)) fills each row's calls per model."""
    total = merged(groups.values())
    per_model: dict[str, dict[str, int]] = {}
    for (key, model), c in (models or {}).items():
        per_model.setdefault(label(key if isinstance(key, str) else None), {})[
            label(model if isinstance(model, str) else None)
        ] = c.requests
    rows = []
    for (key,), c in groups.items():
        if not c.requests:
            continue
        name = label(key if isinstance(key, str) else None)
        rows.append(
            MixRow(
                key=name,
                calls=c.requests,
                tokens=c.tokens,
                output_tokens=c.output,
                cost_micros=c.cost_micros,
                unpriced_calls=c.unpriced,
                call_share=c.requests / total.requests,
                token_share=c.tokens / total.tokens if total.tokens else 0.0,
                cost_share=c.cost_micros / total.cost_micros if total.cost_micros else None,
                models=per_model.get(name, {}),
                max_tokens_stop_rate=c.max_tokens_stops / c.requests,
            )
        )
    return tuple(sorted(rows, key=lambda r: (-r.cost_micros, -r.calls, r.key)))


def output_share(groups: Mapping[tuple[object, ...], Counts], rates: RateTable) -> float | None:
    out = total = 0
    for (model, batch), c in groups.items():
        r = rates.get(model if isinstance(model, str) else None, bool(batch))
        if r is not None:
            out += r.cost(output=c.output)
            total += c.cost_micros
    return out / total if total else None


def _tokens_at(r: Rates, c: Counts) -> Micros:
    """The tokens of ``c``, every kind, at the rates ``r``."""
    return r.cost(input=c.input, output=c.output, write_5m=c.write_5m, write_1h=c.write_1h, read=c.read)


def batch_view(
    agg: Aggregator, groups: Mapping[tuple[object, ...], Counts], rates: RateTable, now: datetime
) -> BatchView:
    """Batch figures; the saving is the batch requests' tokens at standard rates less the same tokens at
    batch rates. Both sides come from the rate table: the recorded cost also holds what the discount
    does not touch (web-search fees) and what base rates leave out (long-context and residency
    premiums), and subtracting it from base rates could even show a negative saving."""
    total = merged(groups.values())
    saved = 0
    for (model, batch), c in groups.items():
        if not batch:
            continue
        name = model if isinstance(model, str) else None
        standard, discounted = rates.get(name, False), rates.get(name, True)
        if standard is not None and discounted is not None:
            saved += _tokens_at(standard, c) - _tokens_at(discounted, c)
    states = list(agg.batches.values())
    in_progress = [b for b in states if b.status is BatchStatus.IN_PROGRESS]
    polling = []
    for b in states:
        end = b.ended_at or (now if b.status is not BatchStatus.ENDED else b.updated_at)
        age = max((end - b.created_at).total_seconds(), 0.0)
        polls = agg.polls.get(b.id)
        calls = max(b.retrieve_calls, polls.calls if polls else 0)
        polling.append(
            BatchPollRow(
                batch_id=b.id,
                status=b.status.value,
                requests=b.total,
                age_s=age,
                retrieve_calls=calls,
                retrieves_per_minute=calls / max(age / 60, 1.0),
                deferred=b.deferred,
            )
        )
    polling.sort(key=lambda r: -r.retrieves_per_minute)
    return BatchView(
        batches_in_progress=len(in_progress),
        batches_canceling=sum(b.status is BatchStatus.CANCELING for b in states),
        batches_ended=sum(b.status is BatchStatus.ENDED for b in states),
        requests_processing=sum(b.processing for b in states),
        requests_succeeded=sum(b.succeeded for b in states),
        requests_errored=sum(b.errored for b in states),
        requests_canceled=sum(b.canceled for b in states),
        requests_expired=sum(b.expired for b in states),
        oldest_in_progress_age_s=max(
            ((now - b.created_at).total_seconds() for b in in_progress), default=None
        ),
        deferred_queue_depth=agg.deferred_queue_depth,
        share_of_requests=total.batch_requests / total.requests if total.requests else None,
        saved_micros=saved,
        polling=tuple(polling[:20]),
    )


def all_findings(
    agg: Aggregator,
    groups_tm: Mapping[tuple[object, ...], Counts],
    policies: PolicySet,
    config: Config,
    rates: RateTable,
    now: datetime,
    period_s: float,
    detail_period_s: float | None = None,
    since: datetime | None = None,
) -> tuple[Finding, ...]:
    """Every pitfall found. ``detail_period_s`` is the time the prefix tables cover (every event folded,
    or the aggregator's detail horizon of SQL-folded history, whatever the report's period), used to
    scale their losses to a month; only prefixes seen ``since`` the period's start are judged."""
    active = since.timestamp() if since is not None else float("-inf")
    prefixes = [p for p in agg.prefixes.values() if p.last_seen >= active]
    detail_s = period_s if detail_period_s is None else detail_period_s
    found = [
        *f.find_cache_fragmentation(prefixes, rates, detail_s),
        *f.find_ttl_misalignment(prefixes, rates, detail_s),
        *f.find_blind_downshifting(agg.tasks, policies, config),
        *f.find_batch_polling_storms(
            agg.batches.values(), agg.polls, now, poll_interval_s=config.batching.poll_interval_s
        ),
        *f.find_ignoring_output_costs(groups_tm, rates, config, period_s),  # type: ignore[arg-type]
        *f.find_cache_write_overhead(prefixes, rates, detail_s, break_even=config.cache.min_reads_per_write),
        *f.find_system_prompt_drift(agg.tasks, agg.prefixes, rates),
    ]
    return tuple(sorted(found, key=lambda x: -(x.monthly_impact_micros or 0)))


def _live(e: UsageEvent) -> LiveRow:
    flags = "".join(
        flag
        for flag, on in (
            ("B", e.is_batch),
            ("D", e.deferred),
            ("C", e.cache_read_tokens > 0),
            ("W", e.cache_write_tokens > 0),
            ("E", e.error_type is not None or (e.status or 0) >= 400),
            ("R", e.retries > 0),
            ("P", any(d.changed_request for d in e.policies)),
        )
        if on
    )
    return LiveRow(
        id=e.id,
        ts=e.ts,
        model=e.model,
        task=e.task,
        endpoint=e.endpoint.value,
        app=e.app,
        input_tokens=e.input_tokens,
        output_tokens=e.output_tokens,
        cache_read_tokens=e.cache_read_tokens,
        cache_write_tokens=e.cache_write_tokens,
        cost_micros=e.cost_micros,
        latency_ms=e.latency_ms,
        status=e.status,
        stop_reason=e.stop_reason,
        flags=flags,
    )


def build_snapshot(
    agg: Aggregator,
    now: datetime,
    policies: PolicySet,
    config: Config,
    rates: RateTable,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    sources: Iterable[SourceStatus] = (),
    budget_micros: Micros | None = None,
    policy_changes: Iterable[PolicyChange] = (),
    dropped: Mapping[str, int] | None = None,
    min_cacheable: Callable[[str], int] = min_cacheable_tokens,
    whatif_memo: Callable[[Callable[[], Scenarios]], Scenarios] | None = None,
    alerts: BudgetAlerts | None = None,
) -> Snapshot:
    """Everything the panels show. The period for cache, mix, batch and findings figures is
    ``[since, until)``, by default the current month; projection and header always use the month.

    ``whatif_memo`` receives the (expensive) what-if computation and may return an earlier result
    instead: a live monitor re-runs the replays only every few seconds or when the policies change."""
    now = now.astimezone(UTC)
    month_start, _ = month_bounds(now)
    start = since if since is not None else month_start
    by_mb = agg.window(start, until, by=("model", "batch"))
    total = merged(by_mb.values())
    first = datetime.fromtimestamp(agg.oldest, UTC) if agg.oldest is not None else None
    period_s = ((until or now) - max(start, first or start)).total_seconds()
    detail_from = first or start
    if agg.detail_since is not None:
        detail_from = max(detail_from, datetime.fromtimestamp(agg.detail_since, UTC))
    detail_period_s = (now - detail_from).total_seconds()

    history_start = datetime.combine(
        (now - timedelta(days=PROJECTION_WINDOW_DAYS)).date(), datetime.min.time(), UTC
    )
    history_start = min(history_start, month_start)
    daily: dict[date, Micros] = {t.date(): c.cost_micros for t, c in agg.series(history_start, now, 86_400)}
    proj = project_month(daily, now, first, PROJECTION_WINDOW_DAYS)

    def whatif() -> Scenarios:
        trailing = agg.recent_events(now - timedelta(days=proj.window_days or PROJECTION_WINDOW_DAYS), now)
        return scenarios(trailing, policies, config, rates, min_cacheable)

    sc = whatif() if whatif_memo is None else whatif_memo(whatif)

    burn = agg.series(now - BURN_SPAN, now, BURN_BUCKET_S)
    last_hour = agg.total(now - timedelta(hours=1), None)
    month_cost = proj.month_to_date_micros
    fired: tuple[BudgetAlertRow, ...] = ()
    if alerts is not None:
        alerts.check(now, month_cost)
        fired = tuple(
            BudgetAlertRow(
                threshold=a.threshold, fired_at=a.fired_at, month_to_date_micros=a.month_to_date_micros
            )
            for a in alerts.fired(month_key(now))
        )
    header = Header(
        generated_at=now,
        month_start=month_start,
        month_to_date_micros=month_cost,
        projected_month_micros=proj.projected_micros,
        budget_micros=budget_micros,
        budget_fraction=proj.projected_micros / budget_micros if budget_micros else None,
        budget_fraction_to_date=month_cost / budget_micros if budget_micros else None,
        budget_alerts=fired,
        burn_rate_micros_per_hour=last_hour.cost_micros,
        burn_bucket_s=BURN_BUCKET_S,
        burn_series=tuple(
            BurnPoint(start=t, cost_micros=c.cost_micros, requests=c.requests) for t, c in burn
        ),
        requests_last_5m=agg.total(now - timedelta(minutes=5), None).requests,
        requests_today=agg.total(datetime.combine(now.date(), datetime.min.time(), UTC), None).requests,
        sources=tuple(sources),
    )
    projection = ProjectionView(
        method=proj.method,
        window_days=proj.window_days,
        month_to_date_micros=proj.month_to_date_micros,
        projected_month_micros=proj.projected_micros,
        low_micros=proj.low_micros,
        high_micros=proj.high_micros,
        scenarios=scenario_rows(sc, proj, now),
        daily=tuple(DailySpend(day=d, cost_micros=c) for d, c in proj.daily),
        projected_line=tuple(DailySpend(day=d, cost_micros=c) for d, c in proj.line),
    )
    month_index = now.year * 12 + now.month - 1
    changes = {c.name: c for c in sorted(policy_changes, key=lambda c: c.at)}
    policy_rows = []
    for name in PolicyName:
        setting = policies.get(name)
        tallies = {
            mode: t for (p, mode, m), t in agg.policy_tallies.items() if p == name.value and m == month_index
        }
        shadow = tallies.get(setting.mode.SHADOW)
        enforced = tallies.get(setting.mode.ENFORCE)
        last = changes.get(name)
        policy_rows.append(
            PolicyRow(
                name=name,
                mode=setting.mode,
                params=setting.params,
                shadow_saving_micros=shadow.saving_micros if shadow else 0,
                enforced_saving_micros=enforced.saving_micros if enforced else 0,
                decisions=sum(t.decisions for t in tallies.values()),
                last_change_at=last.at if last else setting.updated_at,
                last_change_by=last.by if last else setting.updated_by,
            )
        )
    unpriced = [
        UnpricedModel(
            model=label(model if isinstance(model, str) else None), requests=c.unpriced, tokens=c.tokens
        )
        for (model,), c in agg.window(start, until, by=("model",)).items()
        if c.unpriced
    ]
    return Snapshot(
        header=header,
        cache=cache_view(by_mb, agg.prefixes.values(), rates, config.cache.min_reads_per_write),
        mix=ModelMixView(
            by_model=mix_rows(agg.window(start, until, by=("model",))),
            by_task=mix_rows(
                agg.window(start, until, by=("task",)), agg.window(start, until, by=("task", "model"))
            ),
            output_share_of_cost=output_share(by_mb, rates),
        ),
        batches=batch_view(agg, by_mb, rates, now),
        projection=projection,
        findings=all_findings(
            agg,
            agg.window(start, until, by=("task", "model", "batch")),
            policies,
            config,
            rates,
            now,
            period_s,
            detail_period_s,
            since=start,
        ),
        policies=tuple(policy_rows),
        live=tuple(_live(e) for e in reversed(agg.live)),
        unpriced=tuple(sorted(unpriced, key=lambda u: -u.requests)),
        dropped={"duplicate_events": agg.duplicates, **(dropped or {})},
        total_requests=total.requests,
        total_cost_micros=total.cost_micros,
    )
