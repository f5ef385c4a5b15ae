"""``claudetop report``: the monitor's numbers without a terminal UI (text, Markdown, JSON).

The JSON document is the source of truth; text and Markdown are rendered from it, so all three
show the same numbers. Its schema is documented in ``docs/report-schema.md`` and versioned by
``SCHEMA_VERSION`` (bump it on any incompatible change).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from claudetop.analysis.aggregate import Aggregator, Counts, label
from claudetop.analysis.budget import budget_alerts_for
from claudetop.analysis.projection import month_bounds, present
from claudetop.analysis.rates import RateTable
from claudetop.analysis.snapshot import PROJECTION_WINDOW_DAYS, build_snapshot
from claudetop.config import Config
from claudetop.model import (
    Micros,
    PolicySet,
    ScenarioRow,
    Snapshot,
    SourceStatus,
    format_usd,
    micros_from_usd,
    usd_str,
)
from claudetop.pricing import PriceBook
from claudetop.sources import open_sources
from claudetop.sources.checkpoints import CheckpointStore
from claudetop.sources.claude_code import ClaudeCodeSource
from claudetop.sources.types import HistorySource, Source

SCHEMA_VERSION = 1

S = TypeVar("S", bound=Source)


def pricebook_for(config: Config) -> PriceBook:
    return PriceBook.from_overrides(**dataclasses.asdict(config.pricing))


def open_report_sources(
    sinks: Sequence[Path | str],
    jsonl: Sequence[Path],
    claude_code: Sequence[Path] | None,
    pricebook: PriceBook,
) -> list[Source]:
    """Sources that read everything from the start. Claude Code transcripts replay their checkpoint
    (``$CLAUDETOP_STATE_DIR``) and parse only bytes added since, so a rerun over months of history is fast."""
    sources: list[Source] = open_sources(sinks=sinks, jsonl=jsonl)
    if claude_code is not None:
        sources.append(
            ClaudeCodeSource(
                list(claude_code) or None, checkpoints=CheckpointStore(), pricebook=pricebook, settle_s=0.0
            )
        )
    return sources


def fold_histories(sources: Sequence[S], agg: Aggregator) -> list[S]:
    """Fold what each source can hand over pre-aggregated (``HistorySource.take_history``): a SQLite
    sink's whole history from SQL, Claude Code's from its checkpoint, so a report over millions of
    rows or months of transcripts starts in seconds. Polls then continue after it. Returns the sources
    that handed a history over."""
    minute_span_s, detail_span_s = agg.minute_horizon.total_seconds(), agg.detail_horizon.total_seconds()
    folded: list[S] = []
    for source in sources:
        if isinstance(source, HistorySource):
            history = source.take_history(minute_span_s=minute_span_s, detail_span_s=detail_span_s)
            if history is not None:
                agg.add_history(history, source.name)
                folded.append(source)
    return folded


def drain(
    sources: Sequence[Source], agg: Aggregator, max_polls: int = 10_000, policies: PolicySet | None = None
) -> PolicySet:
    """Poll every source until none has anything new; returns the last policy set seen (or ``policies``).

    Claude Code transcripts are not polled: their history (``fold_histories``) read every transcript to
    its end, and a poll would only look at every file again."""
    policies = policies if policies is not None else PolicySet()
    for source in sources:
        if isinstance(source, ClaudeCodeSource):
            continue
        for _ in range(max_polls):
            delta = source.poll()
            agg.set_deferred_depth(source.name, delta.deferred_queue_depth)
            if not delta:
                break
            agg.add(delta.events)
            agg.add_batches(delta.batches)
            if delta.policies is not None:
                policies = delta.policies
    return policies


def _tokens(c: Counts) -> dict[str, int]:
    return {
        "input": c.input,
        "output": c.output,
        "cache_write_5m": c.write_5m,
        "cache_write_1h": c.write_1h,
        "cache_read": c.read,
    }


def _usage(c: Counts) -> dict[str, Any]:
    return {
        "requests": c.requests,
        "cost_usd": usd_str(c.cost_micros),
        "unpriced_requests": c.unpriced,
        "tokens": _tokens(c),
    }


def _keyed(groups: Mapping[tuple[Any, ...], Counts]) -> dict[str, dict[str, Any]]:
    return {label(k[0]): _usage(c) for k, c in sorted(groups.items(), key=lambda kv: label(kv[0][0]))}


def _opt_usd(m: Micros | None) -> str | None:
    return None if m is None else usd_str(m)


def report_data(
    agg: Aggregator, snap: Snapshot, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    total = agg.total(since, until)
    p = snap.projection
    scen: dict[str, ScenarioRow] = {s.name: s for s in p.scenarios}
    b = snap.batches
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": snap.header.generated_at.isoformat(),
        "period": {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
        },
        "totals": _usage(total),
        "by_model": _keyed(agg.window(since, until, by=("model",))),
        "by_task": _keyed(agg.window(since, until, by=("task",))),
        "by_host": _keyed(agg.window(since, until, by=("host",))),
        "by_app": _keyed(agg.window(since, until, by=("app",))),
        "cache": {
            "hit_ratio": snap.cache.hit_ratio,
            "reads_per_write": snap.cache.reads_per_write,
            "break_even_reads_per_write": snap.cache.break_even_reads_per_write,
            "saved_usd": usd_str(snap.cache.saved_micros),
        },
        "batch": {
            "share_of_requests": b.share_of_requests,
            "saved_usd": usd_str(b.saved_micros),
            "batches_in_progress": b.batches_in_progress,
            "batches_ended": b.batches_ended,
            "requests_processing": b.requests_processing,
            "requests_succeeded": b.requests_succeeded,
            "requests_errored": b.requests_errored,
            "requests_expired": b.requests_expired,
            "requests_canceled": b.requests_canceled,
            "oldest_in_progress_age_s": b.oldest_in_progress_age_s,
            "deferred_queue_depth": b.deferred_queue_depth,
        },
        "projection": {
            "method": p.method,
            "month_to_date_usd": usd_str(p.month_to_date_micros),
            "projected_month_usd": usd_str(p.projected_month_micros),
            "projected_low_usd": usd_str(p.low_micros),
            "projected_high_usd": usd_str(p.high_micros),
            "projected_with_enabled_policies_usd": usd_str(
                _projected_with(p.month_to_date_micros, p.projected_month_micros, scen, "enabled_policies")
            ),
            "projected_with_all_policies_usd": usd_str(
                _projected_with(p.month_to_date_micros, p.projected_month_micros, scen, "all_policies")
            ),
            "budget_usd": _opt_usd(snap.header.budget_micros),
            "budget_alerts": [
                {
                    "threshold": a.threshold,
                    "fired_at": a.fired_at.isoformat(),
                    "month_to_date_usd": usd_str(a.month_to_date_micros),
                }
                for a in snap.header.budget_alerts
            ],
            "scenarios": [
                {
                    "name": s.name,
                    "label": s.label,
                    "monthly_cost_usd": usd_str(s.monthly_cost_micros),
                    "cache_hit_ratio": s.cache_hit_ratio,
                    "model_mix": s.model_mix,
                    "batch_share": s.batch_share,
                }
                for s in p.scenarios
            ],
        },
        "findings": [
            {
                "id": f.id,
                "title": f.title,
                "severity": f.severity,
                "monthly_impact_usd": _opt_usd(f.monthly_impact_micros),
                "evidence": list(f.evidence),
                "fix": f.fix,
            }
            for f in snap.findings
        ],
        "unpriced": [{"model": u.model, "requests": u.requests, "tokens": u.tokens} for u in snap.unpriced],
        "sources": [s.to_json() for s in snap.header.sources],
    }


def _projected_with(mtd: Micros, projected: Micros, scen: Mapping[str, ScenarioRow], name: str) -> Micros:
    """Month to date plus the rest of the month at the scenario's cost relative to now."""
    now_row, row = scen.get("now"), scen.get(name)
    if now_row is None or row is None or not now_row.monthly_cost_micros:
        return projected
    return mtd + round((projected - mtd) * row.monthly_cost_micros / now_row.monthly_cost_micros)


