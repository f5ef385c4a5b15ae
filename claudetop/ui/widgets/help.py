"""The help screen: every action with the key that is bound to it now (after config remapping)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from claudetop.ui.keys import Action


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss_help", "Close")]

    def __init__(self, actions: Sequence[Action], keys_for: dict[str, str]) -> None:
        super().__init__(classes="dialog")
        self.actions = actions
        self.keys_for = keys_for

    def compose(self) -> ComposeResult:
        rows = [
            Content.styled("claudetop keys (remap in the config's [keys] table)", "bold $primary"),
            Content(""),
        ]
        keys = {a.id: self._shown(self.keys_for.get(a.id, a.keys)) for a in self.actions}
        key_w = max(map(len, keys.values()), default=0)
        name_w = max((len(a.description) for a in self.actions), default=0)
        for a in self.actions:
            rows.append(
                Content.assemble(
                    (f"{keys[a.id]:>{key_w}}", "bold $accent"),
                    f"  {a.description:<{name_w}}  ",
                    (a.help, "$text-muted"),
                )
            )
        rows += [Content(""), Content.styled("up/down select a finding · esc closes this", "$text-muted")]
        with VerticalScroll(id="help"):
            yield Static(Content("\n").join(rows))

    def _shown(self, keys: str) -> str:
        """Bound keys as the footer shows them (``/``, ``^/``), not Textual's names (``slash``)."""
        return ",".join(self.app.get_key_display(Binding(k.strip(), "")) for k in keys.split(","))

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
