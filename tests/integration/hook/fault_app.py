"""A small application for the fault tests: runs a fixed workload and prints everything the SDK returned.

Usage: ``python -m tests.integration.hook.fault_app MODE SINK`` where MODE is ``bare`` (no hook) or
``hooked``; ``CLAUDETOP_FAULT`` injects a bug into claudetop itself (``middleware`` or ``writer``).
The fake API runs in this process with a fixed seed, so two runs serve identical bytes.
"""

import os
import sys
from typing import Any

import anthropic

import claudetop
from claudetop.simulate import FakeAnthropic, SimClock
from claudetop.simulate.tokens import marker


def _inject_bug(where: str) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("injected claudetop bug")

    if where == "middleware":
        import claudetop.hook.middleware as middleware

        middleware.call_site = broken  # type: ignore[assignment]
    elif where == "writer":
        from claudetop.hook.assemble import Assembler

        Assembler.add = broken  # type: ignore[method-assign]


def workload(client: anthropic.Anthropic) -> list[str]:
    out: list[str] = []
    system = [{"type": "text", "text": "Be brief. " * 500, "cache_control": {"type": "ephemeral"}}]
    for i in range(3):
        msgs = [{"role": "user", "content": f"question {i} {marker(20)}"}]
        out.append(
            client.messages.create(
                model="claude-sonnet-4-6", max_tokens=50, system=system, messages=msgs
            ).to_json()
        )
        stream = client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=msgs, stream=True)
        out.extend(event.to_json() for event in stream)
    out.append(
        client.messages.count_tokens(
            model="claude-sonnet-4-6", messages=[{"role": "user", "content": "x"}]
        ).to_json()
    )
    try:
        client.messages.create(model="claude-nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    except anthropic.APIStatusError as err:
        out.append(f"{type(err).__name__} {err.status_code} {err.body}")
    return out


def main() -> None:
    mode, sink = sys.argv[1], sys.argv[2]
    if fault := os.environ.get("CLAUDETOP_FAULT"):
        _inject_bug(fault)
    with FakeAnthropic(clock=SimClock(speed=0)) as fake:
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
        if mode == "hooked":
            client = claudetop.instrument(client, sink=sink, policies=False)
        for line in workload(client):
            print(line)


if __name__ == "__main__":
    main()
