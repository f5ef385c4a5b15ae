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


def _has_usage(data: bytes) -> bool:
    """Whether SSE data may hold a ``message_start``, ``message_delta`` or ``error`` event."""
    return b"message_start" in data or b"message_delta" in data or b'"error"' in data


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
        data = self._rest + data if self._rest else data
        if self.mode == "sse":
            if self.capture.first_token is None and b"content_block_delta" in data:
                self.capture.first_token = time.perf_counter()
            if not _has_usage(data):
                cut = data.rfind(b"\n")
                self._rest = data[cut + 1 :] if cut >= 0 else data
                return
        *lines, self._rest = data.split(b"\n")
        for line in lines:
            if self.mode == "jsonl":
                if line.strip():
                    self._on_line(line)
            elif line.startswith(b"data:") and _has_usage(line):
                self.capture.sse_lines.append(line[5:])

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
                elif self.mode == "sse" and self._rest.startswith(b"data:"):
                    capture.sse_lines.append(self._rest[5:])
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
