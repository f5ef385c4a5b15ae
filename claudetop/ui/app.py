"""The monitor app: lays the panels out, routes keys to actions, and hands every snapshot to the
panels. It does no I/O and no arithmetic on the data: the feed thread builds snapshots, the policy
store is written from that same thread, and the panels only draw."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Mapping
from typing import ClassVar, Protocol

from textual import events, on
from textual.app import App, ComposeResult
from textual.binding import BindingType
from textual.containers import Container
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Footer, Input, Static

from claudetop.model import PolicyChange, PolicyMode, PolicyName, Snapshot
from claudetop.ui import keys
from claudetop.ui.commands import ActionCommands
from claudetop.ui.messages import FeedTrouble, Loading, PolicyApplied, PolicyRefusedNotice, SnapshotReady
from claudetop.ui.panels import (
    BatchesPanel,
    CachePanel,
    FindingsPanel,
    HeaderPanel,
    ModelsPanel,
    Panel,
    PoliciesPanel,
    ProjectionPanel,
    RequestsPanel,
)
from claudetop.ui.themes import load_themes, next_theme
from claudetop.ui.widgets.confirm import ConfirmScreen
from claudetop.ui.widgets.filter import FilterInput
from claudetop.ui.widgets.help import HelpScreen
from claudetop.ui.worker import MAX_INTERVAL_S, MIN_INTERVAL_S, SnapshotFeed, describe

COMPACT_BELOW = (120, 36)
"""Narrower or shorter than this (columns, rows): two-column layout, projection and requests zoom-only."""

DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)

EMPTY_STATE = """[b]No Claude API calls recorded yet.[/b]

Instrument an app in two lines:

    [b $accent]import claudetop, anthropic[/]
    [b $accent]client = claudetop.instrument(anthropic.Anthropic())[/]

