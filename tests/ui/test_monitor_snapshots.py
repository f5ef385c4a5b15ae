"""Pictures of the monitor (pytest-textual-snapshot) on a fixed snapshot: 80x24 and 120x40 in the
dark, light and ANSI themes. Regenerate deliberately with ``pytest --snapshot-update``."""

from __future__ import annotations

from typing import Any

import pytest

from claudetop.ui import MonitorApp
from tests.ui.fixed_snapshot import fixed_snapshot
from tests.ui.static_feed import StaticFeed


@pytest.mark.parametrize("theme", ["dark", "light", "ansi"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_monitor_picture(snap_compare: Any, theme: str, size: tuple[int, int]) -> None:
    app = MonitorApp(StaticFeed(fixed_snapshot()), theme=theme, animations=False)
    assert snap_compare(app, terminal_size=size)
