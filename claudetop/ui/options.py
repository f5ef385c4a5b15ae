"""What the monitor is asked to watch and how to show it: the CLI's options, as plain data, so
``claudetop`` and ``claudetop demo`` open the same app the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path


@dataclass(frozen=True)
class MonitorOptions:
    sinks: tuple[str, ...] = ()
    """SQLite paths, ``.jsonl`` paths or ``postgresql://`` URLs; empty means the configured sink."""
    jsonl: tuple[Path, ...] = ()
    claude_code: tuple[Path, ...] = ()
    """Claude Code transcript directories; empty means the default location, if it exists."""
    no_claude_code: bool = False
    delay_s: float | None = None
    """Refresh interval; ``None`` means the config's ``monitoring.refresh_interval_s``."""
    theme: str | None = None
    budget_usd: Decimal | None = None
    alert_state: Path | None = None
    """Where fired budget alerts are recorded (``analysis.budget``); with it and a budget, thresholds
    fire and run ``monitoring.alert_command``. ``None`` (the demo, on simulated spend): none fire."""
    config: Path | None = None
    no_color: bool = False
    animations: bool = True
    clock: Callable[[], datetime] | None = None
    """The monitor's "now" (month to date, windows, burn rate); ``None``: the wall clock. ``claudetop
    demo`` passes its simulated clock, which dates the events it records."""
