"""A stand-in application for the crash tests, run as a child process the test kills with SIGKILL.

``queue``: defer 2 x 100 requests and submit each hundred as a batch, then defer 500 more that stay
queued (the batch size and wait are not reached on a frozen clock), print READY and wait to be killed.
``resume``: what a restarted app does: start the queue's worker and wait until nothing is pending.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import anthropic

from claudetop.config import BatchingConfig, Config
from claudetop.policies import PolicyEngine, PolicyStore
from claudetop.policies.batching import DeferralQueue
from claudetop.simulate import SimClock

CONFIG = Config(
    batching=BatchingConfig(batch_size=1000, max_wait_s=600, poll_interval_s=60, backoff_cap_s=900)
)


def main(mode: str, base_url: str, sink: Path) -> None:
    clock = SimClock(speed=0 if mode == "queue" else 3600)
    client = anthropic.Anthropic(base_url=base_url, api_key="sk-ant-test")
    engine = PolicyEngine(PolicyStore(sink, config=CONFIG), CONFIG)
    queue = DeferralQueue(sink, client, CONFIG, clock=clock, engine=engine)
    if mode == "queue":
        for _ in range(2):
            for i in range(100):
                queue.enqueue(_params(i), task="summarisation")
            queue.flush()
        for i in range(500):
            queue.enqueue(_params(i), task="summarisation")
        print("READY", flush=True)
        time.sleep(600)
    else:
        queue.start()
        while queue.pending():
            time.sleep(0.02)
        print("DONE", flush=True)


def _params(i: int) -> dict[str, object]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": f"doc {i}"}],
    }


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
