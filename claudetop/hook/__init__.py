"""The client hook: records every Claude API call an application makes, cheaply, and fails open.

Public entry points are re-exported from ``claudetop``: ``instrument``, ``instrument_all``, ``task``.
"""

from claudetop.hook.install import (
    flush,
    instrument,
    instrument_all,
    is_instrumented,
    make_middleware,
    stats,
    uninstrument_all,
)
from claudetop.hook.middleware import ClaudetopMiddleware
from claudetop.hook.tags import TASK_HEADER, current_task, task
from claudetop.hook.writer import HookStats

__all__ = [
    "TASK_HEADER",
    "ClaudetopMiddleware",
    "HookStats",
    "current_task",
    "flush",
    "instrument",
    "instrument_all",
    "is_instrumented",
    "make_middleware",
    "stats",
    "task",
    "uninstrument_all",
]
