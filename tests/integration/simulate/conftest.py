"""SDK clients pointed at the per-test fake API (``fake``, from ``tests/integration/conftest.py``)."""

from collections.abc import Iterator

import anthropic
import pytest

from claudetop.simulate import FakeAnthropic


@pytest.fixture
def client(fake: FakeAnthropic) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0) as c:
        yield c
