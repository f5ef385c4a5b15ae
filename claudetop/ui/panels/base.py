"""What every text panel shares: it holds the latest snapshot and draws it at its current size."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from claudetop.model import Snapshot


class Panel(Widget):
    """A focusable box that renders ``body(snapshot, width, height)`` and nothing else."""

    can_focus = True
    TITLE = ""

    BOXED = True
    """Drawn in a bordered box (the header is not)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="panel" if self.BOXED else "")
        self.snapshot: Snapshot | None = None
        self.border_title = self.TITLE

    def show(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.refresh()

    def render(self) -> Content:
        if self.snapshot is None:
            return Content.styled("waiting for the first snapshot…", "$text-muted")
        size = self.content_size
        return self.body(self.snapshot, size.width, size.height)

    def body(self, snapshot: Snapshot, width: int, height: int) -> Content:
        raise NotImplementedError
