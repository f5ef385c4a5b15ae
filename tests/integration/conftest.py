"""A fake Anthropic API on a frozen simulated clock, one per test (hook and simulate tests share it)."""

from collections.abc import Iterator

import pytest

from claudetop.simulate import FakeAnthropic, SimClock


@pytest.fixture
def clock() -> SimClock:
    return SimClock(speed=0)


@pytest.fixture
def fake(clock: SimClock) -> Iterator[FakeAnthropic]:
    with FakeAnthropic(clock=clock) as server:
        yield server
