"""The caching policy's pieces: where the stable prefix ends, which TTL, and when caching loses money.

Breakpoint placement: one block-level ``cache_control`` at the end of the system prompt (or the
last tool when there is no system prompt), plus, for a conversation (a request that carries
history), the request-level ``cache_control`` (see ``with_history_breakpoint``). Not the top-level
``cache_control`` alone: that marks the *last* block of the request, so for the common
single-shot request (same instructions, different document) every request would write a new
entry covering its own document and never read one. The end of tools+system is the part that
repeats. A string ``system`` becomes one text block with the identical text: the tokens the model
reads do not change, only where the breakpoint sits. Prompt content is never edited; a prefix
that varies (a timestamp in the system prompt) simply keeps missing, and the findings report it.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

Ttl = Literal["5m", "1h"]
TtlSetting = Literal["5m", "1h", "auto"]

TTL_SECONDS: dict[Ttl, float] = {"5m": 300.0, "1h": 3600.0}
CHARS_PER_TOKEN = 4
"""Claude tokenisers average about four characters of English per token: enough to compare to a minimum."""

AUTO_1H_GAP_S = 270.0
"""A typical reuse gap above this (a little under 5 minutes, for jitter) misses a 5m cache: use 1h."""

MIN_WRITES_TO_JUDGE = 3
"""Writes before the reads-per-write ratio of a prefix is trusted enough to stop caching it."""

REPROBE_AFTER_S = 3600.0
"""A prefix switched off for being below break-even is tried again after this long (traffic changes)."""

GAP_SMOOTHING = 0.3


def has_cache_control(body: dict[str, Any]) -> bool:
    """Whether the app already placed breakpoints (top-level or on any block): then it is left alone."""
    if "cache_control" in body:
        return True
    return any(_has_block_cache_control(body.get(key)) for key in ("tools", "system", "messages"))


def _has_block_cache_control(value: Any) -> bool:
    if isinstance(value, dict):
        return "cache_control" in value or any(_has_block_cache_control(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_block_cache_control(v) for v in value)
    return False


def text_chars(value: Any) -> int:
    """Characters of text in a JSON value (strings, including tool schemas), ignoring JSON syntax."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(text_chars(v) for v in value.values())
    if isinstance(value, list):
        return sum(text_chars(v) for v in value)
    return 0


def estimate_tokens(value: Any) -> int:
    return math.ceil(text_chars(value) / CHARS_PER_TOKEN)


@dataclass(frozen=True)
class StablePrefix:
    sha256: str
    """Over model, tools and system: a cache entry belongs to one model and one exact prefix."""
    tokens: int
    scope: Literal["tools", "system"]


def stable_prefix(body: dict[str, Any]) -> StablePrefix | None:
    tools, system = body.get("tools"), body.get("system")
    if not tools and not system:
        return None
    canonical = json.dumps(
        {"model": body.get("model"), "tools": tools or [], "system": system or ""},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return StablePrefix(
        sha256=hashlib.sha256(canonical.encode()).hexdigest(),
        tokens=estimate_tokens(tools or []) + estimate_tokens(system or ""),
        scope="system" if system else "tools",
    )


def with_breakpoint(body: dict[str, Any], scope: Literal["tools", "system"], ttl: Ttl) -> dict[str, Any]:
    """A copy of ``body`` with ``cache_control`` on the last system block (or last tool); input untouched."""
    marker = {"type": "ephemeral", "ttl": ttl}
    new = dict(body)
    if scope == "system":
        system = body["system"]
        blocks = [{"type": "text", "text": system}] if isinstance(system, str) else list(system)
        blocks[-1] = {**blocks[-1], "cache_control": marker}
        new["system"] = blocks
    else:
        tools = list(body["tools"])
        tools[-1] = {**tools[-1], "cache_control": marker}
        new["tools"] = tools
    return new


def ttl_setting(param: object, default: TtlSetting) -> TtlSetting:
    """The ``ttl`` policy parameter when it is a valid setting, else the config's."""
    if param == "5m" or param == "1h" or param == "auto":
        return param
    return default


MIN_CONVERSATION_MESSAGES = 3
"""user, assistant, user: a request that carries history is a conversation that will likely go on."""


def is_conversation(body: dict[str, Any]) -> bool:
    """A request carrying history (user, assistant, user...): the next turn will repeat all of it."""
    messages = body.get("messages")
    return isinstance(messages, list) and len(messages) >= MIN_CONVERSATION_MESSAGES


def with_history_breakpoint(body: dict[str, Any], ttl: Ttl) -> dict[str, Any]:
    """A copy of a conversation's ``body`` with the request-level ``cache_control`` set.

    The API then places a breakpoint on the last block of the request itself, whatever its form
    (a plain-string message included, so nothing is re-wrapped). The next turn repeats this whole
    prompt and adds to it; the API's lookback (20 blocks before a breakpoint) reads it back, so
    each turn pays for its own new tokens only. Single-turn requests never get it: their last
    message is the part that changes every time.
    """
    return {**body, "cache_control": {"type": "ephemeral", "ttl": ttl}}


def choose_ttl(setting: TtlSetting, typical_gap_s: float | None) -> Ttl:
    if setting != "auto":
        return setting
    return "1h" if typical_gap_s is not None and typical_gap_s > AUTO_1H_GAP_S else "5m"


def below_break_even(reads: int, writes: int, min_reads_per_write: float) -> bool:
    return writes >= MIN_WRITES_TO_JUDGE and reads / writes < min_reads_per_write


@dataclass
class PrefixStats:
    last_seen: float
    typical_gap_s: float | None = None
    writes: int = 0
    reads: int = 0
    disabled_at: float | None = None


class PrefixTracker:
    """Per-prefix reuse gaps and cache outcomes, bounded (least recently seen prefixes forgotten first)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._stats: OrderedDict[str, PrefixStats] = OrderedDict()

    def seen(self, sha256: str, now: float) -> tuple[float | None, PrefixStats]:
        """Note a request using the prefix: the gap since last seen (``None`` at first), and its stats."""
        stats = self._stats.get(sha256)
        if stats is None:
            stats = self._stats[sha256] = PrefixStats(last_seen=now)
            if len(self._stats) > self.capacity:
                self._stats.popitem(last=False)
            return None, stats
        self._stats.move_to_end(sha256)
        gap = max(0.0, now - stats.last_seen)
        stats.typical_gap_s = (
            gap
            if stats.typical_gap_s is None
            else GAP_SMOOTHING * gap + (1 - GAP_SMOOTHING) * stats.typical_gap_s
        )
        stats.last_seen = now
        if stats.disabled_at is not None and now - stats.disabled_at >= REPROBE_AFTER_S:
            stats.disabled_at, stats.writes, stats.reads = None, 0, 0
        return gap, stats

    def observe(self, sha256: str, wrote: bool, read: bool, now: float, min_reads_per_write: float) -> None:
        stats = self._stats.get(sha256)
        if stats is None:
            return
        stats.writes += int(wrote)
        stats.reads += int(read)
        if stats.disabled_at is None and below_break_even(stats.reads, stats.writes, min_reads_per_write):
            stats.disabled_at = now

    def disabled(self, sha256: str) -> bool:
        stats = self._stats.get(sha256)
        return stats is not None and stats.disabled_at is not None

    def __len__(self) -> int:
        return len(self._stats)
