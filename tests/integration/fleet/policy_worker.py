"""A fleet host following the policy table: ``python -m tests.integration.fleet.policy_worker DSN SECONDS``.

Calls the fake API through an instrumented client (policies on, ``output_caps`` for task ``fleet``
configured at 16 tokens) for ``SECONDS``; the sink records each request's ``max_tokens``.
"""

import sys
import time

import anthropic

import claudetop
from claudetop.config import config_from_data
from claudetop.simulate import FakeAnthropic, SimClock

CAP = 16


def main() -> None:
    dsn, seconds = sys.argv[1], float(sys.argv[2])
    msgs = [{"role": "user", "content": "hi"}]
    config = config_from_data({"output_caps": {"fleet": CAP}})
    with FakeAnthropic(clock=SimClock(speed=0)) as fake, claudetop.task("fleet"):
        bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-fleet", max_retries=0)
        client = claudetop.instrument(bare, sink=dsn, config=config)
        print("ready", flush=True)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            client.messages.create(model="claude-haiku-4-5", max_tokens=64, messages=msgs)
            time.sleep(0.01)
        claudetop.flush(30.0)


if __name__ == "__main__":
    main()
