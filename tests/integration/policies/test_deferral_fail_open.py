"""Deferral fails open: when a request cannot be queued (the owners directory cannot be made, the
queue was closed), ``messages.create`` sends it at once and the app gets its message, not an error.
claudetop says once on stderr why it is not deferring."""

from __future__ import annotations

import asyncio
from pathlib import Path

import anthropic
import pytest

import claudetop._warn
from claudetop.policies import PolicyStore
from claudetop.policies.batching import deferrable
from claudetop.policies.queue_owners import owners_dir
from claudetop.simulate import FakeAnthropic, SimClock
from tests.integration.policies.test_deferrable_client import CONFIG, params


@pytest.fixture
def enforced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A sink with batching enforced, and no warning given yet in this process."""
    monkeypatch.setattr(claudetop._warn, "_warned", set())
    sink = tmp_path / "events.db"
    with PolicyStore(sink, config=CONFIG) as store:
        store.set("batching", "enforce", by="test")
    return sink


def test_a_file_where_the_owners_directory_goes_sends_the_request_at_once(
    enforced: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    owners_dir(enforced).write_text("not a directory")
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        wrapped = deferrable(client, sink=enforced, config=CONFIG)
        try:
            handles = [wrapped.messages.create(**params(i)) for i in range(2)]
        finally:
            wrapped.close()
        assert fake.stats.by_route.get("batches_create", 0) == 0
    assert [h.deferred for h in handles] == [False, False]
    assert [h.result(timeout=0).model for h in handles] == ["claude-haiku-4-5"] * 2
    warnings = [line for line in capsys.readouterr().err.splitlines() if "deferred" in line]
    assert len(warnings) == 1 and str(owners_dir(enforced)) in warnings[0]


def test_the_async_client_sends_at_once_too(enforced: Path) -> None:
    owners_dir(enforced).write_text("not a directory")
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:

        async def app() -> anthropic.types.Message:
            client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="sk-ant-test")
            wrapped = deferrable(client, sink=enforced, config=CONFIG)
            try:
                handle = await wrapped.messages.create(**params(0))
            finally:
                wrapped.close()
            assert not handle.deferred
            message: anthropic.types.Message = await handle
            return message

        assert asyncio.run(app()).model == "claude-haiku-4-5"


def test_a_request_made_after_its_queue_was_closed_is_sent_at_once(enforced: Path) -> None:
    with FakeAnthropic(clock=SimClock(speed=3600)) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        wrapped = deferrable(client, sink=enforced, config=CONFIG)
        try:
            wrapped.queue.close()
            handle = wrapped.messages.create(**params(0))
        finally:
            wrapped.close()
    assert not handle.deferred
    assert handle.result(timeout=0).model == "claude-haiku-4-5"
