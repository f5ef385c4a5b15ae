"""What the fake API actually served, kept so the Admin API reports can be built from it."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServedUsage:
    ts: float
    """Simulated POSIX time the tokens were served."""
    model: str
    service_tier: str
    api_key_id: str
    input_tokens: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int
    output_tokens: int
    workspace_id: str | None = None
    speed: str | None = None


@dataclass
class Ledger:
    _rows: list[ServedUsage] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, row: ServedUsage) -> None:
        with self._lock:
            self._rows.append(row)

    def rows(self) -> list[ServedUsage]:
        with self._lock:
            return list(self._rows)
