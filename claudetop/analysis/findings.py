"""The seven pitfalls of the cost audit, one pure function each.

Each function reads aggregated facts (prefix, task and batch tables from the ``Aggregator``,
counts per task) and returns ``Finding``s with evidence, the money at stake per month and the fix.
Money lost during the observed ``period_s`` is scaled to an average month (30.4375 days); periods
under an hour are treated as an hour so a burst is not extrapolated wildly. ``None`` impact means
the pitfall is a risk (quality, rate limits) rather than a cost we can price.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from claudetop.analysis.aggregate import BatchPolls, Counts, PrefixStats, TaskStats, label
from claudetop.analysis.rates import Rates, RateTable
from claudetop.config import Config
from claudetop.model import Finding, Micros, PolicyMode, PolicyName, PolicySet, format_usd
from claudetop.model.snapshot import FindingId, Severity

if TYPE_CHECKING:
    from claudetop.model import BatchState

MONTH_S = 30.4375 * 86_400
_MIN_PERIOD_S = 3_600.0
_PER_MTOK = 1_000_000


def per_month(micros: int, period_s: float) -> Micros:
    """An amount observed over ``period_s`` seconds, scaled to an average month."""
    return round(micros * MONTH_S / max(period_s, _MIN_PERIOD_S))


def _severity(impact: Micros | None) -> Severity:
    if impact is None:
        return "warning"
    if impact >= 100_000_000:
        return "critical"
    return "warning" if impact >= 1_000_000 else "info"


def _finding(
    fid: FindingId, title: str, impact: Micros | None, evidence: list[str], fix: str, subject: str
) -> Finding:
    return Finding(
        id=fid,
        title=title,
        severity=_severity(impact),
        monthly_impact_micros=impact,
        evidence=tuple(evidence),
        fix=fix,
        subject=subject,
    )


def _short(sha: str) -> str:
    return sha[:12]


def _tokens_cost(tokens: int, rate: int) -> int:
    """Micro-dollars (times 10^6: kept unrounded until the end) for ``tokens`` at ``rate`` per MTok."""
    return tokens * rate


def _rounded(scaled: int) -> Micros:
    return round(scaled / _PER_MTOK)


# --- 1. cache fragmentation -----------------------------------------------------------------


def find_cache_fragmentation(
    prefixes: Iterable[PrefixStats],
    rates: RateTable,
    period_s: float,
    *,
    min_prefixes: int = 5,
    length_tolerance: float = 0.05,
) -> list[Finding]:
    """Many distinct prefixes of one task, about the same length, each written once and never read.

    With hashes only we cannot diff the text; same task, same scope and lengths within
    ``length_tolerance`` of each other is what "the same prompt with a dynamic part early in it"
    (a timestamp, a user id) looks like. The loss: all but one of those writes could have been reads.
    """
    groups: dict[tuple[str | None, str | None, str], list[PrefixStats]] = defaultdict(list)
    for p in prefixes:
        if p.writes == 1 and p.reads == 0:
            groups[(p.task, p.model, p.scope)].append(p)
    out: list[Finding] = []
    for (task, model, scope), members in groups.items():
        members.sort(key=lambda p: p.tokens)
        cluster: list[PrefixStats] = []
        best: list[PrefixStats] = []
        for p in members:
            if cluster and p.tokens > cluster[0].tokens * (1 + length_tolerance):
                cluster = [c for c in cluster if p.tokens <= c.tokens * (1 + length_tolerance)]
            cluster.append(p)
            if len(cluster) > len(best):
                best = list(cluster)
        if len(best) < min_prefixes:
            continue
        r = rates.get(model)
        impact = None
        if r is not None:
            lost = sum(
                _tokens_cost(p.tokens, (r.write_1h if p.writes_1h else r.write_5m) - r.read) for p in best[1:]
            )
            impact = per_month(_rounded(lost), period_s)
        lo, hi = best[0].tokens, best[-1].tokens
        out.append(
            _finding(
                "cache_fragmentation",
                f"Cache fragmentation: {len(best)} {scope} prefixes of {label(task)} written once, unread",
                impact,
                [
                    f"{len(best)} distinct {scope} prefixes on {label(model)}, {lo:,}-{hi:,} tokens each, "
                    "every one written to the cache once and never read",
                    "examples: " + ", ".join(_short(p.sha256) for p in best[:4]),
                ],
                "Something near the start of the prompt changes per request (timestamp, user or request id): "
                "move dynamic content after the cache breakpoint or into a separate, uncached block.",
                label(task),
            )
        )
    return out


# --- 2. TTL misalignment --------------------------------------------------------------------


def find_ttl_misalignment(
    prefixes: Iterable[PrefixStats], rates: RateTable, period_s: float, *, min_rewrites: int = 3
) -> list[Finding]:
    """A 5m-TTL prefix rewritten after gaps between 5 minutes and an hour: a 1h TTL turns those
    rewrites into reads, for the price of dearer 1h writes on the remaining writes."""
    groups: dict[tuple[str | None, str | None], list[PrefixStats]] = defaultdict(list)
    for p in prefixes:
        if p.rewrites_gap_under_1h:
            groups[(p.task, p.model)].append(p)
    out: list[Finding] = []
    for (task, model), members in groups.items():
        rewrites = sum(p.rewrites_gap_under_1h for p in members)
        if rewrites < min_rewrites:
            continue
        r = rates.get(model)
        impact = None
        if r is not None:
            saved = sum(
                _tokens_cost(p.tokens, r.write_5m - r.read) * p.rewrites_gap_under_1h for p in members
            )
            extra = sum(
                _tokens_cost(p.tokens, r.write_1h - r.write_5m) * (p.writes_5m - p.rewrites_gap_under_1h)
                for p in members
            )
            impact = per_month(_rounded(saved - extra), period_s)
            if impact <= 0:
                continue
        writes = sum(p.writes_5m for p in members)
        out.append(
            _finding(
                "ttl_misalignment",
                f"TTL misalignment: task {label(task)} reuses its prefix after the 5-minute cache expired",
                impact,
                [
                    f"{rewrites} of {writes} cache writes on {label(model)} re-wrote a prefix last used "
                    "5-60 minutes earlier",
                    "prefixes: " + ", ".join(_short(p.sha256) for p in members[:4]),
                ],
                'Use a 1-hour TTL for this prefix (cache_control ttl "1h"), or set cache.ttl = "auto".',
                label(task),
            )
        )
    return out


# --- 3. blind downshifting ------------------------------------------------------------------


def _bad_rate(c: Counts) -> float:
    return (c.errors + c.max_tokens_stops + c.retried) / c.requests


def find_blind_downshifting(
    tasks: Mapping[str, TaskStats],
    policies: PolicySet,
    config: Config,
    *,
    min_requests: int = 20,
    margin: float = 0.05,
) -> list[Finding]:
    """Routing enforced on a task never validated on the cheaper model, or routed requests failing
    (errors, ``max_tokens`` stops, retries) more often than the task's unrouted ones."""
    out: list[Finding] = []
    enforced = policies.mode(PolicyName.ROUTING) is PolicyMode.ENFORCE
    validated = set(config.routing.validated_tasks)
    for name, t in sorted(tasks.items()):
        evidence: list[str] = []
        if enforced and config.routing.validation_required and t.routed.requests and name not in validated:
            evidence.append(
                f"routing is enforced and sent {t.routed.requests} requests of {name} to a cheaper model, "
                "but the task is not in routing.validated_tasks"
            )
        if t.routed.requests >= min_requests and t.unrouted.requests >= min_requests:
            routed, unrouted = _bad_rate(t.routed), _bad_rate(t.unrouted)
            if routed - unrouted > margin:
                evidence.append(
                    f"routed requests fail, stop at max_tokens or retry {routed:.0%} of the time "
                    f"vs {unrouted:.0%} on the requested model "
                    f"({t.routed.requests} vs {t.unrouted.requests} requests)"
                )
        if evidence:
            out.append(
                _finding(
                    "blind_downshifting",
                    f"Blind downshifting: task {name} routed without evidence the cheaper model copes",
                    None,
                    evidence,
                    "Put routing for this task in shadow mode, record evals (claudetop.record_eval), "
                    "and enforce only once the pass rate meets routing.min_eval_pass_rate.",
                    name,
                )
            )
    return out


