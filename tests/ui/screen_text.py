"""The characters on a test app's screen, line by line: what a person at the terminal would read."""

from __future__ import annotations

import re
from collections.abc import Iterable

from textual.app import App


def screen_text(app: App[object]) -> str:
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


def assert_shown_whole(text: str, figures: Iterable[str]) -> None:
    """Each figure is on screen with nothing cut off either side: ``$1,234.56`` never shows as ``$1,23``."""
    for figure in figures:
        assert re.search(rf"(?<![\d$.,]){re.escape(figure)}(?![\d.,])", text), (
            f"{figure} not shown whole:\n{text}"
        )
