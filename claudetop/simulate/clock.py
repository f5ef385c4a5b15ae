"""Simulated time shared by the fake server and the workload.

``speed`` is simulated seconds per real second: ``SimClock(speed=3600)`` runs an hour of
traffic per real second, so a month fits in minutes while cache TTLs and batch expiry keep
their meaning (they are measured on this clock, not on the wall). ``speed=0`` freezes the
clock; it then only moves through :meth:`SimClock.advance`, which tests use to step over a TTL
exactly.
"""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime


class SimClock:
    """A monotonic simulated clock: ``start + (real elapsed x speed) + manual advances``."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed < 0:
            raise ValueError(f"clock speed must be >= 0, got {speed}")
        self._speed = speed
        self._start = (start or datetime.now(UTC)).timestamp()
        self._real0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        """Simulated POSIX time in seconds."""
        with self._lock:
            return self._start + (time.monotonic() - self._real0) * self._speed + self._offset

    def now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def advance(self, seconds: float) -> None:
        """Jump forward (tests, and frozen clocks)."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._offset += seconds

    def real_seconds(self, sim_seconds: float) -> float:
        """How long ``sim_seconds`` of simulated time take in real time (0 on a frozen clock)."""
        return 0.0 if self._speed == 0 else max(0.0, sim_seconds) / self._speed

    def sleep(self, sim_seconds: float, stop: threading.Event | None = None) -> bool:
        """Sleep for simulated seconds; returns early (True) when ``stop`` is set."""
        real = self.real_seconds(sim_seconds)
        if stop is not None:
            return stop.wait(real)
        time.sleep(real)
        return False

    async def asleep(self, sim_seconds: float) -> None:
        await asyncio.sleep(self.real_seconds(sim_seconds))
