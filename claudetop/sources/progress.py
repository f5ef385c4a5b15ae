"""How far a source's first read has got: what the monitor's progress indicator and the CLI's bar show.

A source updates one ``Progress`` in place while it reads; other threads take ``snapshot()`` copies, so
the counters are plain ints guarded by a lock rather than anything the UI could see half-written. The
CLI's bar is drawn by the reading thread itself as it advances (``watch``): a drawing thread of its own
would keep the Claude Code reader from forking its scanning processes, and halve a cold read's speed.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO


@dataclass(frozen=True)
class ProgressSnapshot:
    """Read progress at one instant; ``unit`` is ``"bytes"`` for files and ``"rows"`` for a SQLite sink."""

    done: int
    total: int
    files_done: int
    files_total: int
    unit: str
    started_at: float
    at: float

    @property
    def fraction(self) -> float | None:
        return None if self.total <= 0 else min(1.0, self.done / self.total)

    @property
    def rate(self) -> float:
        """Units per second since the read started."""
        elapsed = self.at - self.started_at
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def complete(self) -> bool:
        return self.done >= self.total


class Progress:
    """Mutable counters owned by one source; thread-safe snapshots for everyone else."""

    def __init__(self, unit: str = "bytes") -> None:
        self.unit = unit
        self._lock = threading.Lock()
        self._done = 0
        self._total = 0
        self._files_done = 0
        self._files_total = 0
        self._started_at = time.monotonic()
        self._watcher: Callable[[], None] | None = None

    def watch(self, watcher: Callable[[], None] | None) -> None:
        """Call ``watcher`` (from the reading thread) whenever the read advances; ``None`` stops."""
        self._watcher = watcher

    def plan(self, total: int, files_total: int = 0) -> None:
        """Set how much there is to read (a poll that finds more work calls this again)."""
        with self._lock:
            self._total = total
            self._files_total = files_total

    def finish(self) -> None:
        """The planned read is over: what it did not consume (a last line still being written, a file
        that cannot be opened) is no longer pending, so the read shows as complete."""
        with self._lock:
            self._total = self._done
            self._files_total = self._files_done

    def advance(self, amount: int, files: int = 0) -> None:
        with self._lock:
            self._done += amount
            self._files_done += files
        if self._watcher is not None:
            self._watcher()

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            return ProgressSnapshot(
                done=self._done,
                total=self._total,
                files_done=self._files_done,
                files_total=self._files_total,
                unit=self.unit,
                started_at=self._started_at,
                at=time.monotonic(),
            )


def _human(amount: float, unit: str) -> str:
    if unit != "bytes":
        return f"{amount:,.0f} {unit}"
    for suffix in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or suffix == "GiB":
            return f"{amount:,.1f} {suffix}" if suffix != "B" else f"{amount:,.0f} B"
        amount /= 1024
    raise AssertionError("unreachable")


def render_bar(snap: ProgressSnapshot, width: int = 24) -> str:
    """One line: ``[#####-----]  41% 12/30 files 410.2 MiB/1.0 GiB 180.3 MiB/s``."""
    fraction = snap.fraction or 0.0
    filled = round(fraction * width)
    files = f" {snap.files_done}/{snap.files_total} files" if snap.files_total else ""
    return (
        f"[{'#' * filled}{'-' * (width - filled)}] {fraction:4.0%}{files} "
        f"{_human(snap.done, snap.unit)}/{_human(snap.total, snap.unit)} {_human(snap.rate, snap.unit)}/s"
    )


class ProgressPrinter:
    """Redraws a progress bar on ``stream`` (stderr) as the reads advance, at most every ``interval_s``,
    only when it is a terminal: pipes and CI logs get nothing, a bar drawn with carriage returns is
    noise there."""

    def __init__(self, progresses: list[Progress], stream: TextIO | None = None, interval_s: float = 0.2):
        self._progresses = progresses
        self._stream = stream if stream is not None else sys.stderr
        self._interval_s = interval_s
        self._drawn_at = 0.0
        self._drew = False
        self.enabled = self._stream.isatty()

    @classmethod
    def of(cls, sources: Iterable[object]) -> ProgressPrinter:
        """A bar over every source that reports progress (a ``progress`` attribute)."""
        return cls([p for p in (getattr(s, "progress", None) for s in sources) if isinstance(p, Progress)])

    def _combined(self) -> ProgressSnapshot | None:
        snaps = [p.snapshot() for p in self._progresses]
        if not snaps:
            return None
        return ProgressSnapshot(
            done=sum(s.done for s in snaps),
            total=sum(s.total for s in snaps),
            files_done=sum(s.files_done for s in snaps),
            files_total=sum(s.files_total for s in snaps),
            unit=snaps[0].unit if len({s.unit for s in snaps}) == 1 else "units",
            started_at=min(s.started_at for s in snaps),
            at=max(s.at for s in snaps),
        )

    def _redraw(self) -> None:
        now = time.monotonic()
        if now - self._drawn_at < self._interval_s:
            return
        snap = self._combined()
        if snap is not None and snap.total:
            self._stream.write("\r" + render_bar(snap) + "\x1b[K")
            self._stream.flush()
            self._drawn_at, self._drew = now, True

    def __enter__(self) -> ProgressPrinter:
        if self.enabled:
            self._drawn_at = time.monotonic()  # a read over in less than an interval draws nothing
            for progress in self._progresses:
                progress.watch(self._redraw)
        return self

    def __exit__(self, *exc: object) -> None:
        for progress in self._progresses:
            progress.watch(None)
        if self._drew:
            self._stream.write("\r\x1b[K")
            self._stream.flush()
