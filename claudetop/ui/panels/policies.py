"""Policies: each policy's mode, its shadow and enforced savings, the last change, and any
refusal from the policy store shown right where the toggle was pressed."""

from __future__ import annotations

from textual.content import Content

from claudetop.model import PolicyChange, PolicyMode, PolicyName, Snapshot
from claudetop.ui.panels.base import Panel
from claudetop.ui.widgets.figures import columns, lines, money

_MODE_STYLE = {
    PolicyMode.OFF: "$text-muted",
    PolicyMode.SHADOW: "bold $warning",
    PolicyMode.ENFORCE: "bold $success",
}
_LABEL = {
    PolicyName.CACHE: "cache",
    PolicyName.ROUTING: "routing",
    PolicyName.BATCHING: "batching",
    PolicyName.OUTPUT_CAPS: "output caps",
}


class PoliciesPanel(Panel):
    TITLE = "policies  c m b o: off → shadow → enforce"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.notices: dict[PolicyName, tuple[str, str]] = {}
        """Per policy: (style, text) of the last refusal or pending action, shown in its row."""
        self.applied: dict[PolicyName, PolicyChange] = {}
        """Changes written by this monitor that no snapshot has caught up with yet."""

    def show(self, snapshot: Snapshot) -> None:
        self.applied = {n: c for n, c in self.applied.items() if c.at > snapshot.header.generated_at}
        super().show(snapshot)

    def applied_change(self, change: PolicyChange) -> None:
        self.applied[change.name] = change
        self.notices.pop(change.name, None)
        self.refresh()

    def mode(self, name: PolicyName) -> PolicyMode:
        """The newest known mode: this monitor's own change if the snapshot predates it."""
        if name in self.applied:
            return self.applied[name].to_mode
        rows = {row.name: row for row in self.snapshot.policies} if self.snapshot else {}
        return rows[name].mode if name in rows else PolicyMode.OFF

    def note(self, name: PolicyName, text: str | None, style: str = "$error") -> None:
        if text is None:
            self.notices.pop(name, None)
        else:
            self.notices[name] = (style, text)
        self.refresh()

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        by_name = {row.name: row for row in snapshot.policies}
        heading = Content.styled(
            columns([("", 0), ("mode", 7), ("shadow", 10), ("enforced", 10)], width).plain, "$text-muted"
        )
        rows = [heading] if height > len(PolicyName) else []
        for name in PolicyName:
            row = by_name.get(name)
            mode = self.mode(name)
            label = Content(f"{_LABEL[name]}")
            if name in self.notices:
                style, text = self.notices[name]
                label = Content.assemble(label, "  ", (text, style))
            elif row and row.last_change_by:
                label = Content.assemble(label, (f"  by {row.last_change_by}", "$text-muted"))
            rows.append(
                columns(
                    [
                        (label, 0),
                        (Content.styled(mode.value, _MODE_STYLE[mode]), 7),
                        (money(row.shadow_saving_micros) if row else "$0.00", 10),
                        (money(row.enforced_saving_micros) if row else "$0.00", 10),
                    ],
                    width,
                )
            )
        return lines(rows[:height])
