"""The ``/`` filter: a one-line input that narrows the live requests to a model, task or app."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class FilterInput(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close filter", show=False)]

    def __init__(self) -> None:
        super().__init__(
            placeholder="filter by model, task or app (enter to apply, esc to clear)", id="filter"
        )

    def action_close(self) -> None:
        self.value = ""
        self.post_message(self.Submitted(self, ""))
