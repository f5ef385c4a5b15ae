"""Finding usage lines in Claude Code transcript bytes, in this process or across worker processes.

A cold read of months of history is mostly bytes that hold no usage (message content, tool results),
so the scan searches whole blocks for ``"usage":{`` and parses only the lines that contain it, with
``orjson``. Files (and large files in line-aligned pieces) are ``Span``s; ``scan_spans`` hands them to
a pool of forked workers, one per core, and yields their results in span order so that what the
caller does with them (ccusage's order-dependent deduplication) is exactly what a sequential read
would do. Workers return plain tuples (``Record``), not models: pickling them back is cheap.

The per-line rules are ccusage's (see ``claudetop.sources.claude_code``).
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from claudetop.sources.follow import count_newlines

USAGE_MARKER = b'"usage":{'
_NULL_KEYS = frozenset(
    b"id cwd model speed costUSD version sessionId requestId isApiErrorMessage cache_read_input_tokens "
    b"cache_creation_input_tokens".split()
)
_SEMVER_PREFIX = re.compile(r"^\d+\.\d+\.\d")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?(?:Z|[+-]\d\d:\d\d)$")
BLOCK_BYTES = 8 * 1024 * 1024
PIECE_BYTES = 32 * 1024 * 1024
PARALLEL_MIN_BYTES = 16 * 1024 * 1024
"""Below this much to read, forking workers costs more than it saves (a monitor's incremental polls)."""

Record = tuple[
    str, str | None, str | None, bool, str, str | None, str | None, int, int, int, int, int, bool, int, bool
]
"""``(event_id, message_id, request_id, sidechain, ts, model, session, input, output, write_5m,
write_1h, cache_read, fast, web_searches, us_geo)``: one usage line that ccusage would count; ``ts``
is ISO 8601 in UTC; ``fast`` when the usage says ``speed: "fast"`` (fast mode, priced at its own
rates); ``web_searches`` from ``server_tool_use`` (billed per search); ``us_geo`` when
``inference_geo`` is ``"us"`` (US-only inference, billed at a premium)."""


class NotJson(ValueError):
    """A transcript line that looked like usage but is not JSON: counted as garbage."""


def _utc_iso(text: object) -> str | None:
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    if text.endswith("Z"):
        return text
    return ts.astimezone(UTC).isoformat()


def _uint(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _usage_of(message: object) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if not isinstance(message, dict):
        return None
    usage = message.get("usage")
    if not isinstance(usage, dict) or _uint(usage.get("input_tokens")) is None:
        return None
    if _uint(usage.get("output_tokens")) is None:
        return None
    return message, usage


def _direct(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    if not isinstance(data.get("timestamp"), str):
        return None
    found = _usage_of(data.get("message"))
    return None if found is None else (data, *found)


def _agent_progress(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """A subagent's message echoed in the parent transcript: ``{"data": {"message": {...}}}``."""
    inner = data.get("data")
    inner = inner.get("message") if isinstance(inner, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("timestamp"), str):
        return None
    found = _usage_of(inner.get("message"))
    if found is None:
        return None
    outer = {k: inner.get(k) for k in ("timestamp", "requestId", "isSidechain", "uuid", "costUSD")}
    return outer, *found


def _has_null_field(line: bytes) -> bool:
    """Whether ``"<key>":null`` occurs anywhere in the line for one of ccusage's identity keys (the
    same test as a regex alternation over the keys, without running it over the whole line)."""
    find, rfind = line.find, line.rfind
    pos = find(b'":null')
    while pos >= 0:
        quote = rfind(b'"', 0, pos)
        if quote >= 0 and line[quote + 1 : pos] in _NULL_KEYS:
            return True
        pos = find(b'":null', pos + 6)
    return False


def parse_line(line: bytes, fallback_id: str) -> Record | None:
    """The usage a transcript line carries, or None when ccusage's rules would skip it.

    Raises ``NotJson`` for a line with the usage marker that does not parse at all.
    """
    if USAGE_MARKER not in line:
        return None
    return _parse_marked(line, fallback_id, -1)


def _semver_prefixed(version: str) -> bool:
    known = _VERSIONS.get(version)
    if known is None:
        known = _VERSIONS[version] = _SEMVER_PREFIX.match(version) is not None
        if len(_VERSIONS) > 10_000:
            _VERSIONS.clear()
    return known


_VERSIONS: dict[str, bool] = {}
"""Whether a ``version`` starts like a semver, per value: every line repeats one of a few versions."""


def _parse_marked(line: bytes, path: str, offset: int) -> Record | None:
    """``parse_line`` of a line known to hold the usage marker; its fallback id (for a line with neither
    message id nor uuid) is ``path`` itself when ``offset`` < 0, else ``cc:<path>:@<offset>``."""
    if b'":null' in line and _has_null_field(line):
        return None
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as err:
        raise NotJson(str(err)) from None
    if not isinstance(data, dict):
        return None
    found = _direct(data) or _agent_progress(data)
    if found is None:
        return None
    outer, message, usage = found
    ts = _utc_iso(outer.get("timestamp"))
    if ts is None:
        return None
    version, session = outer.get("version"), outer.get("sessionId")
    request_id, sidechain = outer.get("requestId"), outer.get("isSidechain")
    message_id, model = message.get("id"), message.get("model")
    for value in (version, session, request_id, message_id, model):
        if value is not None and (not isinstance(value, str) or value == ""):
            return None
    if version is not None and not _semver_prefixed(version):
        return None
    if sidechain is not None and not isinstance(sidechain, bool):
        return None
    cost_usd = outer.get("costUSD")
    if cost_usd is not None and (isinstance(cost_usd, bool) or not isinstance(cost_usd, int | float)):
        return None
    speed = usage.get("speed")
    if speed not in (None, "standard", "fast"):
        return None
    breakdown = usage.get("cache_creation")
    if isinstance(breakdown, dict):
        write_5m = _uint(breakdown.get("ephemeral_5m_input_tokens", 0))
        write_1h = _uint(breakdown.get("ephemeral_1h_input_tokens", 0))
    else:
        write_5m, write_1h = _uint(usage.get("cache_creation_input_tokens", 0)), 0
    read = _uint(usage.get("cache_read_input_tokens", 0))
    if write_5m is None or write_1h is None or read is None:
        return None
    server = usage.get("server_tool_use")
    searches = _uint(server.get("web_search_requests", 0)) if isinstance(server, dict) else 0
    if message_id is not None:
        event_id = f"cc:{message_id}:{request_id or ''}"[:200]
    else:
        uuid = outer.get("uuid")
        if isinstance(uuid, str) and uuid:
            event_id = f"cc:{uuid}"
        else:
            event_id = path if offset < 0 else f"cc:{path}:@{offset}"
    return (
        _intern(event_id), _intern_opt(message_id), _intern_opt(request_id), sidechain is True, ts,
        _intern_opt(model), _intern_opt(session),
        usage["input_tokens"], usage["output_tokens"], write_5m, write_1h, read, speed == "fast",
        searches or 0, usage.get("inference_geo") == "us",
    )  # fmt: skip


_intern = sys.intern
"""The streaming lines of one message repeat its ids, model and session: one shared string each makes
a worker's results pickle as back-references, a fraction of the bytes and of the parent's unpickling."""


def _intern_opt(text: str | None) -> str | None:
    return None if text is None else _intern(text)


@dataclass(frozen=True)
class Span:
    """Bytes ``[start, end)`` of one file (by inode); ``start`` is a line start, ``end`` the file's
    size when the span is its last piece, else a line start too."""

    path: str
    dev: int
    ino: int
    start: int
    end: int


@dataclass
class SpanResult:
    span: Span
    records: list[Record] = field(default_factory=list)
    garbage: list[tuple[int, int, str]] = field(default_factory=list)
    """``(byte offset of the line, lines before it in the span, reason)`` for each usage-looking line
    that is not JSON (counted here, while its bytes are in memory, not by reading the file again)."""
    consumed: int = 0
    """Where complete lines end: the next read of the file starts here (``span.start`` if none)."""
    same_file: bool = True
    """False when the path now names another inode (renamed since the scan): nothing was read."""
    unreadable: str | None = None
    """Why the file could not be opened (e.g. permission denied): nothing was read."""


def scan_span(span: Span) -> SpanResult:
    """Every usage record in the complete lines of ``span``, in file order."""
    result = SpanResult(span, consumed=span.start)
    try:
        handle = open(span.path, "rb", buffering=0)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        result.same_file = False
        return result
    except OSError as err:
        result.unreadable = err.strerror or type(err).__name__
        return result
    with handle:
        st = os.fstat(handle.fileno())
        if (st.st_dev, st.st_ino) != (span.dev, span.ino):
            result.same_file = False
            return result
        handle.seek(span.start)
        base = span.start
        carry = b""
        while base + len(carry) < span.end:
            block = handle.read(min(BLOCK_BYTES, span.end - base - len(carry)))
            if not block:
                break
            data = carry + block if carry else block
            last = data.rfind(b"\n") + 1
            _scan_block(data, last, base, span, result)
            carry = data[last:]
            base += last
        result.consumed = base
        if USAGE_MARKER in carry:
            _take_unterminated(carry, span, result)
    return result


def _take_unterminated(line: bytes, span: Span, result: SpanResult) -> None:
    """A usage line that ends the file without a newline (a copied or edited transcript; Claude Code
    itself writes whole lines) counts as ccusage counts it, once it parses: a JSON object that
    parses is complete, while one still being written does not parse and waits for the rest."""
    try:
        record = _parse_marked(line, span.path, result.consumed)
    except NotJson:
        return
    result.consumed += len(line)
    if record is not None:
        result.records.append(record)


def _scan_block(data: bytes, limit: int, base: int, span: Span, result: SpanResult) -> None:
    find, rfind = data.find, data.rfind
    before: int | None = None
    pos = find(USAGE_MARKER, 0, limit)
    while pos >= 0:
        start = rfind(b"\n", 0, pos) + 1
        end = find(b"\n", pos, limit)
        try:
            record = _parse_marked(data[start:end], span.path, base + start)
        except NotJson as err:
            if before is None:
                before = count_newlines(span.path, span.start, base)
            line = before + data.count(b"\n", 0, start)
            result.garbage.append((base + start, line, str(err)[:120]))
            record = None
        if record is not None:
            result.records.append(record)
        pos = find(USAGE_MARKER, end, limit)


def split_file(path: str, dev: int, ino: int, start: int, size: int) -> list[Span]:
    """``[start, size)`` of a file as spans of about ``PIECE_BYTES`` cut at line starts."""
    piece = PIECE_BYTES
    cuts = [start]
    if size - start > piece:
        try:
            with open(path, "rb") as handle:
                at = start + piece
                while at < size:
                    handle.seek(at)
                    newline = -1
                    probe = at
                    while newline < 0 and probe < size:
                        block = handle.read(65536)
                        if not block:
                            break
                        newline = block.find(b"\n")
                        probe += len(block) if newline < 0 else newline + 1
                    if newline < 0 or probe >= size:
                        break
                    cuts.append(probe)
                    at = probe + piece
        except OSError:
            cuts = [start]
    bounds = [*cuts, size]
    return [Span(path, dev, ino, a, b) for a, b in itertools.pairwise(bounds) if b > a]


def workers_for(total_bytes: int) -> int:
    """How many processes to scan with: one per core for a large read, else none (this process).

    Forking a process that runs other threads can copy a lock some thread holds, so a multi-threaded
    caller (the monitor) reads in its own thread instead.
    """
    if total_bytes < PARALLEL_MIN_BYTES or threading.active_count() > 1:
        return 1
    import multiprocessing  # only for a read worth forking for

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def scan_spans(spans: Sequence[Span], workers: int) -> Iterator[SpanResult]:
    """``scan_span`` over ``spans``, in order; with ``workers`` > 1 in that many forked processes."""
    if workers <= 1 or len(spans) <= 1:
        yield from map(scan_span, spans)
        return
    import multiprocessing

    chunksize = max(1, len(spans) // (workers * 16))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from pool.imap(scan_span, spans, chunksize)
