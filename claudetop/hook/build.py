"""Turning captures into ``UsageEvent`` fields, on the writer thread: JSON parsing and usage math.

Pure functions of bytes and numbers, so each rule (which usage field wins in a stream, how a
missing 5m/1h split is read, how compaction iterations add up) is tested on its own.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

from claudetop.hook.attempt import Attempt
from claudetop.hook.fingerprints import prefix_fingerprints

TokenFields = dict[str, int]

_STATUS_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


def api_key_fingerprint(key: str) -> str:
    """First 12 hex digits of the key's SHA-256: tells keys apart, reveals nothing."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def loads(data: bytes | None) -> Any:
    """Parsed JSON, or ``None``. ``orjson`` first; ``json`` for what it refuses but ``json`` reads
    (``NaN``, integers past 64 bits, lone surrogates), so the result never depends on the parser."""
    if not data:
        return None
    try:
        return orjson.loads(data)
    except ValueError:
        pass
    try:
        return json.loads(data)
    except ValueError:
        return None


_INT_MAX = 2**63 - 1
"""The largest integer the sinks store (SQLite and PostgreSQL 64-bit integers)."""


def _int(value: Any) -> int:
    return min(value, _INT_MAX) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _usage_tokens(usage: dict[str, Any]) -> TokenFields:
    """Token fields from one Anthropic usage object (``input_tokens`` is uncached input only).

    Without the ``cache_creation`` split every cache write is a 5-minute write, the API's default.
    """
    created = _int(usage.get("cache_creation_input_tokens"))
    split = usage.get("cache_creation")
    if isinstance(split, dict):
        five, hour = (
            _int(split.get("ephemeral_5m_input_tokens")),
            _int(split.get("ephemeral_1h_input_tokens")),
        )
        if five + hour == 0:
            five = created
    else:
        five, hour = created, 0
    details = usage.get("output_tokens_details")
    server = usage.get("server_tool_use")
    return {
        "input_tokens": _int(usage.get("input_tokens")),
        "output_tokens": _int(usage.get("output_tokens")),
        "cache_write_5m_tokens": five,
        "cache_write_1h_tokens": hour,
        "cache_read_tokens": _int(usage.get("cache_read_input_tokens")),
        "thinking_tokens": _int(details.get("thinking_tokens")) if isinstance(details, dict) else 0,
        "web_search_requests": _int(server.get("web_search_requests")) if isinstance(server, dict) else 0,
        "web_fetch_requests": _int(server.get("web_fetch_requests")) if isinstance(server, dict) else 0,
    }


def usage_fields(usage: Any) -> dict[str, Any]:
    """Tokens and usage attributes of a message's usage object.

    When ``iterations`` is present (compaction, server tool loops) the top level may describe
    only the last iteration; the bill is the sum of the iterations' tokens. Server tool requests
    (web searches and fetches) are only counted at the top level: iterations do not carry them.
    """
    if not isinstance(usage, dict):
        return {}
    tokens = _usage_tokens(usage)
    iterations = usage.get("iterations")
    if isinstance(iterations, list) and iterations and all(isinstance(i, dict) for i in iterations):
        tools = {key: tokens[key] for key in ("web_search_requests", "web_fetch_requests")}
        tokens = {}
        for part in iterations:
            for key, value in _usage_tokens(part).items():
                tokens[key] = tokens.get(key, 0) + value
        tokens.update(tools)
    out: dict[str, Any] = dict(tokens)
    for key in ("service_tier", "inference_geo", "speed"):
        if isinstance(usage.get(key), str):
            out[key] = usage[key]
    return out


def message_fields(message: Any) -> dict[str, Any]:
    """Model, stop reason and usage of a complete ``Message`` JSON object."""
    if not isinstance(message, dict):
        return {}
    out = usage_fields(message.get("usage"))
    if isinstance(message.get("model"), str):
        out["model"] = message["model"]
    if isinstance(message.get("stop_reason"), str):
        out["stop_reason"] = message["stop_reason"]
    return out


def stream_fields(lines: list[bytes]) -> dict[str, Any]:
    """Usage of a streamed message from its ``message_start`` and ``message_delta`` events.

    ``message_start`` carries input and cache fields (the 5m/1h split only there);
    ``message_delta`` carries cumulative output and, on newer API versions, cumulative input
    fields, which then win. An ``error`` event sets the error type.
    """
    out: dict[str, Any] = {}
    usage: dict[str, Any] = {}
    for raw in lines:
        event = loads(raw.strip())
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind == "message_start" and isinstance(event.get("message"), dict):
            message = event["message"]
            if isinstance(message.get("model"), str):
                out["model"] = message["model"]
            if isinstance(message.get("usage"), dict):
                usage = dict(message["usage"])
        elif kind == "message_delta":
            delta_usage = event.get("usage")
            if isinstance(delta_usage, dict):
                usage.update({k: v for k, v in delta_usage.items() if v is not None})
            delta = event.get("delta")
            if isinstance(delta, dict) and isinstance(delta.get("stop_reason"), str):
                out["stop_reason"] = delta["stop_reason"]
        elif kind == "error":
            out["error_type"] = error_type_of(event) or "stream_error"
    out.update(usage_fields(usage))
    return out


def error_type_of(body: Any) -> str | None:
    """``error.type`` of an API error body (``{"type": "error", "error": {"type": ...}}``)."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        kind = body["error"].get("type")
        return kind if isinstance(kind, str) else None
    return None


def status_error_type(status: int) -> str:
    return _STATUS_ERROR_TYPES.get(status, "api_error" if status >= 500 else f"http_{status}")


def request_fields(body: Any) -> dict[str, Any]:
    """What the request asked for: model, ``max_tokens``, and its prefix fingerprints."""
    if not isinstance(body, dict):
        return {}
    out: dict[str, Any] = {"prefixes": prefix_fingerprints(body)}
    if isinstance(body.get("model"), str):
        out["requested_model"] = body["model"]
    if isinstance(body.get("max_tokens"), int):
        out["max_tokens"] = _int(body["max_tokens"])
    return out


def latency_ms(attempt: Attempt, first_started: float) -> tuple[float | None, float | None]:
    """Wall time of the call (from its first attempt, so retries count) and time to first token."""
    if attempt.ended is None:
        return None, None
    total = max(0.0, (attempt.ended - first_started) * 1000)
    ttft = None if attempt.first_token is None else max(0.0, (attempt.first_token - first_started) * 1000)
    return total, ttft
