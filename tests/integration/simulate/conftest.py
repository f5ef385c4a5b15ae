"""A fake API on a frozen clock per test, and SDK clients pointed at it."""

from collections.abc import Iterator

import anthropic
import pytest

from claudetop.simulate import FakeAnthropic, SimClock


@pytest.fixture
def clock() -> SimClock:
    return SimClock(speed=0)


@pytest.fixture
def fake(clock: SimClock) -> Iterator[FakeAnthropic]:
    with FakeAnthropic(clock=clock) as server:
        yield server


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0) as c:
        yield c
