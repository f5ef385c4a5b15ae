"""A feed that serves one fixed snapshot: the screen tests' stand-in for the I/O thread, so their
pictures depend on nothing but the snapshot and the UI code under test."""

from __future__ import annotations

from claudetop.model import Snapshot
from claudetop.ui.messages import SnapshotReady
from claudetop.ui.worker import Job, Post


class StaticFeed:
    def __init__(self, snapshot: Snapshot, interval_s: float = 1.0) -> None:
        self.snapshot = snapshot
        self.interval_s = interval_s
        self.refreshes = 0
        self.stopped = False
        self._post: Post | None = None

    def start(self, post: Post) -> None:
        self._post = post
        post(SnapshotReady(self.snapshot, 0.0))

    def refresh_now(self) -> None:
        self.refreshes += 1
        if self._post is not None:
            self._post(SnapshotReady(self.snapshot, 0.0))

    def submit(self, job: Job) -> None:
        message = job()
        if message is not None and self._post is not None:
            self._post(message)

    def stop(self) -> None:
        self.stopped = True
