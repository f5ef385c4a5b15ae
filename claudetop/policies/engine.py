"""The seam between the policies and the hook: ``PolicyEngine.decide`` runs before each messages request.

The hook's middleware calls ``decide(body, task, model)`` and sends ``outcome.body`` (the very
same object it passed in when nothing is enforced, so shadow mode is byte-identical on the wire),
then stores ``outcome.decisions`` on the request's ``UsageEvent``. After the response it calls
``observe(outcome.cache_prefix, event)`` so the caching policy learns each prefix's reads per write,
and may call ``settle(outcome.decisions, event)`` to replace the request-time saving estimates of
routing and batching with figures priced from the real usage.

Order matters: routing first (the cache entry belongs to the model actually used), then output
caps, then caching. Savings at request time are input-side estimates (tokens estimated from text):
output length is not known until the response.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from claudetop.config import Config
from claudetop.model import Micros, PolicyDecision, PolicyMode, PolicyName, PolicySet, UsageEvent
from claudetop.policies import cache, caps, routing
from claudetop.policies.evals import Validation
from claudetop.sinks.forksafe import on_fork_in_child

DEFERRABLE_REQUEST: ContextVar[bool] = ContextVar("claudetop_deferrable_request", default=False)
"""Set by ``claudetop.deferrable`` around a request it runs immediately: batching could have deferred it."""

FALLBACK_MIN_CACHEABLE_TOKENS = 4096
"""For a model the price book does not know: the largest minimum any Claude model has."""


class Pricer(Protocol):
    """The part of ``claudetop.pricing.PriceBook`` the estimates use."""

    def cost(self, event: UsageEvent) -> Micros | None: ...

    def cost_on_model(self, event: UsageEvent, model_id: str) -> Micros | None: ...

    def cost_at_batch_rate(self, event: UsageEvent) -> Micros | None: ...


def default_pricer() -> Pricer:
    from claudetop.pricing import default_pricebook

    return default_pricebook()


class PolicySource(Protocol):
    """What the engine reads: ``PolicyStore`` in production."""

    def current(self) -> PolicySet: ...

    def validation(self, task: str, model: str) -> Validation: ...


@dataclass(frozen=True)
class PolicyOutcome:
    body: dict[str, Any]
    """The body to send: the caller's own object unless an enforced policy changed it (then a copy)."""
    decisions: tuple[PolicyDecision, ...] = ()
    cache_prefix: str | None = None
    """The stable prefix's hash when the caching policy looked at it: pass it back to ``observe``."""


@dataclass
class _Draft:
    body: dict[str, Any]
    model: str | None
    decisions: list[PolicyDecision] = field(default_factory=list)
    _est_input: int | None = None

    @property
    def est_input(self) -> int:
        """Walks the whole body, on the application's thread: only done when a policy is on. Not a
        ``functools.cached_property``: before Python 3.12 that holds one lock, shared by every draft,
        while it walks, which a child forked meanwhile would inherit held for ever."""
        if self._est_input is None:
            self._est_input = _estimate_input(self.body)
        return self._est_input


