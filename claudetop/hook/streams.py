"""Taps on streamed response bodies: they see every chunk the application reads, and change none.

The SDK reads a streamed body through ``httpx2.Response.stream``; the hook wraps that object (the
same extension point the SDK's own tracing uses) with a byte stream that passes each chunk on
unchanged and keeps only what usage needs:

- server-sent events (``stream=True``, ``messages.stream()``): each raw chunk and the time it
  arrived. The writer thread picks the ``message_start`` / ``message_delta`` / ``error`` lines
  and the time of the first content delta out of them afterwards; the application's thread only
  does that itself to keep a very long stream's held bytes bounded;
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
"""Raw SSE bytes held per stream before the application's thread picks their usage lines out; the
usual response is far smaller and is read on the writer thread instead."""


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
    """Reader of one response body. ``feed`` runs on the application's thread for every chunk, so in
    SSE mode it only appends; ``sse_usage`` and ``body`` run on the writer thread once it is done."""

    def __init__(
        self,
        capture: Capture,
        mode: Mode,
        headers: Any,
        on_done: Callable[[Capture], None],
        on_error: Callable[[BaseException], None],
        on_lines: Callable[[list[bytes]], None] | None = None,
    ) -> None:
        """``on_lines`` takes the complete lines of each chunk of a ``jsonl`` body."""
        self._capture: Capture | None = capture
        self.mode = mode
        self.abandoned = False
        self.unreadable = False
        """The body was compressed in a way the tap cannot read, or cut off: tokens are not known."""
        self.first_token: float | None = None
        self._on_done = on_done
        self._on_lines = on_lines or _ignore
        self._on_error = on_error
        self._chunks: list[bytes] = []
        self._times: list[float] = []
        self._held = 0
        self._rest = b""
        self._edge = b""
        self._lines: list[bytes] = []
        self._headers = headers
        self._inflate: Any = _UNSET

    # --- application thread -------------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        if self.unreadable:
            return
        if self.mode == "sse":
            self._times.append(time.perf_counter())
            self._chunks.append(chunk)
            self._held += len(chunk)
            if self._held > SSE_HELD_BYTES:
                self._guarded(self._pick_usage)
        else:
            self._guarded(self._split if self.mode == "jsonl" else self._keep, chunk)

    def _split(self, chunk: bytes) -> None:
        data = self._inflated([chunk])[0]
        *lines, self._rest = (self._rest + data).split(b"\n")
        complete = [line for line in lines if line.strip()]
        if complete:
            self._on_lines(complete)

    def _keep(self, chunk: bytes) -> None:
        data = self._inflated([chunk])[0]
        self._held += len(data)
        if self._held > MAX_BODY_BYTES:
            self._give_up()
        else:
            self._chunks.append(data)

    def done(self, abandoned: bool) -> None:
        """Hand the capture to the writer, once. The tap then lets go of it and of ``on_lines``: the
        capture holds the response, which holds this tap, and a cycle would leave all of them to
        the garbage collector."""
        capture, on_lines = self._capture, self._on_lines
        if capture is None:
            return
        self._capture, self._on_lines = None, _ignore
        try:
            capture.ended = time.perf_counter()
            self.abandoned = abandoned
            if self.mode == "jsonl" and not self.unreadable and not abandoned and self._rest.strip():
                on_lines([self._rest])
            self._on_done(capture)
        except Exception as err:
            self._on_error(err)

    # --- writer thread (and a long stream's folds) --------------------------------------------

    def sse_usage(self) -> list[bytes]:
        """The data of the usage-bearing SSE lines; sets ``first_token``. Call once, after ``done``."""
        if self.unreadable:
            return []
        kind = str(self._headers.get("content-type") or "text/event-stream")
        if not kind.lower().startswith("text/event-stream"):  # e.g. Bedrock's binary AWS event stream
            self._give_up()
            return []
        self._guarded(self._pick_usage)
        return [] if self.unreadable else self._lines + usage_lines(self._rest)

    def body(self) -> bytes | None:
        """The whole body of a ``body``-mode tap, or ``None`` when it was too big or unreadable."""
        return None if self.unreadable else b"".join(self._chunks)

    def _pick_usage(self) -> None:
        chunks, times = self._chunks, self._times
        self._chunks, self._times, self._held = [], [], 0
        datas = self._inflated(chunks)
        if self.first_token is None:
            for data, arrived in zip(datas, times, strict=True):
                seen = self._edge + data
                if _DELTA in seen:  # the marker may span any number of chunks
                    self.first_token = arrived
                    break
                self._edge = seen[1 - len(_DELTA) :]
        data = self._rest + b"".join(datas)
        cut = data.rfind(b"\n")
        self._rest = data[cut + 1 :]
        self._lines.extend(usage_lines(data[: cut + 1]))

    def _inflated(self, chunks: list[bytes]) -> list[bytes]:
        """The chunks decoded; the response's ``content-encoding`` is read on first use, which for SSE
        is on the writer thread."""
        if self._inflate is _UNSET:
            encoding = (self._headers.get("content-encoding") or "identity").strip().lower()
            if encoding == "gzip":
                self._inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
            elif encoding == "deflate":
                self._inflate = zlib.decompressobj()
            elif encoding == "identity":
                self._inflate = None
            else:
                raise _UnknownEncoding(encoding)
        inflate = self._inflate
        return [inflate.decompress(c) for c in chunks] if inflate is not None else chunks

    def _guarded(self, step: Callable[..., None], *args: bytes) -> None:
        """Run a step; a bug or a corrupt body stops the reading and never disturbs the caller."""
        try:
            step(*args)
        except _UnknownEncoding:
            self._give_up()  # not a fault: a body compressed in a way the tap does not read
        except Exception as err:
            self._give_up()
            self._on_error(err)

    def _give_up(self) -> None:
        self.unreadable = True
        self._chunks.clear()
        self._times.clear()


class _UnknownEncoding(ValueError):
    """A ``content-encoding`` other than identity, gzip or deflate (brotli, zstd)."""


def _ignore(lines: list[bytes]) -> None:
    return None


_UNSET: Any = object()


class _Delegating:
    """A body wrapped with a tap, which hears of its end however it comes (read out, closed, dropped).
    What the SDK and httpx2 read off a response body comes from the wrapped body: the SDK's
    ``stream_observer`` (set before the middleware sees the response, and looked up once per
    event, so it is copied) and httpx2's ``elapsed`` (set when the body closes)."""

    def __init__(self, inner: Any, tap: Tap) -> None:
        self._inner = inner
        self._tap = tap
        self.stream_observer = getattr(inner, "stream_observer", None)

    @property
    def elapsed(self) -> Any:
        return getattr(self._inner, "elapsed", None)

    def __del__(self) -> None:
        self._tap.done(abandoned=True)


class TappedStream(_Delegating, httpx2.SyncByteStream):
    _inner: httpx2.SyncByteStream

    def __iter__(self) -> Iterator[bytes]:
        complete = False
        feed = self._tap.feed
        try:
            for chunk in self._inner:
                feed(chunk)
                yield chunk
            complete = True
        finally:
            self._tap.done(abandoned=not complete)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._tap.done(abandoned=True)


class AsyncTappedStream(_Delegating, httpx2.AsyncByteStream):
    _inner: httpx2.AsyncByteStream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        complete = False
        feed = self._tap.feed
        try:
            async for chunk in self._inner:
                feed(chunk)
                yield chunk
            complete = True
        finally:
            self._tap.done(abandoned=not complete)

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            self._tap.done(abandoned=True)
