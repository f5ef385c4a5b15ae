"""The command palette (ctrl+p) lists every monitor action, so nothing depends on remembering keys."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from claudetop.ui.keys import ACTIONS, Action


class ActionCommands(Provider):
    def _run(self, action: Action) -> None:
        self.app.call_later(self.app.run_action, action.action)

    async def discover(self) -> Hits:
        for action in ACTIONS:
            if action.id != "command_palette":
                yield DiscoveryHit(
                    f"{action.description}: {action.help}", partial(self._run, action), help=action.keys
                )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for action in ACTIONS:
            if action.id == "command_palette":
                continue
            text = f"{action.description}: {action.help}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(
                    score, matcher.highlight(text), partial(self._run, action), text=text, help=action.keys
                )
