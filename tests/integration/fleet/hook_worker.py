"""One fleet host: ``python -m tests.integration.fleet.hook_worker DSN CALLS HOST``.

Makes ``CALLS`` real SDK calls through an instrumented client against its own in-process fake API,
recording to the PostgreSQL sink; prints the number of calls that succeeded and the hook's stats.
"""

import json
import sys
from dataclasses import asdict

import anthropic

import claudetop
from claudetop.hook.install import stats
from claudetop.simulate import FakeAnthropic, SimClock


def main() -> None:
    dsn, calls = sys.argv[1], int(sys.argv[2])
    msgs = [{"role": "user", "content": "hi"}]
    ok = 0
    with FakeAnthropic(clock=SimClock(speed=0)) as fake, claudetop.task("fleet"):
        bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-fleet", max_retries=0)
        client = claudetop.instrument(bare, sink=dsn, policies=False)
        for _ in range(calls):
            client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=msgs)
            ok += 1
        flushed = claudetop.flush(120.0)
    print(json.dumps({"ok": ok, "flushed": flushed, "stats": [asdict(s) for s in stats()]}))


if __name__ == "__main__":
    main()