def over_budget(data: Mapping[str, Any]) -> bool:
    budget: str | None = data["projection"]["budget_usd"]
    return budget is not None and Decimal(data["projection"]["projected_month_usd"]) > Decimal(budget)


def _money(text: str | None) -> str:
    return "unpriced" if text is None else format_usd(micros_from_usd(text))


def _age(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds / 60:.0f} min"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def _band(p: Mapping[str, Any]) -> str:
    """`` (low - high)`` after the projection, or nothing when there is no band (under two full days)."""
    low, high = p["projected_low_usd"], p["projected_high_usd"]
    return f" ({_money(low)} - {_money(high)})" if Decimal(high) > Decimal(low) else ""


def _lines(data: Mapping[str, Any], md: bool) -> list[str]:
    t, c, b, p = data["totals"], data["cache"], data["batch"], data["projection"]
    h = "## " if md else ""
    out = [
        f"{'# ' if md else ''}claudetop report ({data['generated_at']})",
        "",
        f"{h}Totals",
        f"requests: {t['requests']:,}   cost: {_money(t['cost_usd'])}   "
        + "   ".join(f"{k}: {v:,}" for k, v in t["tokens"].items()),
        "",
        f"{h}Projection",
        f"month to date: {_money(p['month_to_date_usd'])}   "
        f"projected month: {_money(p['projected_month_usd'])}" + _band(p),
        f"with enabled policies: {_money(p['projected_with_enabled_policies_usd'])}   "
        f"with all policies: {_money(p['projected_with_all_policies_usd'])}"
        + (f"   budget: {_money(p['budget_usd'])}" if p["budget_usd"] else ""),
        f"method: {p['method']}",
        *(
            f"budget alert: {a['threshold']:.0%} of budget reached at {a['fired_at']} "
            f"(month to date {_money(a['month_to_date_usd'])})"
            for a in p["budget_alerts"]
        ),
        "",
    ]
    rows = [
        (
            s["label"],
            _money(s["monthly_cost_usd"]),
            _pct(s["cache_hit_ratio"]),
            s["model_mix"],
            _pct(s["batch_share"]),
        )
        for s in p["scenarios"]
    ]
    head = ("strategy", "monthly cost", "cache hit rate", "model use", "batch use")
    if md:
        out += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        out += [
            "  ".join(f"{x:<28}" if i == 0 else f"{x:>14}" for i, x in enumerate(r)) for r in [head, *rows]
        ]
    out += [
        "",
        f"{h}Cache",
        f"hit ratio: {_pct(c['hit_ratio'])}   reads per write: "
        f"{'n/a' if c['reads_per_write'] is None else format(c['reads_per_write'], '.2f')} "
        f"(break-even {c['break_even_reads_per_write']:g})   saved: {_money(c['saved_usd'])}",
        "",
        f"{h}Batches",
        f"share of requests: {_pct(b['share_of_requests'])}   saved: {_money(b['saved_usd'])}   "
        f"in progress: {b['batches_in_progress']}   ended: {b['batches_ended']}   "
        f"errored: {b['requests_errored']}   expired: {b['requests_expired']}   "
        f"oldest in progress: {_age(b['oldest_in_progress_age_s'])}   "
        f"deferred queue: {'n/a' if b['deferred_queue_depth'] is None else b['deferred_queue_depth']}",
        "",
    ]
    for title, key in (
        ("By model", "by_model"),
        ("By task", "by_task"),
        ("By host", "by_host"),
        ("By app", "by_app"),
    ):
        out.append(f"{h}{title}")
        for name, u in data[key].items():
            out.append(f"{'- ' if md else '  '}{name}: {u['requests']:,} requests, {_money(u['cost_usd'])}")
        out.append("")
    out.append(f"{h}Findings")
    for f in data["findings"]:
        impact = f["monthly_impact_usd"]
        out.append(f"{'- ' if md else '* '}{f['title']} ({_money(impact) + '/month' if impact else 'risk'})")
        out += [f"    {e}" for e in f["evidence"]]
        out.append(f"    fix: {f['fix']}")
    if not data["findings"]:
        out.append("none")
    if data["unpriced"]:
        out += ["", f"{h}Unpriced models"]
        out += [f"  {u['model']}: {u['requests']:,} requests" for u in data["unpriced"]]
    return out


