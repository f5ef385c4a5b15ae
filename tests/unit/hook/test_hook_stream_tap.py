"""The SSE tap holds raw bytes for the writer thread, and folds a long stream to its usage lines."""

from __future__ import annotations

from claudetop.hook.capture import Capture
from claudetop.hook.streams import SSE_HELD_BYTES, Tap, usage_lines
from claudetop.model import Endpoint


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def _tapped(chunks: list[bytes]) -> Capture:
    capture = Capture("x", Endpoint.MESSAGES, None, None, 0.0, 0.0, 0, None, True)
    done: list[Capture] = []
    tap = Tap(capture, "sse", None, done.append, lambda line: None, lambda err: None)
    for chunk in chunks:
        tap.feed(chunk)
    tap.done(abandoned=False)
    assert done == [capture]
    return capture


START = '{"type":"message_start","message":{"usage":{"input_tokens":7}}}'
DELTA = '{"type":"message_delta","usage":{"output_tokens":9}}'
TEXT = '{"type":"content_block_delta","delta":{"type":"text_delta","text":"' + "x" * 900 + '"}}'


def test_usage_lines_split_across_chunks_are_found() -> None:
    body = (
        _event("message_start", START) + _event("content_block_delta", TEXT) + _event("message_delta", DELTA)
    )
    capture = _tapped([body[i : i + 7] for i in range(0, len(body), 7)])
    lines = capture.sse_lines + usage_lines(capture.sse_tail)
    assert [line.strip() for line in lines] == [START.encode(), DELTA.encode()]
    assert capture.first_token is not None


def test_a_stream_longer_than_the_held_bytes_is_folded_and_loses_no_usage() -> None:
    deltas = [_event("content_block_delta", TEXT)] * (2 * SSE_HELD_BYTES // len(TEXT) + 3)
    body = b"".join([_event("message_start", START), *deltas, _event("message_delta", DELTA)])
    capture = _tapped([body[i : i + 1000] for i in range(0, len(body), 1000)])
    assert len(capture.sse_tail) <= SSE_HELD_BYTES + 1000
    assert capture.sse_lines, "the long stream was folded at least once"
    lines = capture.sse_lines + usage_lines(capture.sse_tail)
    assert [line.strip() for line in lines] == [START.encode(), DELTA.encode()]
