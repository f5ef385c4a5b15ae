"""The characters on a test app's screen, line by line: what a person at the terminal would read."""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.app import App

from claudetop.model import Snapshot, format_usd
from claudetop.ui import MonitorApp
from tests.ui.static_feed import StaticFeed


def screen_text(app: App[object]) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def assert_shown_whole(text: str, figures: Iterable[str]) -> None:
    """Each figure is on screen with nothing cut off either side: ``$1,234.56`` never shows as ``$1,23``."""
    for figure in figures:
        assert re.search(rf"(?<![\d$.,]){re.escape(figure)}(?![\d.,])", text), (
            f"{figure} not shown whole:\n{text}"
        )


async def rendered_text(snapshot: Snapshot, size: tuple[int, int]) -> str:
    """The monitor's screen showing ``snapshot`` in a terminal of ``size``."""
    app = MonitorApp(StaticFeed(snapshot))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return screen_text(app)


def headline_figures(snapshot: Snapshot) -> list[str]:
    """The figures every layout must show: spend, projection, hit ratio, top model, batch savings."""
    return [
        format_usd(snapshot.header.month_to_date_micros),
        format_usd(snapshot.header.projected_month_micros),
        f"{snapshot.cache.hit_ratio:.0%}",
        f"{snapshot.mix.by_model[0].call_share:.0%}",
        format_usd(snapshot.mix.by_model[0].cost_micros),
        format_usd(snapshot.batches.saved_micros),
    ]