or see everything working on a simulated workload:  [b $accent]claudetop demo[/]"""


class PolicyWriter(Protocol):
    """The part of ``claudetop.policies.PolicyStore`` the monitor uses."""

    def set(
        self,
        name: PolicyName | str,
        mode: PolicyMode | str,
        params: None = None,
        by: str | None = None,
        reason: str | None = None,
    ) -> PolicyChange: ...


class MonitorApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "claudetop"
    BINDINGS: ClassVar[list[BindingType]] = list(keys.bindings())
    COMMANDS = App.COMMANDS | {ActionCommands}

    def __init__(
        self,
        feed: SnapshotFeed,
        *,
        policies: PolicyWriter | None = None,
        themes: Mapping[str, Theme] | None = None,
        theme: str = "dark",
        keymap: Mapping[str, str] | None = None,
        animations: bool = True,
        actor: str | None = None,
    ) -> None:
        super().__init__()
        self.feed = feed
        self.policy_writer = policies
        self.actor = actor
        self.themes = dict(themes) if themes is not None else load_themes()
        for t in self.themes.values():
            self.register_theme(t)
        self.theme = theme if theme in self.themes else "dark"
        self.keymap = dict(keymap or {})
        self.set_keymap(self.keymap)
        if not animations or "SSH_CONNECTION" in os.environ:
            self.animation_level = "none"
        self.latest: Snapshot | None = None
        self.loading: Loading | None = None
        self.build_times_s: deque[float] = deque(maxlen=1_000)
        """How long the feed took to build the recent snapshots (for benchmarks and diagnosis)."""
        self.paused = False
        self.zoomed: str | None = None
        self.trouble: str | None = None
        self.snapshots_shown = 0

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="banner")
        yield HeaderPanel(id="header")
        yield Static(id="loading")
        yield PoliciesPanel(id="policies")
        with Container(id="grid"):
            yield CachePanel(id="cache")
            yield ModelsPanel(id="models")
            yield BatchesPanel(id="batches")
            yield ProjectionPanel(id="projection")
            yield FindingsPanel(id="findings")
            yield RequestsPanel(id="requests")
        yield Static(Content.from_markup(EMPTY_STATE), id="empty")
        yield FilterInput()
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._fit_layout(self.size.width, self.size.height)
        self.query_one("#empty").display = False
        self.query_one(FilterInput).display = False
        self.query_one("#banner").display = False
        self.query_one("#loading").display = False
        # Terminal gone (ssh dropped, tmux killed): leave cleanly, restoring nothing on a dead tty.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.exit)
        self.feed.start(self.post_message)

    def on_unmount(self) -> None:
        self.feed.stop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    def on_resize(self, event: events.Resize) -> None:
        self._fit_layout(event.size.width, event.size.height)

    def _fit_layout(self, width: int, height: int) -> None:
        compact = width < COMPACT_BELOW[0] or height < COMPACT_BELOW[1]
        self.screen.set_class(compact, "-compact")

    # --- data -------------------------------------------------------------------------------

    @on(SnapshotReady)
    def _on_snapshot(self, message: SnapshotReady) -> None:
        self.latest = message.snapshot
        self.loading = message.loading
        self.build_times_s.append(message.built_in_s)
        if not self.paused:
            self._render(message.snapshot)

    def _show_loading(self, main: Screen[object]) -> None:
        line = main.query_one("#loading", Static)
        line.display = self.loading is not None
        if self.loading is None:
            return
        done = "" if self.loading.fraction is None else f" {self.loading.fraction:.0%}"
        line.update(
            Content.assemble(
                (f"reading history{done}", "bold"),
                f" — {self.loading.detail}",
                (" (figures so far cover only these)" if self.loading.preview else "", "$text-muted"),
            )
        )

    def _render(self, snapshot: Snapshot) -> None:
        main = self.screen_stack[0] if self.screen_stack else None
        requests = main.query(RequestsPanel) if main is not None else None
        if main is None or not requests:
            return  # shutting down: the panels are already gone
        for panel in main.query(Panel):
            panel.show(snapshot)
        requests.first().show(snapshot)
        self._show_loading(main)
        empty = snapshot.total_requests == 0 and not snapshot.live
        main.query_one("#empty").display = empty
        main.query_one("#grid").display = not empty
        self.snapshots_shown += 1

    @on(FeedTrouble)
    def _on_trouble(self, message: FeedTrouble) -> None:
        self.trouble = message.problem
        banner = self.screen_stack[0].query_one("#banner", Static)
        banner.display = message.problem is not None
        if message.problem is not None:
            banner.update(
                Content.assemble(
                    ("cannot read the sources: ", "bold"),
                    message.problem,
                    " — showing the last good data, retrying",
                )
            )

    # --- policies ---------------------------------------------------------------------------

    def action_toggle_policy(self, name: str) -> None:
        policy = PolicyName(name)
        panel = self.screen_stack[0].query_one(PoliciesPanel)
        if self.policy_writer is None:
            panel.note(policy, "read-only: policies live in a SQLite sink")
            return
        target = panel.mode(policy).next()
        if target is PolicyMode.ENFORCE:
            self.push_screen(
                ConfirmScreen(
                    f"Enforce the {policy.value} policy?",
                    "Enforce changes the requests your applications send (within a second).",
                ),
                lambda yes: self._apply_policy(policy, target) if yes else panel.note(policy, None),
            )
        else:
            self._apply_policy(policy, target)

    def _apply_policy(self, policy: PolicyName, mode: PolicyMode) -> None:
        writer = self.policy_writer
        assert writer is not None
        self.screen_stack[0].query_one(PoliciesPanel).note(policy, f"→ {mode.value}…", "$text-muted")
        actor = self.actor

        def job() -> Message:
            from claudetop.policies import PolicyRefused

            try:
                return PolicyApplied(writer.set(policy, mode, by=actor, reason="toggled in the monitor"))
            except PolicyRefused as refused:
                return PolicyRefusedNotice(policy, refused.reason)
            except Exception as err:  # a locked or broken store is shown in place, never a crash
                return PolicyRefusedNotice(policy, describe(err))

        self.feed.submit(job)

    @on(PolicyApplied)
    def _on_policy_applied(self, message: PolicyApplied) -> None:
        self.screen_stack[0].query_one(PoliciesPanel).applied_change(message.change)
        self.feed.refresh_now()
        self.notify(
            f"{message.change.name.value}: {message.change.from_mode.value} → {message.change.to_mode.value}"
        )

    @on(PolicyRefusedNotice)
    def _on_policy_refused(self, message: PolicyRefusedNotice) -> None:
        self.screen_stack[0].query_one(PoliciesPanel).note(
            message.name, f"refused: {message.reason.splitlines()[0]}"
        )
        self.notify(message.reason, title=f"{message.name.value} not changed", severity="error", timeout=15)

    # --- other actions ----------------------------------------------------------------------

    def action_zoom(self, name: str) -> None:
        target = None if self.zoomed == name else name
        if self.zoomed is not None:
            self.query_one(f"#{self.zoomed}").remove_class("-zoom")
        self.zoomed = target
        self.screen.set_class(target is not None, "-zoomed")
        if target is not None:
            widget = self.query_one(f"#{target}")
            widget.add_class("-zoom")
            (widget if widget.can_focus else widget.query_one("DataTable")).focus()

    def action_filter(self) -> None:
        box = self.query_one(FilterInput)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#filter")
    def _on_filter(self, message: Input.Submitted) -> None:
        self.query_one(RequestsPanel).set_filter(message.value.strip())
        self.query_one(FilterInput).display = False

    def action_pause(self) -> None:
        self.paused = not self.paused
        self.sub_title = "paused (p to resume)" if self.paused else ""
        self.query_one(HeaderPanel).border_subtitle = self.sub_title
        if not self.paused and self.latest is not None:
            self._render(self.latest)

    def action_refresh_now(self) -> None:
        self.feed.refresh_now()

    def action_change_delay(self, step: int) -> None:
        current = self.feed.interval_s
        later = [d for d in DELAYS_S if d > current]
        earlier = [d for d in DELAYS_S if d < current]
        new = (
            (later[0] if later else MAX_INTERVAL_S)
            if step > 0
            else (earlier[-1] if earlier else MIN_INTERVAL_S)
        )
        self.feed.interval_s = new
        self.feed.refresh_now()  # the wait under way was for the old interval
        self.notify(f"refresh every {new:g} s")

    def action_cycle_theme(self) -> None:
        self.theme = next_theme(self.themes, self.theme)
        self.notify(f"theme: {self.theme}")

    def action_help(self) -> None:
        self.push_screen(HelpScreen(keys.ACTIONS, self.keymap))
