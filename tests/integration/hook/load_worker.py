"""One of the sixteen writer processes: ``python -m tests.integration.hook.load_worker SINK N``.

Each worker serves itself from its own in-process fake API, so the fake is not the bottleneck of
the test; it prints how many calls the fake answered with 200.
"""

import sys

import anthropic

import claudetop
from claudetop.simulate import FakeAnthropic, SimClock


def main() -> None:
    sink, calls = sys.argv[1], int(sys.argv[2])
    msgs = [{"role": "user", "content": "hi"}]
    with FakeAnthropic(clock=SimClock(speed=0)) as fake, claudetop.task("load"):
        bare = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-load", max_retries=0)
        client = claudetop.instrument(bare, sink=sink, policies=False)
        for i in range(calls):
            if i % 10 == 0:
                with client.messages.stream(model="claude-haiku-4-5", max_tokens=8, messages=msgs) as s:
                    s.get_final_message()
            else:
                client.messages.create(model="claude-haiku-4-5", max_tokens=8, messages=msgs)
        print(fake.stats.status_counts.get(200, 0))


if __name__ == "__main__":
    main()
