"""Taps on streamed response bodies: they see every chunk the application reads, and change none.

The SDK reads a streamed body through ``httpx2.Response.stream``; the hook wraps that object (the
same extension point the SDK's own tracing uses) with a byte stream that passes each chunk on
unchanged and keeps only what usage needs:

- server-sent events (``stream=True``, ``messages.stream()``): the ``data:`` lines of
  ``message_start`` / ``message_delta`` / ``error`` events and the time of the first content delta;
- JSON lines (batch results): each complete line is handed to the writer as it arrives;
- any other body (``with_streaming_response``): the bytes, up to a cap.

When the application stops early — breaks out of the loop, closes the stream, or drops it — the
tap reports what it saw so far, marked ``abandoned``.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

import httpx2

from claudetop.hook.capture import Capture

Mode = Literal["sse", "jsonl", "body"]

MAX_BODY_BYTES = 8 * 1024 * 1024
SSE_HELD_BYTES = 256 * 1024
"""Raw SSE bytes held per stream before the app's thread picks their usage lines out; the usual
response is far smaller and is scanned on the writer thread (``usage_lines``) instead."""


def _has_usage(data: bytes) -> bool:
    """Whether SSE data may hold a ``message_start``, ``message_delta`` or ``error`` event."""
    return b"message_start" in data or b"message_delta" in data or b'"error"' in data


_DELTA = b"content_block_delta"


def usage_lines(data: bytes) -> list[bytes]:
    """The data of each complete-or-final SSE line in ``data`` that may carry usage (see ``_has_usage``)."""
    if not _has_usage(data):
        return []
    return [line[5:] for line in data.split(b"\n") if line.startswith(b"data:") and _has_usage(line)]


class Tap:
    """Incremental, allocation-light reader of a response body; reports once, when the body ends."""

    def __init__(
        self,
        capture: Capture,
        mode: Mode,
        content_encoding: str | None,
        on_done: Callable[[Capture], None],
        on_line: Callable[[bytes], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.capture = capture
        self.mode = mode
        self._on_done = on_done
        self._on_line = on_line
        self._on_error = on_error
        self._rest = b""
        self._edge = b""
        self._chunks: list[bytes] = []
        self._size = 0
        self._done = False
        self._broken = False
        self._inflate: Any = None
        encoding = (content_encoding or "identity").strip().lower()
        if encoding == "gzip":
            self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._inflate = zlib.decompressobj()
        elif encoding != "identity":
            capture.unreadable = True
            self._broken = True

    def feed(self, chunk: bytes) -> None:
        if self._broken:
            return
        try:
            self._feed(self._inflate.decompress(chunk) if self._inflate is not None else chunk)
        except Exception as err:  # a bug or a corrupt body: stop reading, never disturb the caller
            self._broken = True
            self.capture.unreadable = True
            self._on_error(err)

    def _feed(self, data: bytes) -> None:
        if self.mode == "body":
            self._size += len(data)
            if self._size > MAX_BODY_BYTES:
                self._broken = True
                self.capture.unreadable = True
                self._chunks.clear()
            else:
                self._chunks.append(data)
            return
        if self.mode == "sse":
            capture = self.capture
            if capture.first_token is None and self._first_delta(data):
                capture.first_token = time.perf_counter()
            self._chunks.append(data)
            self._size += len(data)
            if self._size > SSE_HELD_BYTES:
                self._fold_sse()
            return
        data = self._rest + data if self._rest else data
        *lines, self._rest = data.split(b"\n")
        for line in lines:
            if line.strip():
                self._on_line(line)

    def _first_delta(self, data: bytes) -> bool:
        """Whether the first content delta has arrived; the marker may span any number of chunks."""
        seen = self._edge + data
        self._edge = seen[1 - len(_DELTA) :]
        return _DELTA in seen

    def _fold_sse(self) -> None:
        """Keep only the usage lines of the complete SSE lines held so far (a long stream)."""
        data = self._rest + b"".join(self._chunks)
        self._chunks.clear()
        cut = data.rfind(b"\n")
        self._rest = data[cut + 1 :]
        self._size = len(self._rest)
        self.capture.sse_lines.extend(usage_lines(data[: cut + 1]))

    def done(self, abandoned: bool) -> None:
        if self._done:
            return
        self._done = True
        try:
            capture = self.capture
            capture.ended = time.perf_counter()
            capture.abandoned = abandoned
            if not self._broken:
                if self.mode == "jsonl" and self._rest.strip() and not abandoned:
                    self._on_line(self._rest)
                elif self.mode == "sse":
                    capture.sse_tail = self._rest + b"".join(self._chunks)
                elif self.mode == "body":
                    capture.response_body = b"".join(self._chunks)
            self._on_done(capture)
        except Exception as err:
            self._on_error(err)


class _Delegating:
    """What the SDK and httpx2 read off a response body (``stream_observer``, ``elapsed``) comes from
    the wrapped body; defined as plain properties because the SDK looks them up once per event."""

    _inner: Any

    @property
    def stream_observer(self) -> Any:
        return getattr(self._inner, "stream_observer", None)

    @property
    def elapsed(self) -> Any:
        return getattr(self._inner, "elapsed", None)


class TappedStream(_Delegating, httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, tap: Tap) -> None:
        self._inner = inner
        self._tap = tap

    def __iter__(self) -> Iterator[bytes]:
        complete = False
        try:
            for chunk in self._inner:
                self._tap.feed(chunk)
                yield chunk
            complete = True
        finally:
            self._tap.done(abandoned=not complete)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._tap.done(abandoned=True)

    def __del__(self) -> None:
        self._tap.done(abandoned=True)


class AsyncTappedStream(_Delegating, httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, tap: Tap) -> None:
        self._inner = inner
        self._tap = tap

    async def __aiter__(self) -> AsyncIterator[bytes]:
        complete = False
        try:
            async for chunk in self._inner:
                self._tap.feed(chunk)
                yield chunk
            complete = True
        finally:
            self._tap.done(abandoned=not complete)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._tap.done(abandoned=True)

    def __del__(self) -> None:
        self._tap.done(abandoned=True)
