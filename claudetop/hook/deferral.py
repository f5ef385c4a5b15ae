"""``claudetop.deferrable(client)``: the public face of batch deferral, tagged like every other call.

The queue, the batches and the policy check live in ``claudetop.policies.batching``; this wrapper
only fills in what the hook knows: the task tag of the calling code (``claudetop.task``), so a
deferred request is recorded under the same task as it would have been when sent at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, overload

import anthropic

from claudetop.config import Config
from claudetop.hook.tags import current_task

if TYPE_CHECKING:
    from claudetop.policies.batching import AsyncDeferrable, Clock, Deferrable


@overload
def deferrable(
    client: anthropic.Anthropic,
    *,
    sink: str | Path | None = ...,
    config: Config | None = ...,
    clock: Clock | None = ...,
) -> Deferrable: ...


@overload
def deferrable(
    client: anthropic.AsyncAnthropic,
    *,
    sink: str | Path | None = ...,
    config: Config | None = ...,
    clock: Clock | None = ...,
) -> AsyncDeferrable: ...


def deferrable(
    client: anthropic.Anthropic | anthropic.AsyncAnthropic,
    *,
    sink: str | Path | None = None,
    config: Config | None = None,
    clock: Clock | None = None,
) -> Deferrable | AsyncDeferrable:
    """``deferrable(client).messages.create(...)`` returns a ``DeferredHandle``: run at once while the
    batching policy is off or shadow, queued for a Message Batch (50% off) while it is enforced.

    Pass the instrumented client and the same ``sink`` as ``instrument``; ``clock`` times the queue
    (wall clock by default; ``claudetop.simulate.SimClock`` in simulations). Call ``.close()`` at exit.
    """
    from claudetop.policies.batching import deferrable as make

    return make(client, sink=sink, config=config, clock=clock, task_of=current_task)
