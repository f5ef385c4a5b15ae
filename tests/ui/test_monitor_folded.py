"""The monitor on a snapshot folded from real events by the real aggregator (fixed clock, fixed
events): every key figure shown whole, and pictures at 80x24 and 120x40 in the dark, light and ANSI
themes. Regenerate the pictures deliberately with ``pytest --snapshot-update``."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from claudetop.ui import MonitorApp
from tests.ui.folded_snapshot import folded_events, folded_snapshot
from tests.ui.screen_text import assert_shown_whole, headline_figures, rendered_text
from tests.ui.static_feed import StaticFeed

# Published USD per million tokens (= micro-dollars per token).
SONNET_4_6 = {
    "input": Decimal(3),
    "output": Decimal(15),
    "write_5m": Decimal("3.75"),
    "read": Decimal("0.30"),
}
OPUS_4_7 = {"input": Decimal(5), "output": Decimal(25)}
HAIKU_4_5 = {"input": Decimal(1), "output": Decimal(5), "write_5m": Decimal("1.25")}


def _expected_month_micros() -> int:
    """Month-to-date spend priced here from the published rates, batch results at half price."""
    total = Decimal(0)
    for e in folded_events():
        if e.ts.month != 11:
            continue
        rates = {"claude-sonnet-4-6": SONNET_4_6, "claude-opus-4-7": OPUS_4_7, "claude-haiku-4-5": HAIKU_4_5}[
            e.model or ""
        ]
        cost = (
            e.input_tokens * rates["input"]
            + e.output_tokens * rates["output"]
            + e.cache_write_5m_tokens * rates.get("write_5m", Decimal(0))
            + e.cache_read_tokens * rates.get("read", Decimal(0))
        )
        total += cost / 2 if e.is_batch else cost
    return round(total)


def test_the_folded_month_to_date_matches_published_prices() -> None:
    events_this_month = sum(1 for e in folded_events() if e.ts.month == 11)
    rounding = events_this_month  # the price book rounds each event to a whole micro-dollar
    assert abs(folded_snapshot().header.month_to_date_micros - _expected_month_micros()) <= rounding


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_folded_figures_are_visible_whole(size: tuple[int, int]) -> None:
    snapshot = folded_snapshot()
    text = await rendered_text(snapshot, size)
    assert snapshot.cache.hit_ratio and snapshot.batches.share_of_requests and snapshot.findings
    assert_shown_whole(text, [*headline_figures(snapshot), f"{snapshot.batches.share_of_requests:.0%}"])


@pytest.mark.parametrize("theme", ["dark", "light", "ansi"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_folded_monitor_picture(snap_compare: Any, theme: str, size: tuple[int, int]) -> None:
    app = MonitorApp(StaticFeed(folded_snapshot()), theme=theme, animations=False)
    assert snap_compare(app, terminal_size=size)
