"""Error injection: make the fake API fail the way the real one does, deterministically.

A :class:`FaultRule` applies to request paths starting with ``path`` (and, optionally, one
method). It fires either for the next ``next_n`` matching requests (scripting, exact) or
with ``probability`` per request from a seeded generator (load tests, reproducible).
Kinds: ``rate_limit`` (429 + ``retry-after``), ``overloaded`` (529), ``server_error``
(500), ``slow`` (answers after ``delay_s`` real seconds) and ``drop`` (closes the
connection without an answer).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

FaultKind = Literal["rate_limit", "overloaded", "server_error", "slow", "drop"]


@dataclass
class FaultRule:
    kind: FaultKind
    path: str = "/v1/messages"
    method: str | None = None
    probability: float = 0.0
    next_n: int = 0
    retry_after_s: float = 1.0
    delay_s: float = 0.5

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path) and (self.method is None or self.method == method)


class FaultPlan:
    """The rules in force; thread-safe, and the same seed gives the same faults."""

    def __init__(self, rules: list[FaultRule] | None = None, seed: int = 0) -> None:
        self._rules = list(rules or [])
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.fired: dict[str, int] = {}

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pick(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.next_n > 0:
                    rule.next_n -= 1
                elif not (rule.probability > 0 and self._rng.random() < rule.probability):
                    continue
                self.fired[rule.kind] = self.fired.get(rule.kind, 0) + 1
                return rule
        return None
