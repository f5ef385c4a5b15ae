"""Header: month to date, projected month, budget gauge, burn-rate sparkline, sources' health."""

from __future__ import annotations

from textual.content import Content

from claudetop.model import Snapshot
from claudetop.ui.panels.base import Panel
from claudetop.ui.widgets.figures import count, flow, gauge, lines, money, pct, spark


class HeaderPanel(Panel):
    can_focus = False
    BOXED = False

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        h = snapshot.header
        top = flow(
            [
                Content.styled("claudetop", "bold $primary"),
                Content.assemble("month ", (money(h.month_to_date_micros), "bold")),
                Content.assemble("projected ", (money(h.projected_month_micros), "bold $accent")),
                *self._budget(snapshot),
            ],
            width,
        )
        burn = flow(
            [
                Content.assemble("burn ", (f"{money(h.burn_rate_micros_per_hour)}/h", "bold")),
                spark([p.cost_micros for p in h.burn_series], 24),
                f"5m {count(h.requests_last_5m)} req",
                f"today {count(h.requests_today)} req",
                f"total {count(snapshot.total_requests)} req",
            ],
            width,
        )
        sources = flow(
            [Content("sources")]
            + [
                Content.assemble(
                    ("●" if s.ok else "✖", "$success" if s.ok else "$error"),
                    f" {s.name} {count(s.events_read)}",
                    (f" {s.message}" if s.message and not s.ok else "", "$error"),
                )
                for s in h.sources
            ]
            + (
                [Content.styled(f"unpriced: {len(snapshot.unpriced)} model(s)", "$warning")]
                if snapshot.unpriced
                else []
            ),
            width,
        )
        return lines([top, burn, sources][: max(height, 1)])

    @staticmethod
    def _budget(snapshot: Snapshot) -> list[Content]:
        h = snapshot.header
        if h.budget_micros is None:
            return [Content.styled("no budget (--budget)", "$text-muted")]
        return [
            Content.assemble(
                "budget ",
                (pct(h.budget_fraction), "bold"),
                " ",
                gauge(h.budget_fraction, 8, high_is_good=False),
            ),
            Content.styled(f"of {money(h.budget_micros)}", "$text-muted"),
            *(
                [
                    Content.styled(
                        "alerts " + " ".join(pct(a.threshold) for a in h.budget_alerts), "bold $warning"
                    )
                ]
                if h.budget_alerts
                else []
            ),
        ]
