"""Fake API throughput: requests/second the loopback server sustains from a local load generator.

The load generator is a few processes, each holding keep-alive connections and sending raw
HTTP/1.1 requests back to back (a Python SDK client would be the bottleneck, not the server).
Two servers are measured in the same run on the same stack (:class:`claudetop.simulate.server.HttpServer`):

- baseline: a no-op handler answering ``200 {}`` to everything;
- fake API: ``POST /v1/messages`` with a cached 6,000-token system prompt (validation, token
  counting, prompt-cache lookup, output generation, usage ledger, JSON encoding).

It prints both rates and the ratio. Target (issue 4): at least 1,000 requests/s for the fake API.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import socket
import sys
import time

from claudetop.simulate import FakeAnthropic, SimClock
from claudetop.simulate.server import HttpServer, Request, Response
from claudetop.simulate.tokens import marker

WORKERS = 3
CONNECTIONS_PER_WORKER = 4
SECONDS = 3.0
TARGET = 1_000

BODY = json.dumps(
    {
        "model": "claude-sonnet-4-6",
        "max_tokens": 300,
        "system": [
            {
                "type": "text",
                "text": "Stable support instructions. " * 830,
                "cache_control": {"type": "ephemeral"},
            }
        ],
        "messages": [{"role": "user", "content": f"Where is my order? {marker(150)}"}],
    }
).encode()


def _request(port: int) -> bytes:
    head = (
        f"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"x-api-key: sk-ant-bench\r\ncontent-length: {len(BODY)}\r\n\r\n"
    )
    return head.encode() + BODY


def _read_response(sock: socket.socket, buf: bytearray) -> None:
    while True:
        end = buf.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buf[:end]).lower()
            length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
            if len(buf) >= end + 4 + length:
                del buf[: end + 4 + length]
                return
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        buf += chunk


def _worker(port: int, seconds: float, out: mp.Queue[int]) -> None:
    payload = _request(port)
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(CONNECTIONS_PER_WORKER)]
    bufs = [bytearray() for _ in socks]
    done = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for s in socks:  # pipelined across connections: send on all, then read all
            s.sendall(payload)
        for s, b in zip(socks, bufs, strict=True):
            _read_response(s, b)
        done += len(socks)
    for s in socks:
        s.close()
    out.put(done)


def measure(port: int) -> float:
    out: mp.Queue[int] = mp.Queue()
    procs = [mp.Process(target=_worker, args=(port, SECONDS, out)) for _ in range(WORKERS)]
    start = time.monotonic()
    for p in procs:
        p.start()
    total = sum(out.get() for _ in procs)
    for p in procs:
        p.join()
    return total / (time.monotonic() - start)


def _noop(_: Request) -> Response:
    return Response(200, b"{}")


def main() -> int:
    baseline = HttpServer(_noop)
    port = baseline.start()
    try:
        base_rps = measure(port)
    finally:
        baseline.stop()
    with FakeAnthropic(clock=SimClock(speed=1.0)) as fake:
        fake_rps = measure(int(fake.base_url.rsplit(":", 1)[1]))
        served = fake.stats.by_route.get("messages", 0)
    print(f"baseline no-op handler   : {base_rps:10,.0f} req/s")
    print(f"fake API /v1/messages    : {fake_rps:10,.0f} req/s  ({served:,} served)")
    print(f"ratio fake / baseline    : {fake_rps / base_rps:10.2f}")
    print(
        f"target                   : {TARGET:10,} req/s  -> {'OK' if fake_rps >= TARGET else 'BELOW TARGET'}"
    )
    return 0 if fake_rps >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