def render(data: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2)
    return "\n".join(_lines(data, fmt == "markdown")) + "\n"


def build_report(
    sources: Sequence[Source],
    config: Config,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    budget_usd: Decimal | None = None,
    now: datetime | None = None,
    alert_state: Path | None = None,
) -> dict[str, Any]:
    """Read every source in full and build the report; with ``alert_state`` (a file) budget thresholds
    fire once per month and run ``monitoring.alert_command`` (see ``analysis.budget``)."""
    agg = Aggregator(replay_cap=2_000_000, detail_horizon=timedelta(days=PROJECTION_WINDOW_DAYS + 1))
    fold_histories(sources, agg)
    policies = drain(sources, agg)
    return report_for(
        agg,
        policies,
        sources,
        config,
        since=since,
        until=until,
        budget_usd=budget_usd,
        now=now,
        alert_state=alert_state,
    )


def report_for(
    agg: Aggregator,
    policies: PolicySet,
    sources: Sequence[Source],
    config: Config,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    budget_usd: Decimal | None = None,
    now: datetime | None = None,
    alert_state: Path | None = None,
) -> dict[str, Any]:
    """The report document for what ``agg`` holds: ``build_report`` after its read, and the exporters
    (which keep one aggregator and feed it incrementally) every refresh."""
    book = pricebook_for(config)
    budget = budget_usd if budget_usd is not None else config.monitoring.monthly_budget_usd
    health: list[SourceStatus] = [s.health() for s in sources]
    at = now or present(datetime.now(UTC), agg.newest)
    since = since if since is not None else month_bounds(at)[0]
    budget_micros = micros_from_usd(budget) if budget is not None else None
    snap = build_snapshot(
        agg,
        at,
        policies,
        config,
        RateTable(book, at),
        since=since,
        until=until,
        sources=health,
        budget_micros=budget_micros,
        alerts=budget_alerts_for(config, budget_micros, alert_state, (h.name for h in health)),
    )
    data = report_data(agg, snap, since, until)
    data["hooks"] = hook_health(sources)
    return data


def hook_health(sources: Sequence[Source]) -> dict[str, Any]:
    """What the hooks reported about events they could not write (sources that carry such records).

    ``dropped`` events never reached the sink; ``queued`` ones were still waiting to be written
    (delayed) when the hook last reported; ``sink_errors`` counts failed write attempts.
    """
    reports: dict[str, dict[str, Any]] = {}
    for source in sources:
        reports.update(getattr(source, "hooks", {}))
    return {
        "dropped": sum(int(r.get("dropped", 0)) for r in reports.values()),
        "delayed": sum(int(r.get("delayed", 0)) for r in reports.values()),
        "queued": sum(int(r.get("queued", 0)) for r in reports.values()),
        "sink_errors": sum(int(r.get("sink_errors", 0)) for r in reports.values()),
        "processes": dict(sorted(reports.items())),
    }
