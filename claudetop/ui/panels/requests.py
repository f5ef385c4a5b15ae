"""Live requests: the most recent calls, newest first, filterable by model, task or app."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from claudetop.model import LiveRow, Snapshot
from claudetop.ui.widgets.figures import NA, money, tokens

MAX_ROWS = 200
"""The table never holds more rows than this, however long the monitor runs."""
SCREENS_OF_ROWS = 3
"""Rows kept per screenful of table: rebuilding it is the costliest part of drawing a snapshot, so it
holds a few pages to scroll through rather than everything the snapshot has."""

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
        self._drawn: tuple[str, tuple[str, ...]] | None = None
        """(filter, row ids) the table holds now: an unchanged table is not rebuilt."""

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
        """Keep the snapshot; rebuild the table only when it is on screen and its rows changed (the
        table is the costliest thing to draw, and at 80x24 it is hidden until zoomed)."""
        self.snapshot = snapshot
        if self.display:
            self._draw(snapshot)

    def on_show(self) -> None:
        if self.snapshot is not None:
            self._draw(self.snapshot)

    def _draw(self, snapshot: Snapshot) -> None:
        keep = min(MAX_ROWS, max(self.size.height, 10) * SCREENS_OF_ROWS)
        rows = [row for row in snapshot.live if matches(row, self.needle)][:keep]
        drawn = (self.needle, tuple(row.id for row in rows))
        if drawn == self._drawn:
            return
        self._drawn = drawn
        table: DataTable[str] = self.query_one(DataTable)
        table.clear()
        for row in rows:
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
