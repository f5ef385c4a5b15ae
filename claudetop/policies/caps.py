"""Output caps: a per-task ceiling on ``max_tokens``, because output tokens cost five times input.

Whether a cap is too tight shows in the data: the hook records each event's ``stop_reason``, and
the analysis layer reports the ``max_tokens`` stop rate per task next to the cap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def plan_cap(task: str | None, body: Mapping[str, Any], caps: Mapping[str, int]) -> int | None:
    """The lowered ``max_tokens`` for this request, or ``None`` when it is already within the task's cap."""
    if task is None or task not in caps:
        return None
    cap = caps[task]
    current = body.get("max_tokens")
    if isinstance(current, int) and current <= cap:
        return None
    return cap
