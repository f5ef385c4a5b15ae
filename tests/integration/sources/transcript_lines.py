"""Claude Code transcript lines as Claude Code writes them, for tests that read real files."""

from __future__ import annotations

import json

HAIKU = "claude-haiku-4-5-20251001"


def assistant_line(mid: str, ts: str, output: int, *, input_tokens: int = 7, model: str = HAIKU) -> str:
    """One streamed line of assistant message ``mid`` (request ``req-<mid>``), without its newline."""
    return json.dumps(
        {
            "type": "assistant", "sessionId": "S9", "version": "2.0.14", "requestId": f"req-{mid}",
            "timestamp": ts, "isSidechain": False,
            "message": {"id": mid, "model": model, "content": [],
                        "usage": {"input_tokens": input_tokens, "output_tokens": output}},
        },
        separators=(",", ":"),  # as Claude Code writes it (ccusage only looks at '"usage":{')
    )  # fmt: skip
