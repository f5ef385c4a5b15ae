"""Findings: the seven pitfalls, largest monthly impact first; evidence and fix for the selected one."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import reactive

from claudetop.model import Finding, Snapshot
from claudetop.ui.panels.base import Panel
from claudetop.ui.widgets.figures import columns, lines, money

_SEVERITY = {"critical": ("!!", "bold $error"), "warning": ("! ", "$warning"), "info": ("i ", "$text-muted")}


class FindingsPanel(Panel):
    TITLE = "5 findings"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "select(-1)", "Previous", show=False),
        Binding("down,j", "select(1)", "Next", show=False),
    ]
    selected: reactive[int] = reactive(0)

    def action_select(self, step: int) -> None:
        total = len(self.snapshot.findings) if self.snapshot else 0
        if total:
            self.selected = (self.selected + step) % total

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        findings = snapshot.findings
        if not findings:
            return Content.styled("no pitfalls found in the traffic so far", "$success")
        selected = min(self.selected, len(findings) - 1)
        detail = (
            self._detail(findings[selected], width) if self.has_focus or height >= len(findings) + 4 else []
        )
        listed = max(min(len(findings), height - len(detail)), 1)
        start = max(0, min(selected - listed + 1, len(findings) - listed))
        rows = [
            self._row(f, width, i == selected and self.has_focus)
            for i, f in enumerate(findings)
            if start <= i < start + listed
        ]
        return lines(rows + detail[: max(height - len(rows), 0)])

    @staticmethod
    def _row(f: Finding, width: int, current: bool) -> Content:
        mark, style = _SEVERITY[f.severity]
        impact = "risk" if f.monthly_impact_micros is None else f"{money(f.monthly_impact_micros)}/mo"
        row = columns([(Content.assemble((mark, style), " ", f.title), 0), (impact, 13)], width)
        return row.stylize("reverse") if current else row

    @staticmethod
    def _detail(f: Finding, width: int) -> list[Content]:
        out = [Content.styled(f"— {f.subject or f.id}", "$text-muted")]
        out += [Content(f"· {e}").truncate(width, ellipsis=True) for e in f.evidence]
        out.append(Content.assemble(("fix: ", "bold $success"), f.fix).truncate(width, ellipsis=True))
        return out
