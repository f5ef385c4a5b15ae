"""Model mix: calls, tokens and dollars per model and per task, with a share bar."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from claudetop.model import MixRow, Snapshot
from claudetop.ui.panels.base import Panel
from claudetop.ui.widgets.figures import bar, columns, lines, money, pct

_MONEY_W = 11


class ModelsPanel(Panel):
    TITLE = "2 models"

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        mix = snapshot.mix
        if not mix.by_model:
            return Content.styled("no calls this month", "$text-muted")
        bar_w = max(min(width - 42, 12), 0)
        rows: list[Content] = [self._heading("model", width, bar_w)]
        rows += [self._row(r, width, bar_w) for r in mix.by_model[: max(height - 1, 1)]]
        room = height - len(rows)
        if mix.by_task and room >= 3:
            rows.append(self._heading("task", width, bar_w))
            rows += [self._row(r, width, bar_w) for r in mix.by_task[: room - 1]]
        return lines(rows)

    @staticmethod
    def _cells(
        first: str | Content, calls: str, tok: str, cost: str, bar_c: Content, bar_w: int
    ) -> Sequence[tuple[str | Content, int]]:
        cells: list[tuple[str | Content, int]] = [(first, 0), (calls, 5), (tok, 5), (cost, _MONEY_W)]
        if bar_w:
            cells.append((bar_c, bar_w))
        return cells

    def _heading(self, what: str, width: int, bar_w: int) -> Content:
        row = columns(self._cells(what, "calls", "tok", "cost", Content(""), bar_w), width)
        return Content.styled(row.plain, "$text-muted")

    def _row(self, r: MixRow, width: int, bar_w: int) -> Content:
        cost = money(r.cost_micros) + ("*" if r.unpriced_calls else "")
        return columns(
            self._cells(
                r.key.removeprefix("claude-"),
                pct(r.call_share),
                pct(r.token_share),
                cost,
                bar(r.cost_share, bar_w),
                bar_w,
            ),
            width,
        )
