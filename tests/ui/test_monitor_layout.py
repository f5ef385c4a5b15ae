"""The monitor renders a fixed snapshot with every key figure readable at 80x24 and at 120x40."""

from __future__ import annotations

import pytest

from claudetop.model import format_usd
from claudetop.ui import MonitorApp
from tests.ui.fixed_snapshot import fixed_snapshot
from tests.ui.screen_text import assert_shown_whole, screen_text
from tests.ui.static_feed import StaticFeed


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_key_figures_are_visible_whole(size: tuple[int, int]) -> None:
    snapshot = fixed_snapshot()
    app = MonitorApp(StaticFeed(snapshot))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        text = screen_text(app)
    expected = [
        format_usd(snapshot.header.month_to_date_micros),
        format_usd(snapshot.header.projected_month_micros),
        f"{snapshot.cache.hit_ratio:.0%}",
        f"{snapshot.mix.by_model[0].call_share:.0%}",
        format_usd(snapshot.mix.by_model[0].cost_micros),
        f"{snapshot.batches.requests_processing:,}",
        format_usd(snapshot.batches.saved_micros),
    ]
    assert_shown_whole(text, expected)
    for row in snapshot.policies:
        assert row.mode.value in text


async def test_empty_snapshot_says_what_to_do() -> None:
    from claudetop.model import Snapshot
    from tests.ui.fixed_snapshot import NOW

    app = MonitorApp(StaticFeed(Snapshot.empty(NOW)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        text = screen_text(app)
    assert "claudetop.instrument(" in text
    assert "claudetop demo" in text
