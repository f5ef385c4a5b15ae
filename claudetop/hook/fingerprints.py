"""Fingerprints of cacheable prompt prefixes: SHA-256 hashes and approximate lengths, never text.

The API caches prefixes in the order tools → system → messages, up to each ``cache_control``
breakpoint. Hashing the same sequence incrementally gives one digest per prefix end, so two
requests share a digest exactly when they share that prefix. ``cache_control`` markers are
removed before hashing: adding or moving a breakpoint does not change what the prefix *is*,
which is what lets the monitor tell "same prompt, new breakpoint" from "prompt drifted".

The canonical form is ``json.dumps(sort_keys=True, separators=(",", ":"))``, fixed so digests stay
comparable across versions and hosts. ``orjson`` writes the same bytes fifty times faster for
the usual block (ASCII text, no floats); anything else takes the ``json`` path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any, Literal

import orjson

from claudetop.model import PrefixFingerprint

Scope = Literal["tools", "system", "messages"]

BYTES_PER_TOKEN = 4
"""Rough size of a token in canonical JSON; good enough to rank prefixes and compare to minimums."""


def _has_float(value: Any) -> bool:
    """Walks the value, not its text: cost grows with the nodes (few), not with the bytes (many)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, float):
            return True
    return False


def _canonical(block: Any) -> bytes:
    """Sorted-key compact JSON of a block without its own ``cache_control`` marker.

    ``orjson`` differs from ``json`` only in what it leaves unescaped (non-ASCII, DEL) and in how it
    writes some floats (``0.00001`` for ``1e-05``); those blocks, and what it cannot encode (lone
    surrogates, integers past 64 bits), are written by ``json``.
    """
    if isinstance(block, dict) and "cache_control" in block:
        block = {k: v for k, v in block.items() if k != "cache_control"}
    try:
        fast = orjson.dumps(block, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        fast = None
    if fast is not None and fast.isascii() and b"\x7f" not in fast and not _has_float(block):
        return fast
    return json.dumps(block, sort_keys=True, separators=(",", ":")).encode()


def _ttl(block: Any) -> Literal["5m", "1h"] | None:
    control = block.get("cache_control") if isinstance(block, dict) else None
    if not isinstance(control, dict):
        return None
    return "1h" if control.get("ttl") == "1h" else "5m"


def _blocks(body: dict[str, Any]) -> Iterator[tuple[Scope, Any, Any, bool]]:
    """Every cacheable unit in prefix order: scope, what is hashed, the block itself, section end."""
    tools = body.get("tools")
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            yield "tools", tool, tool, i == len(tools) - 1
    system = body.get("system")
    if isinstance(system, str):
        yield "system", {"type": "text", "text": system}, None, True
    elif isinstance(system, list):
        for i, block in enumerate(system):
            yield "system", block, block, i == len(system) - 1
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            if not isinstance(message, dict):
                continue
            role, content = message.get("role"), message.get("content")
            if isinstance(content, str):
                yield "messages", {"role": role, "text": content}, None, False
            elif isinstance(content, list):
                for block in content:
                    yield "messages", {"role": role, "block": block}, block, False


def prefix_fingerprints(body: dict[str, Any]) -> tuple[PrefixFingerprint, ...]:
    """One fingerprint per section end (tools, system) and per ``cache_control`` breakpoint.

    The model id is hashed first because caches are per model. A top-level ``cache_control``
    (the API's automatic mode) marks the last block of the request.
    """
    hasher = hashlib.sha256(_canonical(body.get("model")))
    size = 0
    out: list[PrefixFingerprint] = []
    last_scope: Scope | None = None
    last_marked = last_recorded = False
    for scope, hashed, block, ends_section in _blocks(body):
        encoded = _canonical(hashed)
        hasher.update(len(encoded).to_bytes(8, "big"))
        hasher.update(encoded)
        size += len(encoded)
        ttl = _ttl(block)
        last_scope, last_marked = scope, ttl is not None
        last_recorded = ttl is not None or (ends_section and scope != "messages")
        if last_recorded:
            out.append(_fingerprint(scope, hasher, size, ttl))
    top = _ttl(body)
    if top is not None and last_scope is not None and not last_marked:
        if last_recorded:
            out.pop()
        out.append(_fingerprint(last_scope, hasher, size, top))
    return tuple(out)


def _fingerprint(scope: Scope, hasher: Any, size: int, ttl: Literal["5m", "1h"] | None) -> PrefixFingerprint:
    return PrefixFingerprint(
        scope=scope,
        sha256=hasher.copy().hexdigest(),
        tokens=size // BYTES_PER_TOKEN,
        breakpoint=ttl is not None,
        ttl=ttl,
    )
