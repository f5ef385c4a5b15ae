"""What-if: replay a period of real events as if some policies had been on.

Each lever rewrites an event the way the hook's policy would have rewritten the request, then the
cost difference is priced with per-model rates (``rates.RateTable``) and added to the event's
*actual* cost. An event no lever touches keeps its recorded cost exactly, so a replay with every
lever off reproduces the actual bill to the micro-dollar, and recorded costs (contract prices,
long-context premiums) are never re-derived.

Levers, mirroring ``claudetop.policies``:

- ``cache``: a cache is simulated over the events' prefix fingerprints in time order: the longest
  prefix at or above the model's minimum cacheable length is written on a miss and read while its
  TTL runs (a read refreshes it). TTL is the config's, or with ``auto`` 1h for prefixes whose
  previous reuse gap was between 5 minutes and an hour. Events that already used the cache on
  their own model keep their real reads and writes (and warm the simulated cache).
- ``routing``: tasks in ``routing.tiers`` are repriced on the tier's model (same tokens).
- ``batching``: tasks in ``batching.async_tasks`` are priced at batch rates.
- ``output_caps``: output tokens are cut to the task's cap (an upper bound on the saving: the
  answer would have been truncated instead).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from claudetop.analysis.rates import Rates, RateTable
from claudetop.config import Config
from claudetop.model import Micros, PolicyMode, PolicyName, PolicySet

ALL_LEVERS: frozenset[PolicyName] = frozenset(PolicyName)
_TTL_S = {"5m": 300.0, "1h": 3600.0}


class ReplayPrefix(Protocol):
    @property
    def sha256(self) -> str: ...
    @property
    def tokens(self) -> int: ...
    @property
    def ttl(self) -> str | None: ...


class Replayable(Protocol):
    """What a replay reads of an event: ``UsageEvent`` has it, and so does the lighter ``ReplayEvent``."""

    @property
    def ts(self) -> datetime: ...
    @property
    def model(self) -> str | None: ...
    @property
    def task(self) -> str | None: ...
    @property
    def input_tokens(self) -> int: ...
    @property
    def output_tokens(self) -> int: ...
    @property
    def cache_write_5m_tokens(self) -> int: ...
    @property
    def cache_write_1h_tokens(self) -> int: ...
    @property
    def cache_read_tokens(self) -> int: ...
    @property
    def cost_micros(self) -> Micros | None: ...
    @property
    def prefixes(self) -> Sequence[ReplayPrefix]: ...
    @property
    def billable(self) -> bool: ...
    @property
    def is_batch(self) -> bool: ...
    @property
    def cache_write_tokens(self) -> int: ...
    @property
    def prompt_tokens(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ReplayedPrefix:
    sha256: str
    tokens: int
    ttl: str | None


class ReplayEvent(NamedTuple):
    """A billable event reduced to what a replay reads: cheap to build from a sink row (a validated
    ``UsageEvent`` costs tens of microseconds; history replays hold hundreds of thousands). A named
    tuple, not a frozen dataclass: it is built for every event of a history, in a quarter of the time."""

    ts: datetime
    model: str | None
    task: str | None
    is_batch: bool
    input_tokens: int
    output_tokens: int
    cache_write_5m_tokens: int
    cache_write_1h_tokens: int
    cache_read_tokens: int
    cost_micros: Micros | None
    prefixes: tuple[ReplayedPrefix, ...]

    @property
    def billable(self) -> bool:
        return True

    @property
    def cache_write_tokens(self) -> int:
        return self.cache_write_5m_tokens + self.cache_write_1h_tokens

    @property
    def prompt_tokens(self) -> int:
        return self.input_tokens + self.cache_write_tokens + self.cache_read_tokens


def enabled_levers(policies: PolicySet) -> frozenset[PolicyName]:
    """Policies that are on in any mode: shadow counts, because it says what enforcing would do."""
    return frozenset(name for name in PolicyName if policies.mode(name) is not PolicyMode.OFF)


@dataclass(frozen=True, slots=True)
class WhatIfResult:
    levers: frozenset[PolicyName]
    requests: int
    cost_micros: Micros
    """Priced requests only; ``unpriced`` counts the rest."""
    baseline_micros: Micros
    """What those same priced requests actually cost: ``cost_micros`` is compared with this, never with
    the actual cost of all requests (a request moved to a model without a price is in neither)."""
    unpriced: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    batch_requests: int
    calls_by_model: dict[str, int] = field(default_factory=dict)

    @property
    def hit_ratio(self) -> float | None:
        prompt = self.input_tokens + self.cache_write_tokens + self.cache_read_tokens
        return self.cache_read_tokens / prompt if prompt else None

    @property
    def batch_share(self) -> float | None:
        return self.batch_requests / self.requests if self.requests else None


@dataclass(slots=True)
class _Tokens:
    model: str | None
    batch: bool
    input: int
    output: int
    write_5m: int
    write_1h: int
    read: int

    @classmethod
    def of(cls, e: Replayable) -> _Tokens:
        """The event's tokens as recorded, for the levers to rewrite."""
        return cls(
            e.model,
            e.is_batch,
            e.input_tokens,
            e.output_tokens,
            e.cache_write_5m_tokens,
            e.cache_write_1h_tokens,
            e.cache_read_tokens,
        )

    def cost(self, rates: Rates) -> Micros:
        return rates.cost(
            input=self.input,
            output=self.output,
            write_5m=self.write_5m,
            write_1h=self.write_1h,
            read=self.read,
        )


