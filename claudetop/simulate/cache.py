"""Prompt caching with the API's semantics, on simulated time.

A request's prompt is a sequence of blocks in the order tools → system → messages. A
breakpoint (``cache_control`` on a block, or the request-level ``cache_control`` that marks
the last block) asks the server to cache the prefix ending there. An entry is keyed by
(model, SHA-256 of the exact prefix); it lives for its TTL (5 minutes or 1 hour) on the
:class:`SimClock` and each read refreshes it. A lookup reads the longest live prefix that
ends within :data:`LOOKBACK_BLOCKS` blocks before some breakpoint, then writes every
breakpoint after it whose prefix reaches the model's minimum cacheable length; tokens past
the last written breakpoint are plain input. Shorter prefixes are silently not cached.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from typing import Literal

from claudetop.simulate.clock import SimClock

Ttl = Literal["5m", "1h"]
TTL_SECONDS: dict[Ttl, float] = {"5m": 300.0, "1h": 3600.0}
LOOKBACK_BLOCKS = 20
MAX_ENTRIES = 200_000


@dataclass(frozen=True)
class PromptBlock:
    """One cacheable unit: a tool, a system block, or a message content block."""

    scope: Literal["tools", "system", "messages"]
    data: bytes
    tokens: int
    ttl: Ttl | None = None
    """Set when the request put a breakpoint on this block."""


@dataclass(frozen=True)
class CacheUsage:
    input_tokens: int
    cache_read_input_tokens: int
    cache_write_5m: int
    cache_write_1h: int

    @property
    def cache_creation_input_tokens(self) -> int:
        return self.cache_write_5m + self.cache_write_1h


@dataclass
class _Entry:
    ttl: Ttl
    expires_at: float


@dataclass
class CacheStats:
    reads: int = 0
    writes: int = 0
    evicted: int = 0
    entries: int = 0


@dataclass
class PromptCache:
    clock: SimClock
    _entries: dict[tuple[str, bytes], _Entry] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _since_sweep: int = 0
    stats: CacheStats = field(default_factory=CacheStats)

    def process(
        self, model: str, blocks: list[PromptBlock], min_tokens: int, now: float | None = None
    ) -> CacheUsage:
        """Apply one request to the cache and return the usage split the API would report.

        ``now`` is when the request is processed (default: the clock's now). A batch request is
        worked out lazily, when its batch is next looked at, but happened at its own due time:
        its reads and writes are dated then, and an entry's expiry never moves backwards.
        """
        total = sum(b.tokens for b in blocks)
        breakpoints = [i for i, b in enumerate(blocks) if b.ttl is not None]
        if not breakpoints:
            return CacheUsage(total, 0, 0, 0)
        hashes: list[bytes] = []
        cumulative: list[int] = []
        h = hashlib.sha256(model.encode())
        running = 0
        for b in blocks:
            h.update(len(b.data).to_bytes(8, "big"))
            h.update(b.data)
            hashes.append(h.copy().digest())
            running += b.tokens
            cumulative.append(running)
        candidates = sorted(
            {p for bp in breakpoints for p in range(max(0, bp - LOOKBACK_BLOCKS + 1), bp + 1)}, reverse=True
        )
        now = self.clock.now() if now is None else now
        with self._lock:
            self._maybe_sweep(now)
            read_at = -1
            for pos in candidates:
                entry = self._entries.get((model, hashes[pos]))
                if entry is not None and entry.expires_at > now:
                    entry.expires_at = max(entry.expires_at, now + TTL_SECONDS[entry.ttl])
                    read_at = pos
                    break
            read = cumulative[read_at] if read_at >= 0 else 0
            written = {"5m": 0, "1h": 0}
            done_at = read_at
            for bp in breakpoints:
                if bp <= read_at or cumulative[bp] < min_tokens:
                    continue
                ttl = blocks[bp].ttl
                assert ttl is not None
                written[ttl] += cumulative[bp] - (cumulative[done_at] if done_at >= 0 else 0)
                self._entries[(model, hashes[bp])] = _Entry(ttl, now + TTL_SECONDS[ttl])
                done_at = bp
            self.stats.reads += read_at >= 0
            self.stats.writes += done_at > read_at
            self.stats.entries = len(self._entries)
        uncached = total - read - written["5m"] - written["1h"]
        return CacheUsage(uncached, read, written["5m"], written["1h"])

    def _maybe_sweep(self, now: float) -> None:
        self._since_sweep += 1
        if self._since_sweep < 1_000 and len(self._entries) < MAX_ENTRIES:
            return
        self._since_sweep = 0
        expired = [k for k, e in self._entries.items() if e.expires_at <= now]
        for k in expired:
            del self._entries[k]
        if len(self._entries) >= MAX_ENTRIES:
            by_expiry = sorted(self._entries.items(), key=lambda kv: kv[1].expires_at)
            for k, _ in by_expiry[: len(self._entries) - MAX_ENTRIES // 2]:
                del self._entries[k]
                expired.append(k)
        self.stats.evicted += len(expired)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
