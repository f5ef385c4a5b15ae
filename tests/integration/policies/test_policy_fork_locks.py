"""A child forked while a thread of the parent holds a policy lock still gets its API calls through.

The thread that held it does not cross the fork, so the child's copy of the lock would stay held for
ever: each test forks while another thread is inside (a refresh of the settings, the writer feeding
back a cache outcome, a request estimating its tokens, the deferral queue starting), then makes in
the child the call an application would, under an alarm that turns a hang into a failure.
"""

from __future__ import annotations

import gc
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import anthropic

import claudetop
from claudetop.config import BatchingConfig, Config
from claudetop.hook import make_middleware
from claudetop.policies import PolicyEngine, PolicyStore
from claudetop.policies.batching import deferrable
from claudetop.simulate import FakeAnthropic
from tests.forked import held_by_another_thread, in_forked_child

HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-6"
SYSTEM = "x" * 10_000
"""2,500 estimated tokens: a prefix the caching policy considers on sonnet-4-6 (2,048 at least)."""


def instrumented(
    fake: FakeAnthropic, sink: Path, **policies: str
) -> tuple[anthropic.Anthropic, PolicyEngine]:
    """A client recording to ``sink`` with ``policies`` set (name: mode), once its engine is ready."""
    with PolicyStore(sink, config=Config()) as store:
        for name, mode in policies.items():
            store.set(name, mode, by="test")
    middleware = make_middleware(sink=sink, config=Config(), policies=True)
    deadline = time.monotonic() + 10
    while middleware.policies.engine is None and time.monotonic() < deadline:
        time.sleep(0.01)
    engine = middleware.policies.engine
    assert isinstance(engine, PolicyEngine), "the policy engine was not built"
    client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
    return client.with_middleware(middleware), engine


def call_gets_through(client: anthropic.Anthropic, model: str, **extra: Any) -> bool:
    message = client.messages.create(
        model=model, max_tokens=5, messages=[{"role": "user", "content": "hi"}], **extra
    )
    return bool(message.model == model)


def test_a_call_in_a_child_forked_while_the_policy_store_refreshes_completes(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    """Every instrumented call asks the store for the settings in force (``current()``)."""
    client, engine = instrumented(fake, tmp_path / "events.db")
    assert isinstance(engine.store, PolicyStore)
    with held_by_another_thread(engine.store._lock):
        assert in_forked_child(lambda: call_gets_through(client, HAIKU))


def test_a_call_in_a_child_forked_while_the_engine_tracks_a_prefix_completes(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    """The writer feeds each response's cache outcome back under the engine's lock; the caching policy
    takes it for every request with a long enough prefix."""
    client, engine = instrumented(fake, tmp_path / "events.db", cache="shadow")
    with held_by_another_thread(engine._lock):
        assert in_forked_child(lambda: call_gets_through(client, SONNET, system=SYSTEM))


class _SlowMessage(dict[str, Any]):
    """A message whose walk (``values()``) waits: the request is held inside its token estimate."""

    def __init__(self, inside: threading.Event, release: threading.Event) -> None:
        super().__init__(role="user", content="hi")
        self._inside, self._release = inside, release

    def values(self) -> Any:
        self._inside.set()
        self._release.wait(20)
        return super().values()


def test_a_call_in_a_child_forked_while_a_request_estimates_its_tokens_completes(
    fake: FakeAnthropic, tmp_path: Path
) -> None:
    """Shadow batching estimates every async task's input tokens, on the application's thread."""
    client, engine = instrumented(fake, tmp_path / "events.db", batching="shadow")
    inside, release = threading.Event(), threading.Event()
    body = {"model": HAIKU, "max_tokens": 5, "messages": [_SlowMessage(inside, release)]}
    other_request = threading.Thread(target=engine.decide, args=(body, "summarisation", HAIKU), daemon=True)
    other_request.start()
    try:
        assert inside.wait(5)

        def summarise() -> bool:
            with claudetop.task("summarisation"):
                return call_gets_through(client, HAIKU)

        assert in_forked_child(summarise)
    finally:
        release.set()
        other_request.join(5)


def test_a_deferred_request_in_a_child_forked_while_the_queue_starts_is_queued(tmp_path: Path) -> None:
    """The first deferred request starts the deferral queue; a thread of the parent was starting it."""
    sink = tmp_path / "events.db"
    config = Config(batching=BatchingConfig(batch_size=3, max_wait_s=60))  # nothing is sent
    with PolicyStore(sink, config=config) as store:
        store.set("batching", "enforce", by="test")
    unused = anthropic.Anthropic(base_url="http://127.0.0.1:9", api_key="sk-ant-test")
    wrapped = deferrable(unused, sink=sink, config=config)
    try:
        with held_by_another_thread(wrapped._queue_lock):

            def defer() -> bool:
                handle = wrapped.messages.create(
                    model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "hi"}]
                )
                return handle.deferred and wrapped.queue.queued() == 1

            assert in_forked_child(defer)
    finally:
        wrapped.close()


def test_what_a_child_renews_at_a_fork_can_still_be_collected(tmp_path: Path) -> None:
    store = PolicyStore(tmp_path / "events.db", config=Config())
    engine = PolicyEngine(store, store.config)
    wrapped = deferrable(
        anthropic.Anthropic(api_key="sk-ant-test"), sink=tmp_path / "events.db", config=Config()
    )
    refs = [weakref.ref(store), weakref.ref(engine), weakref.ref(wrapped)]
    store.close()
    wrapped.close()
    del store, engine, wrapped
    gc.collect()
    assert [ref() for ref in refs] == [None, None, None]
