"""The demo's traffic: the cost audit's decision-matrix scenarios, sent through the real SDK.

Each scenario is a task tag with a rate, a prompt shape and an output length. Arrivals are
Poisson (seeded) on the :class:`SimClock`; a pool of worker threads sleeps on that clock
until each arrival is due, so an accelerated clock replays a month in minutes.

The default **naive** mix is what the audit found: every call on ``claude-opus-4-7``, no
``cache_control``, no batches, generous ``max_tokens``. It is calibrated (sizes below x rates,
priced at Opus 4.7's $5 / $25 per million input / output tokens) to about **$4,200 per
30-day month**:

============== ============== =============================== ========= =============
scenario       arrivals/hour  prompt (tokens)                 output    $/day naive
============== ============== =============================== ========= =============
chat           15 sessions x3 6,000 system + tools + history  250       ~50
summarisation  300 at 02:00   3,000 system + 9,000 document   800       ~24
extraction     43             4,500 system + tools + 600      150       ~32
reasoning      5.5 chains x2  1,500 system + 2,500 dynamic    2,000     ~18.5
code_review    10             5,000 system + 4,000 diff       600       ~14.4
============== ============== =============================== ========= =============

The long system prompts and tools are stable and above every model's minimum cacheable length,
so a caching policy can reach a high hit ratio honestly; extraction is routable to Haiku.
Summarisation is async-eligible, and the workload treats it the way an application built with
claudetop would: every task in ``async_tasks`` (the config's ``batching.async_tasks``) is sent
through ``claudetop.deferrable(client)`` when a ``deferrable`` factory is given. The nightly job
hands each document over and moves on; the handle resolves at once while batching is off, or
when its Message Batch ends while batching is enforced, and the run collects it then.

Pathologies are opt-in: ``fragmentation`` (timestamp and user id at the start of the chat
system prompt, with the app's own breakpoint),
``ttl_misalignment`` (an hourly report job caching with a 5m TTL), ``drift`` (the code-review
system prompt is edited every 3 hours), ``polling_storm`` (summarisation submitted as a batch
by the app and polled every 5 simulated seconds), ``unbounded_outputs`` (reasoning with
``max_tokens=32000`` and 6,000-token answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import anthropic

import claudetop
from claudetop.policies.batching import DeferredRequestFailed
from claudetop.simulate.clock import SimClock
from claudetop.simulate.tokens import marker, output_text

NAIVE_MODEL = "claude-opus-4-7"
PATHOLOGIES = ("fragmentation", "ttl_misalignment", "drift", "polling_storm", "unbounded_outputs")
SCENARIO_NAMES = ("chat", "summarisation", "extraction", "reasoning", "code_review")


class DeferredResult(Protocol):
    """What ``claudetop.deferrable(...).messages.create`` returns (``DeferredHandle``)."""

    deferred: bool

    def done(self) -> bool: ...

    def result(self, timeout: float | None = None) -> Any: ...


class DeferringMessages(Protocol):
    def create(self, **params: Any) -> DeferredResult: ...


class DeferringClient(Protocol):
    """``claudetop.deferrable(client)``: ``messages.create`` gives a handle; ``close`` stops its queue."""

    @property
    def messages(self) -> DeferringMessages: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Scenario:
    name: str
    rate_per_hour: float
    """Mean arrivals per simulated hour (a chat arrival is a whole session)."""
    system_tokens: int
    user_tokens: int
    output_tokens: int
    max_tokens: int
    tools_tokens: int = 0
    turns: int = 1
    nightly_at_hour: int | None = None
    """Run ``rate_per_hour`` requests at once, every day at this UTC hour, instead of Poisson arrivals."""
    stream: bool = False
    use_async: bool = False


NAIVE_SCENARIOS: dict[str, Scenario] = {
    "chat": Scenario("chat", 15, 6_000, 150, 250, 1_024, tools_tokens=1_500, turns=3, stream=True),
    "summarisation": Scenario("summarisation", 300, 3_000, 9_000, 800, 2_048, nightly_at_hour=2),
    "extraction": Scenario("extraction", 43, 4_500, 600, 150, 1_024, tools_tokens=500),
    "reasoning": Scenario("reasoning", 5.5, 1_500, 2_500, 2_000, 4_096, use_async=True),
    "code_review": Scenario("code_review", 10, 5_000, 4_000, 600, 2_048),
}


@dataclass
class WorkloadStats:
    calls: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    polls: int = 0
    deferred: int = 0
    """Requests ``deferrable`` queued for a Message Batch (rather than sending them at once)."""
    awaiting: int = 0
    """Deferred requests whose result had not come back when the run ended (they stay queued in the sink)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, task: str, ok: bool) -> None:
        with self._lock:
            target = self.calls if ok else self.errors
            target[task] = target.get(task, 0) + 1

    def count_deferred(self) -> None:
        with self._lock:
            self.deferred += 1


