"""Live requests: the most recent calls, newest first, filterable by model, task or app."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from claudetop.model import LiveRow, Snapshot
from claudetop.ui.widgets.figures import NA, money, tokens

MAX_ROWS = 200
"""The table never holds more rows than this, however long the monitor runs."""

_COLUMNS = ("time", "model", "task", "app", "in", "out", "c.read", "c.write", "cost", "ms", "flags")


def matches(row: LiveRow, needle: str) -> bool:
    """Whether the row's model, task, app or endpoint contains ``needle`` (case-insensitive)."""
    if not needle:
        return True
    lowered = needle.lower()
    return any(lowered in (value or "").lower() for value in (row.model, row.task, row.app, row.endpoint))


class RequestsPanel(Vertical):
    """Not a text panel: a ``DataTable`` repopulated from each snapshot's ``live`` rows."""

    can_focus = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel")
        self.border_title = "6 requests"
        self.needle = ""
        self.snapshot: Snapshot | None = None

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row", zebra_stripes=True)
        table.add_columns(*_COLUMNS)
        yield table

    def set_filter(self, needle: str) -> None:
        self.needle = needle
        self.border_title = f"6 requests  /{needle}" if needle else "6 requests"
        if self.snapshot is not None:
            self.show(self.snapshot)

    def show(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        table: DataTable[str] = self.query_one(DataTable)
        table.clear()
        shown = (row for row in snapshot.live if matches(row, self.needle))
        for count, row in enumerate(shown):
            if count >= MAX_ROWS:
                break
            table.add_row(
                row.ts.strftime("%H:%M:%S"),
                row.model or NA,
                row.task or NA,
                row.app or NA,
                tokens(row.input_tokens),
                tokens(row.output_tokens),
                tokens(row.cache_read_tokens),
                tokens(row.cache_write_tokens),
                money(row.cost_micros),
                NA if row.latency_ms is None else f"{row.latency_ms:.0f}",
                row.flags,
            )
