"""The what-if replays (naive / now / enabled / all policies) cost far more than the rest of a
snapshot, and their answer moves slowly: a monitor refreshing four times a second re-runs them only
when the policies change or the last answer is old. "Old" scales with how long the replays took, so
they never take more than a small share of the feed thread however much history there is."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MIN_AGE_S = 15.0
"""An answer is reused for this long while the policies stay the same (longer when computing it is
slow: see ``DUTY``)."""
DUTY = 0.1
"""Largest share of the feed thread's time the replays may take."""


class WhatIfMemo(Generic[T]):
    """Remembers one computed value per key (the policy set) and recomputes when it is stale."""

    def __init__(self, *, min_age_s: float = MIN_AGE_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.min_age_s = min_age_s
        self.clock = clock
        self._key: object = None
        self._value: T | None = None
        self._at = 0.0
        self._took = 0.0
        self.computed = 0

    def invalidate(self) -> None:
        self._value = None

    def get(self, key: object, compute: Callable[[], T]) -> T:
        """The remembered value for ``key`` if it is fresh enough, else ``compute()``'s."""
        now = self.clock()
        fresh = now - self._at < max(self.min_age_s, self._took / DUTY)
        if self._value is not None and key == self._key and fresh:
            return self._value
        value = compute()
        self._took = self.clock() - now
        self._key, self._value, self._at = key, value, self.clock()
        self.computed += 1
        return value
