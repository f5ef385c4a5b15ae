"""The monitor renders a fixed snapshot with every key figure readable at 80x24 and at 120x40."""

from __future__ import annotations

import pytest

from claudetop.ui import MonitorApp
from tests.ui.fixed_snapshot import fixed_snapshot
from tests.ui.screen_text import assert_shown_whole, headline_figures, rendered_text, screen_text
from tests.ui.static_feed import StaticFeed


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_key_figures_are_visible_whole(size: tuple[int, int]) -> None:
    snapshot = fixed_snapshot()
    text = await rendered_text(snapshot, size)
    assert_shown_whole(text, [*headline_figures(snapshot), f"{snapshot.batches.requests_processing:,}"])
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