# --- 4. batch polling storms ----------------------------------------------------------------


def find_batch_polling_storms(
    batches: Iterable[BatchState],
    polls: Mapping[str, BatchPolls],
    now: datetime,
    *,
    poll_interval_s: float = 60.0,
) -> list[Finding]:
    """Batches polled more than twice as often as the configured interval (per minute of life)."""
    limit = 2 * 60 / poll_interval_s
    seen: dict[str, tuple[int, float, int]] = {}
    for b in batches:
        end = b.ended_at or (b.updated_at if b.status != "in_progress" else now)
        minutes = max((end - b.created_at).total_seconds() / 60, 1.0)
        seen[b.id] = (b.retrieve_calls, minutes, 0)
    for bid, p in polls.items():
        minutes = max((p.last - p.first) / 60, 1.0)
        calls, prev_minutes, _ = seen.get(bid, (0, minutes, 0))
        if p.calls >= calls:
            seen[bid] = (p.calls, minutes, p.rate_limited)
        else:
            seen[bid] = (calls, prev_minutes, p.rate_limited)
    stormy = sorted(
        ((bid, calls / minutes, calls, limited) for bid, (calls, minutes, limited) in seen.items()),
        key=lambda row: -row[1],
    )
    stormy = [row for row in stormy if row[1] > limit]
    if not stormy:
        return []
    limited = sum(row[3] for row in stormy)
    evidence = [f"{bid}: {calls} retrieve calls, {rate:.1f} per minute" for bid, rate, calls, _ in stormy[:5]]
    evidence.append(
        f"{len(stormy)} batches polled more than {limit:g}x per minute; {limited} polls got HTTP 429"
    )
    return [
        _finding(
            "batch_polling_storm",
            f"Batch polling storm: {len(stormy)} batches polled every few seconds",
            None,
            evidence,
            "Poll with exponential backoff and jitter (batching.poll_interval_s, batching.backoff_cap_s) "
            "or use claudetop.deferrable, whose queue polls for you; batches take minutes to hours.",
            stormy[0][0],
        )
    ]


