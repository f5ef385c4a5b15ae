"""claudetop: ``top`` for Anthropic Claude API spend.

The public API is what this module exports; everything else is internal::

    import anthropic, claudetop

    client = claudetop.instrument(anthropic.Anthropic())
    with claudetop.task("extraction"):
        client.messages.create(...)

The names load on first use, so ``import claudetop`` stays cheap (no SDK import until needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from claudetop._lazy import attributes
from claudetop._version import __version__

if TYPE_CHECKING:
    from claudetop.hook import flush, instrument, instrument_all, stats, task
    from claudetop.hook.deferral import deferrable
    from claudetop.policies import record_eval

_LAZY = {
    "deferrable": "claudetop.hook.deferral",
    "instrument": "claudetop.hook",
    "instrument_all": "claudetop.hook",
    "task": "claudetop.hook",
    "flush": "claudetop.hook",
    "stats": "claudetop.hook",
    "record_eval": "claudetop.policies",
}


__getattr__ = attributes(__name__, _LAZY)


__all__ = [
    "__version__",
    "deferrable",
    "flush",
    "instrument",
    "instrument_all",
    "record_eval",
    "stats",
    "task",
]
