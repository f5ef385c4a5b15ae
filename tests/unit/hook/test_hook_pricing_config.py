"""The hook prices what it records with the config's pricing section, exactly as the report does.

Expected figures come from Anthropic's published Sonnet 4.6 prices (https://www.anthropic.com/pricing,
read 2026-11-25): $3 input / $15 output per million tokens; US-only inference costs 1.1x
(https://docs.anthropic.com/en/docs/build-with-claude/data-residency).
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from claudetop.config import config_from_text
from claudetop.hook.install import _pricer_factory
from claudetop.model import UsageEvent

EVENT = UsageEvent(
    id="e",
    ts=datetime(2026, 11, 20, tzinfo=UTC),
    model="claude-sonnet-4-6",
    input_tokens=1_000_000,
    output_tokens=100_000,
    inference_geo="us",
)
BASE = Decimal(3) + Decimal("0.1") * 15


@pytest.mark.parametrize(
    ("section", "multiplier"),
    [("", Decimal("1.1")), ("[pricing]\nresidency_multiplier = 1\n", Decimal(1)),
     ("[pricing]\nresidency_multiplier = 1.2\n", Decimal("1.2"))],
)  # fmt: skip
def test_us_only_surcharge_follows_the_config(section: str, multiplier: Decimal) -> None:
    pricer = _pricer_factory(config_from_text(section))
    assert pricer is not None
    assert pricer(EVENT) == int(BASE * multiplier * 1_000_000)