# --- 5. ignoring output costs ---------------------------------------------------------------


def find_ignoring_output_costs(
    by_task_model: Mapping[tuple[str | None, str | None, bool], Counts],
    rates: RateTable,
    config: Config,
    period_s: float,
    *,
    min_share: float = 0.5,
) -> list[Finding]:
    """Tasks without an output cap whose spend is mostly output tokens. The impact is the monthly
    output spend of their requests that hit ``max_tokens`` anyway (paid for truncated answers); with
    none truncated nothing is lost yet, so the finding is a risk (no impact), not "$0.00/month"."""
    tasks: dict[str | None, list[tuple[Counts, Rates | None]]] = defaultdict(list)
    for (task, model, batch), c in by_task_model.items():
        tasks[task].append((c, rates.get(model, batch)))
    out: list[Finding] = []
    for task, rows in tasks.items():
        if task is not None and task in config.output_caps:
            continue
        priced = [(c, r) for c, r in rows if r is not None]
        total = sum(c.cost_micros for c, _ in priced)
        output = sum(_rounded(_tokens_cost(c.output, r.output)) for c, r in priced if r is not None)
        if not total or output / total < min_share:
            continue
        requests = sum(c.requests for c, _ in rows)
        stops = sum(c.max_tokens_stops for c, _ in rows)
        truncated = sum(
            _rounded(_tokens_cost(c.output, r.output)) * c.max_tokens_stops // c.requests
            for c, r in priced
            if r is not None and c.requests
        )
        out.append(
            _finding(
                "ignoring_output_costs",
                f"Output costs: {output / total:.0%} of {label(task)}'s spend is output tokens, uncapped",
                per_month(truncated, period_s) if truncated else None,
                [
                    f"output tokens cost {format_usd(per_month(output, period_s))}/month of "
                    f"{format_usd(per_month(total, period_s))}/month for this task",
                    f"{stops} of {requests} requests stopped at max_tokens ({stops / requests:.0%})",
                ],
                f"Set an output cap for this task (output_caps.{label(task)} = N), ask for shorter answers; "
                "the output_caps policy enforces it.",
                label(task),
            )
        )
    return out