class PolicyEngine:
    """Decides per request; thread-safe. ``clock`` must be the app's notion of time (a sim clock in demos)."""

    def __init__(
        self,
        store: PolicySource,
        config: Config,
        *,
        pricebook: Pricer | None = None,
        lookup: routing.ModelLookup = routing.default_lookup,
        clock: Callable[[], float] = time.monotonic,
        tracker_capacity: int = 10_000,
    ) -> None:
        self.store = store
        self.config = config
        self.pricebook = pricebook if pricebook is not None else default_pricer()
        self._lookup = lookup
        self._clock = clock
        self._tracker = cache.PrefixTracker(tracker_capacity)
        self._lock = threading.Lock()
        on_fork_in_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        """A parent's thread may have held the lock (the writer observing a response, say): the child's
        would stay held, and its next request with the cache policy on wait for ever."""
        self._lock = threading.Lock()

    def active(self) -> bool:
        """Whether any policy is on: the hook asks ``decide`` nothing otherwise."""
        return self.store.current().active()

    def decide(self, body: dict[str, Any], task: str | None, model: str | None) -> PolicyOutcome:
        policies = self.store.current()
        if not policies.active():
            return PolicyOutcome(body=body, decisions=(), cache_prefix=None)
        model = model if model is not None else body.get("model")
        draft = _Draft(body=body, model=model)
        if (mode := policies.mode(PolicyName.ROUTING)) is not PolicyMode.OFF:
            self._route(draft, task, mode)
        if (mode := policies.mode(PolicyName.OUTPUT_CAPS)) is not PolicyMode.OFF:
            self._cap(draft, task, mode)
        prefix_hash = None
        if (mode := policies.mode(PolicyName.CACHE)) is not PolicyMode.OFF and self.config.cache.enabled:
            prefix_hash = self._cache(draft, mode, policies)
        if (mode := policies.mode(PolicyName.BATCHING)) is not PolicyMode.OFF:
            self._batching(draft, task, mode)
        return PolicyOutcome(body=draft.body, decisions=tuple(draft.decisions), cache_prefix=prefix_hash)

    # --- routing -----------------------------------------------------------------------------

    def _route(self, draft: _Draft, task: str | None, mode: PolicyMode) -> None:
        route = routing.plan_route(task, draft.model, self.config.routing, self._lookup)
        if route is None:
            return
        action = f"route {route.from_model}->{route.to_model}"
        acts = mode is PolicyMode.ENFORCE
        if acts and route.downshift and not self.store.validation(route.task, route.to_model).ok:
            acts, action = False, f"{action} blocked=unvalidated"
        saving = _difference(
            self._price(route.from_model, input_tokens=draft.est_input),
            self._price(route.to_model, input_tokens=draft.est_input),
        )
        if acts:
            draft.body = {**draft.body, "model": route.to_model}
            draft.model = route.to_model
        draft.decisions.append(_decision(PolicyName.ROUTING, acts, action, saving))

    # --- output caps -------------------------------------------------------------------------

    def _cap(self, draft: _Draft, task: str | None, mode: PolicyMode) -> None:
        cap = caps.plan_cap(task, draft.body, self.config.output_caps)
        if cap is None:
            return
        acts = mode is PolicyMode.ENFORCE
        if acts:
            draft.body = {**draft.body, "max_tokens": cap}
        draft.decisions.append(_decision(PolicyName.OUTPUT_CAPS, acts, f"cap max_tokens={cap}", None))

    # --- caching -----------------------------------------------------------------------------

    def _cache(self, draft: _Draft, mode: PolicyMode, policies: PolicySet) -> str | None:
        if cache.has_cache_control(draft.body):
            return None
        prefix = cache.stable_prefix({**draft.body, "model": draft.model})
        if prefix is None or prefix.tokens < self._min_cacheable(draft.model):
            return None
        with self._lock:
            gap, stats = self._tracker.seen(prefix.sha256, self._clock())
            typical_gap, disabled = stats.typical_gap_s, stats.disabled_at is not None
        short = prefix.sha256[:12]
        if disabled:
            draft.decisions.append(
                _decision(PolicyName.CACHE, False, f"skip prefix={short} below-break-even", None)
            )
            return prefix.sha256
        setting = cache.ttl_setting(policies.get(PolicyName.CACHE).params.get("ttl"), self.config.cache.ttl)
        ttl = cache.choose_ttl(setting, typical_gap)
        would_read = gap is not None and gap <= cache.TTL_SECONDS[ttl]
        saving = self._cache_saving(draft, prefix.tokens, ttl, would_read)
        acts = mode is PolicyMode.ENFORCE
        action = f"cache ttl={ttl} prefix={short}"
        if cache.is_conversation(draft.body):
            action += " +history"
        if acts:
            draft.body = cache.with_breakpoint(draft.body, prefix.scope, ttl)
            if cache.is_conversation(draft.body):
                draft.body = cache.with_history_breakpoint(draft.body, ttl)
        draft.decisions.append(_decision(PolicyName.CACHE, acts, action, saving))
        return prefix.sha256

    def _min_cacheable(self, model: str | None) -> int:
        info = self._lookup(model) if model else None
        return info.min_cacheable_tokens if info is not None else FALLBACK_MIN_CACHEABLE_TOKENS

    def _cache_saving(self, draft: _Draft, tokens: int, ttl: cache.Ttl, would_read: bool) -> Micros | None:
        if draft.model is None:
            return None
        rest = max(0, draft.est_input - tokens)
        cached = (
            {"cache_read_tokens": tokens}
            if would_read
            else {"cache_write_5m_tokens" if ttl == "5m" else "cache_write_1h_tokens": tokens}
        )
        return _difference(
            self._price(draft.model, input_tokens=draft.est_input),
            self._price(draft.model, input_tokens=rest, **cached),
        )

    def observe(self, prefix_hash: str | None, usage: UsageEvent) -> None:
        """Feed back a response's cache outcome for the prefix ``decide`` returned as ``cache_prefix``.

        The hook calls this after each response of a request whose outcome had a ``cache_prefix``.
        A prefix whose reads per write stay below ``cache.min_reads_per_write`` stops being cached
        (the cache write overhead pitfall) and is re-tried an hour later. A response that read
        the cache counts as a read even if it also wrote: that write is a conversation's new turn,
        cached after the prefix, not the prefix being written again.
        """
        if prefix_hash is None:
            return
        read = usage.cache_read_tokens > 0
        with self._lock:
            self._tracker.observe(
                prefix_hash,
                wrote=usage.cache_write_tokens > 0 and not read,
                read=read,
                now=self._clock(),
                min_reads_per_write=self.config.cache.min_reads_per_write,
            )

    # --- batching ----------------------------------------------------------------------------

    def _batching(self, draft: _Draft, task: str | None, mode: PolicyMode) -> None:
        """Shadow only: an enforced deferral happens in ``claudetop.deferrable``, before anything is sent."""
        eligible = DEFERRABLE_REQUEST.get() or (task is not None and task in self.config.batching.async_tasks)
        if mode is not PolicyMode.SHADOW or not eligible or draft.model is None:
            return
        event = _synthetic(draft.model, input_tokens=draft.est_input)
        saving = _difference(self.pricebook.cost(event), self.pricebook.cost_at_batch_rate(event))
        draft.decisions.append(_decision(PolicyName.BATCHING, False, "defer", saving))

    # --- pricing helpers ---------------------------------------------------------------------

    def _price(self, model: str, **tokens: int) -> Micros | None:
        return self.pricebook.cost(_synthetic(model, **tokens))

    def settle(self, decisions: tuple[PolicyDecision, ...], event: UsageEvent) -> tuple[PolicyDecision, ...]:
        """The decisions with routing and batching savings re-priced from the response's real usage."""
        return tuple(self._settle_one(d, event) for d in decisions)

    def _settle_one(self, decision: PolicyDecision, event: UsageEvent) -> PolicyDecision:
        book = self.pricebook
        saving: Micros | None
        if decision.policy == PolicyName.ROUTING.value and decision.action.startswith("route "):
            from_model, to_model = decision.action.split()[1].split("->")
            if decision.changed_request:
                saving = _difference(book.cost_on_model(event, from_model), book.cost(event))
            else:
                saving = _difference(book.cost(event), book.cost_on_model(event, to_model))
        elif decision.policy == PolicyName.BATCHING.value and not event.is_batch:
            saving = _difference(book.cost(event), book.cost_at_batch_rate(event))
        else:
            return decision
        return decision.model_copy(update={"saving_micros": saving})


def _estimate_input(body: dict[str, Any]) -> int:
    return sum(cache.estimate_tokens(body.get(key) or []) for key in ("tools", "system", "messages"))


def _synthetic(model: str, **tokens: int) -> UsageEvent:
    return UsageEvent(id="policy-estimate", ts=datetime.now(UTC), model=model, **tokens)


def _difference(before: Micros | None, after: Micros | None) -> Micros | None:
    return None if before is None or after is None else before - after


def _decision(policy: PolicyName, acts: bool, action: str, saving: Micros | None) -> PolicyDecision:
    return PolicyDecision(
        policy=policy.value,
        mode=PolicyMode.ENFORCE if acts else PolicyMode.SHADOW,
        action=action,
        changed_request=acts,
        saving_micros=saving,
    )
