"""``/v1/messages`` and ``/v1/messages/count_tokens``: validation, usage, output and SSE framing.

Validation follows the API for what claudetop relies on: unknown model → 404
``not_found_error``; missing ``max_tokens``/``messages`` or a bad ``cache_control`` (wrong
type or TTL, more than four breakpoints, a 1h breakpoint after a 5m one) → 400
``invalid_request_error``. Usage comes from :mod:`claudetop.simulate.tokens` and
:mod:`claudetop.simulate.cache`. A string ``system`` or message ``content`` is, as the API
documents, shorthand for one text block: both spellings are the same prefix to the cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from claudetop.simulate.cache import CacheUsage, PromptBlock, PromptCache, Ttl
from claudetop.simulate.catalog import model_entry
from claudetop.simulate.errors import ApiError, invalid
from claudetop.simulate.tokens import (
    MESSAGE_OVERHEAD,
    block_tokens,
    canonical,
    output_text,
    requested_output_tokens,
    text_tokens,
    tool_tokens,
)

MAX_BREAKPOINTS = 4
_DELTA_CHARS = 256


@dataclass(frozen=True)
class ParsedRequest:
    model: str
    max_tokens: int
    blocks: list[PromptBlock]
    last_user_text: str
    seed: bytes
    stream: bool
    min_cacheable_tokens: int
    speed: str | None = None
    """``"fast"`` or ``"standard"`` when the request set one: echoed in its usage."""


def _cache_ttl(value: Any, where: str) -> Ttl:
    if not isinstance(value, dict) or value.get("type") != "ephemeral":
        raise invalid(f"{where}.cache_control.type: Input should be 'ephemeral'")
    extra = set(value) - {"type", "ttl"}
    if extra:
        raise invalid(f"{where}.cache_control.{sorted(extra)[0]}: Extra inputs are not permitted")
    ttl = value.get("ttl", "5m")
    if ttl not in ("5m", "1h"):
        raise invalid(f"{where}.cache_control.ttl: Input should be '5m' or '1h'")
    return ttl  # type: ignore[no-any-return]


def _block_ttl(block: Any, where: str) -> Ttl | None:
    if isinstance(block, dict) and "cache_control" in block and block["cache_control"] is not None:
        return _cache_ttl(block["cache_control"], where)
    return None


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text"
        )
    return ""


def _text_block(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


def prompt_blocks(body: dict[str, Any]) -> list[PromptBlock]:
    """The request as cacheable blocks in prefix order, with their breakpoints; validates cache_control."""
    blocks: list[PromptBlock] = []
    tools = body.get("tools") or []
    if not isinstance(tools, list):
        raise invalid("tools: Input should be a valid list")
    for i, tool in enumerate(tools):
        blocks.append(
            PromptBlock("tools", canonical(tool), tool_tokens(tool), _block_ttl(tool, f"tools.{i}"))
        )
    system = body.get("system")
    if isinstance(system, str) and system:
        blocks.append(PromptBlock("system", canonical(_text_block(system)), text_tokens(system)))
    elif isinstance(system, list):
        for i, b in enumerate(system):
            blocks.append(PromptBlock("system", canonical(b), block_tokens(b), _block_ttl(b, f"system.{i}")))
    elif system is not None and not isinstance(system, str):
        raise invalid("system: Input should be a valid string or list of blocks")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid(
            "messages: Field required" if messages is None else "messages: at least one message is required"
        )
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or msg.get("role") not in ("user", "assistant"):
            raise invalid(f"messages.{i}.role: Input should be 'user' or 'assistant'")
        content = msg.get("content")
        role = msg["role"].encode()
        if isinstance(content, str):
            blocks.append(
                PromptBlock(
                    "messages",
                    role + canonical(_text_block(content)),
                    text_tokens(content) + MESSAGE_OVERHEAD,
                )
            )
        elif isinstance(content, list) and content:
            for j, b in enumerate(content):
                tokens = block_tokens(b) + (MESSAGE_OVERHEAD if j == 0 else 0)
                ttl = _block_ttl(b, f"messages.{i}.content.{j}")
                blocks.append(PromptBlock("messages", role + canonical(b), tokens, ttl))
        else:
            raise invalid(f"messages.{i}.content: Input should be a valid string or non-empty list")
    top = body.get("cache_control")
    if top is not None:
        ttl = _cache_ttl(top, "cache_control")
        last = blocks[-1]
        if last.ttl is None:
            blocks[-1] = PromptBlock(last.scope, last.data, last.tokens, ttl)
    marks = [b.ttl for b in blocks if b.ttl is not None]
    if len(marks) > MAX_BREAKPOINTS:
        raise invalid(
            f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {len(marks)}."
        )
    if "1h" in marks and "5m" in marks[: len(marks) - marks[::-1].index("1h")]:
        raise invalid("cache_control: a ttl='1h' cache entry must come before any ttl='5m' entry")
    return blocks


def parse(body: Any, *, require_max_tokens: bool = True) -> ParsedRequest:
    if not isinstance(body, dict):
        raise invalid("request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model: Field required")
    entry = model_entry(model)
    if entry is None:
        raise ApiError("not_found_error", f"model: {model}")
    max_tokens = body.get("max_tokens")
    if require_max_tokens:
        if max_tokens is None:
            raise invalid("max_tokens: Field required")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise invalid("max_tokens: Input should be a valid integer greater than or equal to 1")
    speed = body.get("speed")
    if speed not in (None, "standard", "fast"):
        raise invalid("speed: Input should be 'standard' or 'fast'")
    blocks = prompt_blocks(body)
    users = [m for m in body["messages"] if m.get("role") == "user"]
    last_user = _text_of(users[-1].get("content")) if users else ""
    seed = hashlib.sha256(canonical(body)).digest()
    return ParsedRequest(
        model=model,
        max_tokens=int(max_tokens or 0),
        blocks=blocks,
        last_user_text=last_user,
        seed=seed,
        stream=bool(body.get("stream")),
        min_cacheable_tokens=entry.min_cacheable_tokens,
        speed=speed,
    )


def usage_json(
    cache: CacheUsage, output_tokens: int, service_tier: str, speed: str | None = None
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": cache.input_tokens,
        "cache_creation_input_tokens": cache.cache_creation_input_tokens,
        "cache_read_input_tokens": cache.cache_read_input_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache.cache_write_5m,
            "ephemeral_1h_input_tokens": cache.cache_write_1h,
        },
        "output_tokens": output_tokens,
        "server_tool_use": None,
        "service_tier": service_tier,
    }
    if speed is not None:
        usage["speed"] = speed
    return usage


def complete(
    req: ParsedRequest, cache: PromptCache, message_id: str, service_tier: str, at: float | None = None
) -> dict[str, Any]:
    """Serve one request: apply it to the cache at simulated time ``at`` (default: now), decide the
    output, return the Message JSON."""
    usage = cache.process(req.model, req.blocks, req.min_cacheable_tokens, now=at)
    wanted = requested_output_tokens(req.last_user_text, req.seed)
    out = min(wanted, req.max_tokens)
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": req.model,
        "content": [{"type": "text", "text": output_text(out, req.seed), "citations": None}],
        "stop_reason": "max_tokens" if wanted > req.max_tokens else "end_turn",
        "stop_sequence": None,
        "usage": usage_json(usage, out, service_tier, req.speed),
    }


def count_tokens(body: Any) -> dict[str, int]:
    req = parse(body, require_max_tokens=False)
    return {"input_tokens": sum(b.tokens for b in req.blocks)}


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def sse_events(message: dict[str, Any]) -> Iterator[bytes]:
    """The event sequence of a streamed answer, carrying exactly the usage of ``message``."""
    usage = message["usage"]
    start_usage = {**usage, "output_tokens": min(1, usage["output_tokens"])}
    head = {**message, "content": [], "stop_reason": None, "stop_sequence": None, "usage": start_usage}
    yield _sse("message_start", {"type": "message_start", "message": head})
    for index, block in enumerate(message["content"]):
        yield _sse(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
        )
        if index == 0:
            yield _sse("ping", {"type": "ping"})
        text = block["text"]
        for pos in range(0, len(text), _DELTA_CHARS):
            delta = {"type": "text_delta", "text": text[pos : pos + _DELTA_CHARS]}
            yield _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        yield _sse("content_block_stop", {"type": "content_block_stop", "index": index})
    final_usage = {
        "input_tokens": usage["input_tokens"],
        "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
        "cache_read_input_tokens": usage["cache_read_input_tokens"],
        "output_tokens": usage["output_tokens"],
    }
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    yield _sse("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage})
    yield _sse("message_stop", {"type": "message_stop"})
