"""Projection: the audit's table (naive / now / enabled policies / all policies) computed live,
and a chart of cumulative spend this month with the projection drawn to month end."""

from __future__ import annotations

import itertools

from textual.content import Content

from claudetop.model import DailySpend, Snapshot
from claudetop.ui.panels.base import Panel
from claudetop.ui.widgets.figures import columns, lines, money, pct

_BLOCKS = " ▁▂▃▄▅▆▇█"


class ProjectionPanel(Panel):
    TITLE = "4 projection"

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        p = snapshot.projection
        rows: list[Content] = [
            Content.assemble(
                "projected ",
                (money(p.projected_month_micros), "bold $accent"),
                (
                    f"  ({money(p.low_micros)} to {money(p.high_micros)})"
                    if p.high_micros > p.low_micros
                    else "",
                    "$text-muted",
                ),
            ),
            Content.styled(
                columns([("scenario", 0), ("$/month", 12), ("cache", 5), ("batch", 5)], width).plain,
                "$text-muted",
            ),
        ]
        for s in p.scenarios:
            rows.append(
                columns(
                    [
                        (s.label, 0),
                        (money(s.monthly_cost_micros), 12),
                        (pct(s.cache_hit_ratio), 5),
                        (pct(s.batch_share), 5),
                    ],
                    width,
                )
            )
        chart_h = height - len(rows) - 1
        if chart_h >= 2 and (p.daily or p.projected_line):
            rows += self._chart(p.daily, p.projected_line, width, chart_h)
        if height > len(rows):
            rows.append(Content.styled(p.method, "$text-muted").truncate(width, ellipsis=True))
        return lines(rows[:height])

    @staticmethod
    def _chart(
        daily: tuple[DailySpend, ...], projected: tuple[DailySpend, ...], width: int, h: int
    ) -> list[Content]:
        """Cumulative actual spend (solid) then the projected cumulative line (light), one column per day."""
        actual = list(itertools.accumulate(d.cost_micros for d in daily))
        future = [d.cost_micros for d in projected if not daily or d.day > daily[-1].day]
        values = actual + future
        top = max(values, default=0)
        days = values[: max(width, 0)]
        out: list[Content] = []
        for level in range(h, 0, -1):
            cells: list[tuple[str, str]] = []
            for i, v in enumerate(days):
                eighths = 0 if top <= 0 else round(v / top * h * 8) - (level - 1) * 8
                char = _BLOCKS[min(max(eighths, 0), 8)]
                cells.append((char, "$primary" if i < len(actual) else "$accent 60%"))
            out.append(Content.assemble(*cells))
        return out
