"""Deterministic token counts and output text, so every figure the fake server reports can be recomputed.

The approximation (documented, not a tokenizer): a text costs ``ceil(utf8_bytes / 4)``
tokens (at least 1 when non-empty); each message adds :data:`MESSAGE_OVERHEAD`, each tool
:data:`TOOL_OVERHEAD` plus the tokens of its JSON definition, and a non-text block (image,
document) a flat :data:`MEDIA_BLOCK_TOKENS`. Real tokenizers differ by model; what matters
here is that the same request always counts the same and that longer prompts cost more.

Output length: the last user turn may carry the marker ``[[sim:output_tokens=N]]`` (the
workload writes it into its prompts, like an app whose prompts ask for a given length);
without it the length is derived from a hash of the request, 40-400 tokens. ``max_tokens``
caps it, and a capped answer stops with ``stop_reason="max_tokens"``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

BYTES_PER_TOKEN = 4
MESSAGE_OVERHEAD = 4
TOOL_OVERHEAD = 8
MEDIA_BLOCK_TOKENS = 1_000
_OUTPUT_MARKER = re.compile(r"\[\[sim:output_tokens=(\d+)\]\]")
_PROSE = (
    "the cache reads a stable prefix while routing sends easy work to a smaller model and batches "
    "wait for the nightly window so every token counted here is priced once and shown on screen"
)
_WORDS = tuple(_PROSE.split(" "))


def text_tokens(text: str) -> int:
    size = len(text.encode())
    return math.ceil(size / BYTES_PER_TOKEN) if size else 0


def canonical(value: Any) -> bytes:
    """Stable JSON bytes of a block with ``cache_control`` removed (markers do not change a prefix)."""
    return json.dumps(_strip_cache_control(value), sort_keys=True, separators=(",", ":")).encode()


def _strip_cache_control(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_strip_cache_control(v) for v in value]
    return value


def block_tokens(block: Any) -> int:
    """Tokens of one content block (a string, a text block, a tool_use/tool_result or media)."""
    if isinstance(block, str):
        return text_tokens(block)
    if not isinstance(block, dict):
        return text_tokens(json.dumps(block))
    kind = block.get("type")
    if kind == "text":
        return text_tokens(str(block.get("text", "")))
    if kind in ("image", "document"):
        return MEDIA_BLOCK_TOKENS
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return sum(block_tokens(b) for b in content)
        return text_tokens(str(content))
    return text_tokens(json.dumps(_strip_cache_control(block), sort_keys=True))


def tool_tokens(tool: Any) -> int:
    return TOOL_OVERHEAD + text_tokens(json.dumps(_strip_cache_control(tool), sort_keys=True))


def requested_output_tokens(last_user_text: str, seed: bytes) -> int:
    """What the model "wants" to say: the prompt's marker, else a stable 40-400 from the request hash."""
    match = _OUTPUT_MARKER.search(last_user_text)
    if match:
        return max(1, int(match.group(1)))
    return 40 + int.from_bytes(hashlib.sha256(seed).digest()[:4], "big") % 361


def output_text(tokens: int, seed: bytes) -> str:
    """Deterministic prose of exactly ``tokens`` tokens under :func:`text_tokens` (4 bytes each)."""
    if tokens <= 0:
        return ""
    start = int.from_bytes(hashlib.sha256(seed).digest()[:2], "big")
    words: list[str] = []
    size = 0
    target = tokens * BYTES_PER_TOKEN
    i = start
    while size < target:
        word = _WORDS[i % len(_WORDS)]
        words.append(word)
        size += len(word) + 1
        i += 1
    text = " ".join(words)
    return text[:target].ljust(target, ".")


def marker(tokens: int) -> str:
    """The hint a prompt carries to ask the fake model for an answer of ``tokens`` tokens."""
    return f"[[sim:output_tokens={tokens}]]"
