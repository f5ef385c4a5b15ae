"""Every custom message of the monitor, in one place, so the data flow reads at a glance:

worker thread ──SnapshotReady / FeedTrouble──► app ──render──► panels
policy worker ──PolicyApplied / PolicyRefusedNotice──► app ──► policies panel
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from claudetop.model import PolicyChange, PolicyName, Snapshot


@dataclass(frozen=True)
class Loading:
    """How far the feed's first read of the sources has got (the screen says so until it is done)."""

    fraction: float | None
    detail: str
    preview: bool
    """The figures cover only the newest events (the first screen on a big sink)."""


class SnapshotReady(Message):
    """A new immutable snapshot, built off the UI thread; ``loading`` while history is still read."""

    def __init__(self, snapshot: Snapshot, built_in_s: float, loading: Loading | None = None) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.built_in_s = built_in_s
        self.loading = loading


class FeedTrouble(Message):
    """Reading the sources failed this cycle (sink gone, locked, corrupt); ``None`` clears it."""

    def __init__(self, problem: str | None) -> None:
        super().__init__()
        self.problem = problem


class PolicyApplied(Message):
    def __init__(self, change: PolicyChange) -> None:
        super().__init__()
        self.change = change


class PolicyRefusedNotice(Message):
    """The policy store refused a change (the downshift guard, or a store that cannot be written)."""

    def __init__(self, name: PolicyName, reason: str) -> None:
        super().__init__()
        self.name = name
        self.reason = reason
