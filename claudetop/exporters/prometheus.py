"""The report document as Prometheus metrics, and a refresher that keeps it current off the request path.

``render(report)`` turns the very dictionary ``claudetop report --format json`` prints into the
text exposition format, so every figure a scrape shows is the report's figure (money stays the
report's exact decimal string). ``LiveReport`` rebuilds the document with ``build_report`` on its
own thread once per refresh interval; a scrape only reads the last rendered text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from claudetop.analysis.report import build_report
from claudetop.config import Config
from claudetop.sources.types import Source

PREFIX = "claudetop_"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

Sample = tuple[Mapping[str, str], Any]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _family(name: str, help_text: str, samples: Iterable[Sample]) -> list[str]:
    lines = [f"# HELP {PREFIX}{name} {help_text}", f"# TYPE {PREFIX}{name} gauge"]
    for labels, value in samples:
        if value is None:
            continue
        text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
        lines.append(f"{PREFIX}{name}{{{text}}} {value}" if text else f"{PREFIX}{name} {value}")
    return lines


def _usage_families(totals: Mapping[str, Any], groups: Mapping[str, Mapping[str, Any]]) -> list[str]:
    def per_group(field: str) -> list[Sample]:
        return [({"by": by, "group": g}, u[field]) for by, rows in groups.items() for g, u in rows.items()]

    def tokens_per_group() -> list[Sample]:
        return [
            ({"by": by, "group": g, "kind": kind}, n)
            for by, rows in groups.items()
            for g, u in rows.items()
            for kind, n in u["tokens"].items()
        ]

    return [
        *_family("requests", "Billable requests in the report period.", [({}, totals["requests"])]),
        *_family("cost_usd", "Cost in USD in the report period.", [({}, totals["cost_usd"])]),
        *_family(
            "unpriced_requests", "Requests on models without a price.", [({}, totals["unpriced_requests"])]
        ),
        *_family(
            "tokens",
            "Tokens by kind in the report period.",
            [({"kind": k}, n) for k, n in totals["tokens"].items()],
        ),
        *_family("group_requests", "Billable requests per model, task or host.", per_group("requests")),
        *_family("group_cost_usd", "Cost in USD per model, task or host.", per_group("cost_usd")),
        *_family("group_tokens", "Tokens by kind per model, task or host.", tokens_per_group()),
    ]


def render(report: Mapping[str, Any]) -> str:
    """The Prometheus text exposition of a report document (``claudetop.analysis.report``)."""
    cache, batch, proj, hooks = (
        report["cache"],
        report["batch"],
        report["projection"],
        report.get("hooks", {}),
    )
    groups = {by: report[f"by_{by}"] for by in ("model", "task", "host")}
    scenarios = [
        ({"scenario": "now"}, proj["projected_month_usd"]),
        ({"scenario": "low"}, proj["projected_low_usd"]),
        ({"scenario": "high"}, proj["projected_high_usd"]),
        ({"scenario": "enabled_policies"}, proj["projected_with_enabled_policies_usd"]),
        ({"scenario": "all_policies"}, proj["projected_with_all_policies_usd"]),
    ]
    batch_requests = ("processing", "succeeded", "errored", "expired", "canceled")
    lines = [
        *_family(
            "report_generated_timestamp_seconds",
            "When these figures were computed (Unix time).",
            [({}, datetime.fromisoformat(report["generated_at"]).timestamp())],
        ),
        *_usage_families(report["totals"], groups),
        *_family("cache_hit_ratio", "Token-weighted cache hit ratio.", [({}, cache["hit_ratio"])]),
        *_family("cache_reads_per_write", "Cache reads per cache write.", [({}, cache["reads_per_write"])]),
        *_family("cache_saved_usd", "USD saved by cache reads versus no cache.", [({}, cache["saved_usd"])]),
        *_family(
            "batches",
            "Message batches by processing state.",
            [
                ({"state": "in_progress"}, batch["batches_in_progress"]),
                ({"state": "ended"}, batch["batches_ended"]),
            ],
        ),
        *_family(
            "batch_requests",
            "Requests inside message batches by outcome.",
            [({"state": s}, batch[f"requests_{s}"]) for s in batch_requests],
        ),
        *_family(
            "batch_oldest_in_progress_age_seconds",
            "Age of the oldest batch still in progress.",
            [({}, batch["oldest_in_progress_age_s"])],
        ),
        *_family(
            "batch_share_of_requests",
            "Share of requests sent as batches.",
            [({}, batch["share_of_requests"])],
        ),
        *_family("batch_saved_usd", "USD saved by the batch discount.", [({}, batch["saved_usd"])]),
        *_family("month_to_date_usd", "Spend this month so far.", [({}, proj["month_to_date_usd"])]),
        *_family("projected_month_usd", "Projected bill for this month by scenario.", scenarios),
        *_family("budget_usd", "Monthly budget.", [({}, proj["budget_usd"])]),
        *_family(
            "finding_monthly_impact_usd",
            "Estimated monthly cost of each finding (rank: its place in the report; ids repeat).",
            [
                ({"id": f["id"], "rank": str(i)}, f["monthly_impact_usd"])
                for i, f in enumerate(report["findings"])
            ],
        ),
        *_family(
            "hook_events",
            "Events the hooks could not write at once: dropped, delayed (written on a retry), queued.",
            [({"state": s}, hooks.get(s)) for s in ("dropped", "delayed", "queued")],
        ),
        *_family(
            "source_up",
            "Whether each source could be read for these figures (1) or not (0: they lack its data).",
            [({"source": s["name"]}, int(bool(s["ok"]))) for s in report.get("sources", [])],
        ),
    ]
    return "\n".join(lines) + "\n"


class LiveReport:
    """The report rebuilt by ``build_report`` itself on every ``refresh()``, over freshly opened sources.

    A full read per refresh (it runs on the refresher's thread, once per interval, and the sink's
    history comes from its SQL rollups) keeps every figure identical to ``claudetop report`` by
    construction, however the report's reading evolves.
    """

    def __init__(
        self,
        open_sources: Callable[[], Sequence[Source]],
        config: Config,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._open_sources = open_sources
        self.config = config
        self._clock = clock
        self.report: dict[str, Any] | None = None
        self._rendered = ""
        self.error: str | None = None

    def refresh(self) -> None:
        sources = self._open_sources()
        try:
            now = self._clock() if self._clock else None
            self.report = build_report(sources, self.config, now=now)
        finally:
            for source in sources:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
        self._rendered = render(self.report)

    @property
    def text(self) -> str:
        """The last figures, and whether the last refresh could compute them (else they are older)."""
        ok: list[Sample] = [({}, 0 if self.error else 1)]
        return (
            self._rendered
            + "\n".join(_family("refresh_ok", "Whether the last refresh succeeded.", ok))
            + "\n"
        )

    def run(self, interval_s: float, stop: threading.Event) -> None:
        """Refresh every ``interval_s`` until ``stop``; an error keeps the last good figures and is shown."""
        while not stop.wait(interval_s):
            self.try_refresh()

    def try_refresh(self) -> None:
        """``refresh``; when it fails the last figures stay, and ``refresh_ok`` says they are stale."""
        try:
            self.refresh()
            self.error = None
        except Exception as err:
            self.error = f"{type(err).__name__}: {err}"
