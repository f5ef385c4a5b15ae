"""A small HTTP/1.1 server on asyncio, fast enough that the fake API never limits a benchmark.

``http.server`` spends most of its time in per-request thread and parsing overhead; this
is an :class:`asyncio.Protocol` with a hand-written parser (request line, headers,
``Content-Length`` or chunked body), keep-alive, and in-order responses. Handlers are plain
functions returning a :class:`Response`, a :class:`StreamResponse` (chunked transfer, e.g.
SSE) or :data:`DROP` (close the connection without answering, to simulate a network fault).
The loop runs in its own daemon thread so sync tests and the demo can use it alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

_MAX_HEADER_BYTES = 64 * 1024
_MAX_BODY_BYTES = 256 * 1024 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Lower-cased names."""
    body: bytes


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    """Real seconds to wait before answering (a slow upstream)."""


@dataclass
class StreamResponse:
    status: int
    chunks: Iterable[bytes]
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    chunk_delay_s: float = 0.0


class _Drop:
    pass


DROP: Final = _Drop()
Handler = Callable[[Request], Response | StreamResponse | _Drop]


class _BadRequest(Exception):
    pass


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Overloaded" if status == 529 else "Unknown"


def _head(status: int, content_type: str, headers: dict[str, str], extra: str) -> bytes:
    lines = [f"HTTP/1.1 {status} {_reason(status)}", f"content-type: {content_type}", extra]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class _Connection(asyncio.Protocol):
    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self._busy = False
        self._closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._server.connections.discard(self)

    def close(self) -> None:
        if self._transport is not None and not self._closed:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._busy:
            self._drain()

    def _drain(self) -> None:
        while not self._busy and not self._closed:
            try:
                parsed = self._parse()
            except _BadRequest as exc:
                self._write_plain(400, str(exc).encode(), close=True)
                return
            if parsed is None:
                return
            request, keep_alive = parsed
            self._server.requests_served += 1
            try:
                result = self._server.handler(request)
            except Exception as exc:  # a handler bug must not kill the server; answer 500 like the API
                body = (
                    b'{"type":"error","error":{"type":"api_error","message":"' + type(exc).__name__.encode()
                )
                self._write_plain(500, body + b'"}}', close=not keep_alive)
                continue
            if isinstance(result, _Drop):
                self.close()
                return
            if isinstance(result, Response) and result.delay_s == 0:
                self._write_response(result, keep_alive)
                continue
            self._busy = True
            self._server.loop.create_task(self._answer_later(result, keep_alive))

    async def _answer_later(self, result: Response | StreamResponse, keep_alive: bool) -> None:
        try:
            if result.delay_s:
                await asyncio.sleep(result.delay_s)
            if self._closed:
                return
            if isinstance(result, Response):
                self._write_response(result, keep_alive)
            else:
                await self._stream(result, keep_alive)
        finally:
            self._busy = False
        if not self._closed:
            self._drain()

    async def _stream(self, result: StreamResponse, keep_alive: bool) -> None:
        assert self._transport is not None
        conn = "keep-alive" if keep_alive else "close"
        self._transport.write(
            _head(
                result.status,
                result.content_type,
                result.headers,
                f"transfer-encoding: chunked\r\nconnection: {conn}",
            )
        )
        for chunk in result.chunks:
            if self._closed:
                return
            if chunk:
                self._transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if result.chunk_delay_s:
                await asyncio.sleep(result.chunk_delay_s)
        self._transport.write(b"0\r\n\r\n")
        if not keep_alive:
            self.close()

    def _write_response(self, result: Response, keep_alive: bool) -> None:
        assert self._transport is not None
        conn = "keep-alive" if keep_alive else "close"
        extra = f"content-length: {len(result.body)}\r\nconnection: {conn}"
        self._transport.write(_head(result.status, result.content_type, result.headers, extra) + result.body)
        if not keep_alive:
            self.close()

    def _write_plain(self, status: int, body: bytes, *, close: bool) -> None:
        self._write_response(Response(status, body), keep_alive=not close)

    def _parse(self) -> tuple[Request, bool] | None:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > _MAX_HEADER_BYTES:
                raise _BadRequest("header too large")
            return None
        head = bytes(self._buf[:end]).decode("latin-1")
        lines = head.split("\r\n")
        try:
            method, target, version = lines[0].split(" ", 2)
        except ValueError:
            raise _BadRequest("bad request line") from None
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequest("bad header line")
            headers[name.strip().lower()] = value.strip()
        start = end + 4
        if headers.get("transfer-encoding", "").lower() == "chunked":
            decoded = self._dechunk(start)
            if decoded is None:
                return None
            body, consumed = decoded
        else:
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise _BadRequest("bad content-length") from None
            if length < 0 or length > _MAX_BODY_BYTES:
                raise _BadRequest("bad content-length")
            if len(self._buf) < start + length:
                return None
            body = bytes(self._buf[start : start + length])
            consumed = start + length
        del self._buf[:consumed]
        split = urlsplit(target)
        conn = headers.get("connection", "").lower()
        keep_alive = conn != "close" if version == "HTTP/1.1" else conn == "keep-alive"
        return Request(method.upper(), split.path, parse_qs(split.query), headers, body), keep_alive

    def _dechunk(self, pos: int) -> tuple[bytes, int] | None:
        body = bytearray()
        while True:
            eol = self._buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            try:
                size = int(bytes(self._buf[pos:eol]).split(b";")[0], 16)
            except ValueError:
                raise _BadRequest("bad chunk size") from None
            pos = eol + 2
            if size == 0:
                trailer_end = self._buf.find(b"\r\n", pos)
                return None if trailer_end < 0 else (bytes(body), trailer_end + 2)
            if len(self._buf) < pos + size + 2:
                return None
            body += self._buf[pos : pos + size]
            pos += size + 2


class HttpServer:
    """Serves ``handler`` on 127.0.0.1 (ephemeral port by default) from a background thread."""

    def __init__(self, handler: Handler, port: int = 0) -> None:
        self.handler = handler
        self._port = port
        self.loop = asyncio.new_event_loop()
        self.connections: set[_Connection] = set()
        self.requests_served = 0
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def start(self) -> int:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self._server = self.loop.run_until_complete(
                    self.loop.create_server(lambda: _Connection(self), "127.0.0.1", self._port, backlog=1024)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            self.loop.run_forever()

        self._thread = threading.Thread(target=run, name="claudetop-fake-api", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]
        return self.port

    def stop(self) -> None:
        if self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for conn in list(self.connections):
                conn.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        self._thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()
        self._thread = None

    def call(self, fn: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(fn)