# --- 6. cache write overhead ----------------------------------------------------------------


def find_cache_write_overhead(
    prefixes: Iterable[PrefixStats],
    rates: RateTable,
    period_s: float,
    *,
    break_even: float = 1.2,
    min_writes: int = 3,
) -> list[Finding]:
    """Prefixes written again and again but read less than ``break_even`` times per write: the write
    premium costs more than the reads save."""
    groups: dict[tuple[str | None, str | None], list[tuple[PrefixStats, int]]] = defaultdict(list)
    for p in prefixes:
        if p.writes < min_writes or p.reads / p.writes >= break_even:
            continue
        r = rates.get(p.model)
        loss = 0
        if r is not None:
            premium = p.writes_5m * (r.write_5m - r.input) + p.writes_1h * (r.write_1h - r.input)
            loss = _tokens_cost(p.tokens, premium) - _tokens_cost(p.tokens, (r.input - r.read) * p.reads)
            if loss <= 0:
                continue
        groups[(p.task, p.model)].append((p, loss))
    out: list[Finding] = []
    for (task, model), members in groups.items():
        writes = sum(p.writes for p, _ in members)
        reads = sum(p.reads for p, _ in members)
        priced = rates.get(model) is not None
        impact = per_month(_rounded(sum(loss for _, loss in members)), period_s) if priced else None
        out.append(
            _finding(
                "cache_write_overhead",
                f"Cache write overhead: task {label(task)} reads its cache {reads / writes:.2f}x per write",
                impact,
                [
                    f"{len(members)} prefixes on {label(model)}: {writes} writes, {reads} reads "
                    f"(break-even {break_even:g} reads per write)",
                    "prefixes: " + ", ".join(_short(p.sha256) for p, _ in members[:4]),
                ],
                "Stop caching these prefixes (the cache policy does so below cache.min_reads_per_write), "
                "or batch the requests closer together so the cache is still warm.",
                label(task),
            )
        )
    return out


# --- 7. system prompt drift -----------------------------------------------------------------


def find_system_prompt_drift(
    tasks: Mapping[str, TaskStats],
    prefixes: Mapping[tuple[str | None, str], PrefixStats],
    rates: RateTable,
    *,
    min_changes: int = 3,
    max_changes_per_day: float = 1.0,
) -> list[Finding]:
    """A task whose system-prompt fingerprint changes more than ``max_changes_per_day``: each change
    rewrites the cache (and usually means a prompt is being built with something volatile in it)."""
    by_sha = {sha: p for (_, sha), p in prefixes.items()}
    out: list[Finding] = []
    for name, t in sorted(tasks.items()):
        span_s = max(t.last_seen - t.first_seen, _MIN_PERIOD_S)
        per_day = t.system_changes * 86_400 / span_s
        if t.system_changes < min_changes or per_day <= max_changes_per_day:
            continue
        current = by_sha.get(t.system_sha or "")
        impact = None
        if current is not None:
            r = rates.get(current.model)
            if r is not None:
                lost = _rounded(_tokens_cost(current.tokens, r.write_5m - r.read) * t.system_changes)
                impact = per_month(lost, span_s)
        out.append(
            _finding(
                "system_prompt_drift",
                f"System prompt drift: task {name}'s system prompt changed {t.system_changes} times",
                impact,
                [
                    f"{t.system_changes} changes ({per_day:.1f} per day), "
                    f"{len(t.system_versions)} distinct versions over {t.requests} requests",
                    f"current fingerprint {_short(t.system_sha or '')}",
                ],
                "Keep the system prompt static (version it deliberately); put per-request data in the "
                "messages after the cache breakpoint.",
                name,
            )
        )
    return out