def text(tokens: int, seed: str) -> str:
    """Deterministic prose of ``tokens`` tokens (the fake server's 4-bytes-per-token count)."""
    return output_text(tokens, seed.encode())


def _tools(scenario: Scenario) -> list[dict[str, Any]]:
    if not scenario.tools_tokens:
        return []
    return [
        {
            "name": f"{scenario.name}_lookup",
            "description": text(scenario.tools_tokens - 40, f"tools:{scenario.name}"),
            "input_schema": {"type": "object", "properties": {"query": {"type": "string"}}},
        }
    ]


def _task(name: str) -> contextlib.AbstractContextManager[Any]:
    """``claudetop.task(name)`` when the hook provides it, so events carry the scenario's tag."""
    tag = getattr(claudetop, "task", None)
    return tag(name) if tag is not None else contextlib.nullcontext()


@dataclass
class Workload:
    """Generates and sends the traffic; :meth:`run` blocks until ``duration`` simulated seconds pass."""

    client_factory: Callable[[], anthropic.Anthropic]
    clock: SimClock
    scenarios: Iterable[str] = SCENARIO_NAMES
    async_client_factory: Callable[[], anthropic.AsyncAnthropic] | None = None
    pathologies: Iterable[str] = ()
    seed: int = 0
    workers: int = 8
    join_timeout_s: float = 1.0
    """At the end, how long to wait (in all) for calls in flight before returning."""
    deferrable: Callable[[anthropic.Anthropic], DeferringClient] | None = None
    """Wraps a client for async-eligible work (``claudetop.deferrable``); ``None``: send it at once."""
    async_tasks: Iterable[str] = ("summarisation",)
    """Tasks whose work can wait for a batch: sent through ``deferrable`` when there is one."""
    stop: threading.Event = field(default_factory=threading.Event)
    stats: WorkloadStats = field(default_factory=WorkloadStats)

    def __post_init__(self) -> None:
        self.scenarios = tuple(self.scenarios)
        self.pathologies = frozenset(self.pathologies)
        self.async_tasks = frozenset(self.async_tasks)
        self._deferring: DeferringClient | None = None
        self._awaited: list[tuple[str, DeferredResult]] = []
        self._awaited_lock = threading.Lock()
        unknown = set(self.scenarios) - set(SCENARIO_NAMES)
        if unknown:
            raise ValueError(
                f"unknown scenario(s): {', '.join(sorted(unknown))}; known: {', '.join(SCENARIO_NAMES)}"
            )
        bad = set(self.pathologies) - set(PATHOLOGIES)
        if bad:
            raise ValueError(f"unknown pathology: {', '.join(sorted(bad))}; known: {', '.join(PATHOLOGIES)}")

    # --- schedule ------------------------------------------------------------------------

    def schedule(self, start: float, duration: float) -> Iterator[tuple[float, str, int]]:
        """Arrivals ``(sim_time, scenario, n)`` in time order, seeded, lazy (a run can be endless)."""
        names = list(self.scenarios)
        if "ttl_misalignment" in self.pathologies:
            names.append("report")
        streams = [self._arrivals(name, start, start + duration) for name in names]
        return heapq.merge(*streams)

    def _arrivals(self, name: str, start: float, end: float) -> Iterator[tuple[float, str, int]]:
        rng = random.Random(f"{self.seed}:{name}")
        n = 0
        if name == "report":
            t = (start // 3600 + 1) * 3600
            while t < end:
                yield t, name, n
                n, t = n + 1, t + 3600
            return
        sc = NAIVE_SCENARIOS[name]
        if sc.nightly_at_hour is not None:
            day = start - start % 86400 + sc.nightly_at_hour * 3600
            while day < end:
                for i in range(int(sc.rate_per_hour)):
                    if start <= day + i * 2 < end:
                        yield day + i * 2, name, n
                        n += 1
                day += 86400
            return
        t = start
        while True:
            t += rng.expovariate(sc.rate_per_hour / 3600)
            if t >= end:
                return
            yield t, name, n
            n += 1

    # --- run -----------------------------------------------------------------------------

    def run(self, duration: float, start: float | None = None) -> WorkloadStats:
        """Send the traffic of ``duration`` simulated seconds from ``start`` (default: now).

        Arrivals already due when a worker gets to them (start-up took simulated time, or the
        machine fell behind an accelerated clock) are sent at once, not dropped.
        """
        start = self.clock.now() if start is None else start
        arrivals = self.schedule(start, duration)
        lock = threading.Lock()
        deferring_client = self.client_factory() if self.deferrable is not None else None
        if self.deferrable is not None and deferring_client is not None:
            self._deferring = self.deferrable(deferring_client)

        def worker() -> None:
            client = self.client_factory()
            try:
                while not self.stop.is_set():
                    with lock:
                        nxt = next(arrivals, None)
                    if nxt is None:
                        return
                    due, name, n = nxt
                    wait = due - self.clock.now()
                    if wait > 0 and self.clock.sleep(wait, self.stop):
                        return
                    self._one(client, name, n, due)
            finally:
                client.close()

        threads = [
            threading.Thread(target=worker, name=f"workload-{i}", daemon=True) for i in range(self.workers)
        ]
        for th in threads:
            th.start()
        try:
            while (any(th.is_alive() for th in threads) or self._awaited) and not self.stop.wait(0.05):
                self._collect_results()
            deadline = time.monotonic() + self.join_timeout_s
            for th in threads:
                th.join(max(0.0, deadline - time.monotonic()))
            self._collect_results()
        finally:
            if self._deferring is not None:
                self._deferring.close()
            if deferring_client is not None:
                deferring_client.close()
        with self._awaited_lock:
            self.stats.awaiting = len(self._awaited)
        return self.stats

    def _collect_results(self) -> None:
        """Count the deferred requests whose results came back (at once, or when their batch ended)."""
        with self._awaited_lock:
            done = [(task, h) for task, h in self._awaited if h.done()]
            self._awaited = [(task, h) for task, h in self._awaited if not h.done()]
        for task, handle in done:
            try:
                handle.result(0)
            except (anthropic.APIError, DeferredRequestFailed):
                self.stats.count(task, ok=False)
            else:
                self.stats.count(task, ok=True)

    def _defer(self, name: str, n: int, due: float) -> None:
        """Hand async-eligible work to ``deferrable`` and move on; ``_collect_results`` counts it later."""
        assert self._deferring is not None
        handle = self._deferring.messages.create(**self.request(name, n, due))
        with self._awaited_lock:
            self._awaited.append((name, handle))
        if handle.deferred:
            self.stats.count_deferred()

    def _one(self, client: anthropic.Anthropic, name: str, n: int, due: float) -> None:
        task = "summarisation" if name == "report" else name
        try:
            with _task(name if name != "report" else "report"):
                if name == "chat":
                    self._chat(client, n, due)
                elif name == "reasoning":
                    self._reasoning(n)
                elif name == "summarisation" and "polling_storm" in self.pathologies:
                    self._batch_summaries(client, n)
                elif name in self.async_tasks and self._deferring is not None:
                    self._defer(name, n, due)
                    return
                else:
                    client.messages.create(**self.request(name, n, due))
            self.stats.count(task, ok=True)
        except anthropic.APIError:
            self.stats.count(task, ok=False)

    # --- request shapes -------------------------------------------------------------------

    def system_prompt(self, name: str, n: int, due: float) -> Any:
        sc = NAIVE_SCENARIOS["summarisation" if name == "report" else name]
        body = text(sc.system_tokens, f"system:{name}")
        if name == "chat" and "fragmentation" in self.pathologies:
            stamp = f"Current time: {int(due)}. User id: u{n % 997}.\n"
            return [{"type": "text", "text": stamp + body, "cache_control": {"type": "ephemeral"}}]
        if name == "code_review" and "drift" in self.pathologies:
            version = f"Review guidelines v{int(due // (3 * 3600))}.\n"
            return [{"type": "text", "text": version + body, "cache_control": {"type": "ephemeral"}}]
        if name == "report":
            return [{"type": "text", "text": body, "cache_control": {"type": "ephemeral", "ttl": "5m"}}]
        return body

    def request(
        self, name: str, n: int, due: float, history: list[dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        sc = NAIVE_SCENARIOS["summarisation" if name == "report" else name]
        rng = random.Random(f"{self.seed}:{name}:{n}:{len(history or [])}")
        out = max(1, int(sc.output_tokens * rng.uniform(0.7, 1.3)))
        max_tokens = sc.max_tokens
        if name == "reasoning" and "unbounded_outputs" in self.pathologies:
            out, max_tokens = 6_000, 32_000
        user = f"{text(sc.user_tokens, f'user:{name}:{n}:{len(history or [])}')} {marker(out)}"
        body: dict[str, Any] = {
            "model": NAIVE_MODEL,
            "max_tokens": max_tokens,
            "system": self.system_prompt(name, n, due),
            "messages": [*(history or []), {"role": "user", "content": user}],
        }
        tools = _tools(sc)
        if tools:
            body["tools"] = tools
        return body

    def _chat(self, client: anthropic.Anthropic, n: int, due: float) -> None:
        history: list[dict[str, Any]] = []
        for turn in range(NAIVE_SCENARIOS["chat"].turns):
            if turn and self.clock.sleep(45, self.stop):
                return
            body = self.request("chat", n, due, history)
            with client.messages.stream(**body) as stream:
                answer = stream.get_final_message()
            history = [*body["messages"], {"role": "assistant", "content": answer.content[0].text}]  # type: ignore[union-attr]

    def _reasoning(self, n: int) -> None:
        """Dynamic chains: two dependent steps on the async client (the second quotes the first)."""
        if self.async_client_factory is None:
            raise RuntimeError("reasoning needs an async client factory")
        factory = self.async_client_factory

        async def chain() -> None:
            async with factory() as client:
                body = self.request("reasoning", n, self.clock.now())
                first = await client.messages.create(**body)
                step = {"role": "assistant", "content": first.content[0].text[:2000]}
                await client.messages.create(
                    **self.request("reasoning", n, self.clock.now(), [*body["messages"], step])
                )

        asyncio.run(chain())

    def _batch_summaries(self, client: anthropic.Anthropic, n: int) -> None:
        """The app itself batches tonight's documents and polls tightly (the polling-storm pathology)."""
        if n % 50:
            return
        reqs = [
            {"custom_id": f"doc-{n + i}", "params": self.request("summarisation", n + i, 0)}
            for i in range(50)
        ]
        batch = client.messages.batches.create(requests=reqs)  # type: ignore[arg-type]
        self.stats.batches += 1
        while not self.stop.is_set():
            self.stats.polls += 1
            if client.messages.batches.retrieve(batch.id).processing_status == "ended":
                for _ in client.messages.batches.results(batch.id):
                    pass
                return
            if self.clock.sleep(5, self.stop):
                return


def describe(scenarios: Iterable[str]) -> str:
    return json.dumps({s: NAIVE_SCENARIOS[s].__dict__ for s in scenarios}, indent=2)