@dataclass(slots=True)
class _CacheSim:
    ttl: str
    min_tokens: Callable[[str], int]
    expiry: dict[tuple[str | None, str], float] = field(default_factory=dict)
    last_seen: dict[tuple[str | None, str], float] = field(default_factory=dict)

    def _ttl_for(self, key: tuple[str | None, str], now: float) -> float:
        if self.ttl != "auto":
            return _TTL_S[self.ttl]
        last = self.last_seen.get(key)
        return _TTL_S["1h"] if last is not None and 300 < now - last <= 3600 else _TTL_S["5m"]

    def apply(self, e: Replayable, t: _Tokens, model_changed: bool) -> None:
        now = e.ts.timestamp()
        if not model_changed and (e.cache_read_tokens or e.cache_write_tokens):
            for p in e.prefixes:
                if p.tokens <= e.prompt_tokens:
                    key = (t.model, p.sha256)
                    self.expiry[key] = now + _TTL_S[p.ttl or "5m"]
                    self.last_seen[key] = now
            return
        if model_changed:
            t.input, t.write_5m, t.write_1h, t.read = t.input + t.write_5m + t.write_1h + t.read, 0, 0, 0
        if t.model is None:
            return
        floor = self.min_tokens(t.model)
        prompt = t.input
        candidates = [p for p in e.prefixes if floor <= p.tokens <= prompt]
        if not candidates:
            return
        best = max(candidates, key=lambda p: p.tokens)
        key = (t.model, best.sha256)
        ttl_s = self._ttl_for(key, now)
        self.last_seen[key] = now
        t.input -= best.tokens
        if self.expiry.get(key, float("-inf")) >= now:
            t.read += best.tokens
        elif ttl_s == _TTL_S["1h"]:
            t.write_1h += best.tokens
        else:
            t.write_5m += best.tokens
        self.expiry[key] = now + ttl_s


def replay(
    events: Iterable[Replayable],
    levers: Collection[PolicyName],
    config: Config,
    rates: RateTable,
    *,
    min_cacheable_tokens: Callable[[str], int],
) -> WhatIfResult:
    """Cost and shape of ``events`` (billable ones, replayed in time order) had ``levers`` been on."""
    on = frozenset(levers)
    cache = (
        _CacheSim(ttl=config.cache.ttl, min_tokens=min_cacheable_tokens) if PolicyName.CACHE in on else None
    )
    tiers = config.routing.tiers if PolicyName.ROUTING in on else {}
    async_tasks = set(config.batching.async_tasks) if PolicyName.BATCHING in on else set()
    caps = config.output_caps if PolicyName.OUTPUT_CAPS in on else {}

    requests = cost = baseline = unpriced = batch = 0
    inp = out = writes = reads = 0
    by_model: Counter[str] = Counter()
    for e in sorted((e for e in events if e.billable), key=lambda e: e.ts):
        t = _Tokens.of(e)
        task = e.task
        if task is not None:
            target = tiers.get(task)
            if target is not None:
                t.model = target
            if task in async_tasks:
                t.batch = True
            cap = caps.get(task)
            if cap is not None and t.output > cap:
                t.output = cap
        model_changed = t.model != e.model
        if cache is not None and e.prefixes:
            cache.apply(e, t, model_changed)

        requests += 1
        by_model[t.model or "(none)"] += 1
        batch += t.batch
        inp += t.input
        out += t.output
        writes += t.write_5m + t.write_1h
        reads += t.read
        new_cost = _cost_after(e, t, rates)
        if new_cost is None or e.cost_micros is None:
            unpriced += 1
        else:
            cost += new_cost
            baseline += e.cost_micros
    return WhatIfResult(
        levers=on,
        requests=requests,
        cost_micros=cost,
        baseline_micros=baseline,
        unpriced=unpriced,
        input_tokens=inp,
        output_tokens=out,
        cache_write_tokens=writes,
        cache_read_tokens=reads,
        batch_requests=batch,
        calls_by_model=dict(by_model),
    )


def _cost_after(e: Replayable, t: _Tokens, rates: RateTable) -> Micros | None:
    """The event's actual cost plus what the changes would have added (negative: saved)."""
    if e.cost_micros is None:
        return None
    unchanged = (
        t.model == e.model
        and t.batch == e.is_batch
        and t.input == e.input_tokens
        and t.output == e.output_tokens
        and t.write_5m == e.cache_write_5m_tokens
        and t.write_1h == e.cache_write_1h_tokens
        and t.read == e.cache_read_tokens
    )
    if unchanged:
        return e.cost_micros
    before = rates.get(e.model, e.is_batch)
    after = rates.get(t.model, t.batch)
    if before is None or after is None:
        return None
    return e.cost_micros + t.cost(after) - _Tokens.of(e).cost(before)


def naive_cost(events: Iterable[Replayable], rates: RateTable) -> tuple[Micros, Micros]:
    """What the events would cost with no cache and no batch discount: the audit's "naive" row.

    Returns (cost of the events that can be priced so, what those events actually cost)."""
    cost = baseline = 0
    for e in events:
        if not e.billable:
            continue
        t = _Tokens(e.model, False, e.prompt_tokens, e.output_tokens, 0, 0, 0)
        new = _cost_after(e, t, rates)
        if new is not None and e.cost_micros is not None:
            cost += new
            baseline += e.cost_micros
    return cost, baseline
