"""The SSE tap holds raw bytes for the writer thread, and folds a long stream to its usage lines."""

from __future__ import annotations

import gzip

from claudetop.hook.capture import Capture
from claudetop.hook.streams import SSE_HELD_BYTES, Tap


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


def _tapped(chunks: list[bytes], encoding: str | None = None) -> Tap:
    capture = Capture(None, None, 0.0, 0.0)
    done: list[Capture] = []
    errors: list[BaseException] = []
    tap = Tap(capture, "sse", {"content-encoding": encoding} if encoding else {}, done.append, errors.append)
    for chunk in chunks:
        tap.feed(chunk)
    tap.done(abandoned=False)
    assert done == [capture]
    assert errors == []
    return tap


START = '{"type":"message_start","message":{"usage":{"input_tokens":7}}}'
DELTA = '{"type":"message_delta","usage":{"output_tokens":9}}'
TEXT = '{"type":"content_block_delta","delta":{"type":"text_delta","text":"' + "x" * 900 + '"}}'


def test_usage_lines_split_across_chunks_are_found() -> None:
    body = (
        _event("message_start", START) + _event("content_block_delta", TEXT) + _event("message_delta", DELTA)
    )
    tap = _tapped([body[i : i + 7] for i in range(0, len(body), 7)])
    assert [line.strip() for line in tap.sse_usage()] == [START.encode(), DELTA.encode()]
    assert tap.first_token is not None


def test_first_token_is_the_arrival_of_the_chunk_that_completes_the_first_delta_marker() -> None:
    body = _event("message_start", START) + _event("content_block_delta", TEXT)
    cut = body.index(b"content_block_delta") + 5  # the marker spans two chunks
    capture = Capture(None, None, 0.0, 0.0)
    tap = Tap(capture, "sse", {}, lambda c: None, lambda err: None)
    tap.feed(body[:cut])
    tap.feed(body[cut:])
    second_arrival = tap._times[1]
    tap.done(abandoned=True)
    tap.sse_usage()
    assert tap.first_token == second_arrival
    assert tap.abandoned


def test_a_gzipped_stream_is_inflated_off_the_application_thread() -> None:
    body = (
        _event("message_start", START) + _event("content_block_delta", TEXT) + _event("message_delta", DELTA)
    )
    packed = gzip.compress(body)
    tap = _tapped([packed[i : i + 50] for i in range(0, len(packed), 50)], encoding="gzip")
    assert [line.strip() for line in tap.sse_usage()] == [START.encode(), DELTA.encode()]
    assert tap.first_token is not None and not tap.unreadable


def test_an_unknown_encoding_is_unreadable_not_guessed_and_not_a_fault() -> None:
    errors: list[BaseException] = []
    tap = Tap(Capture(None, None, 0.0, 0.0), "sse", {"content-encoding": "br"}, lambda c: None, errors.append)
    tap.feed(b"\x00\x01binary")
    tap.done(abandoned=False)
    assert tap.sse_usage() == []
    assert tap.unreadable and errors == []


def test_a_stream_longer_than_the_held_bytes_is_folded_and_loses_no_usage() -> None:
    deltas = [_event("content_block_delta", TEXT)] * (2 * SSE_HELD_BYTES // len(TEXT) + 3)
    body = b"".join([_event("message_start", START), *deltas, _event("message_delta", DELTA)])
    tap = _tapped([body[i : i + 1000] for i in range(0, len(body), 1000)])
    assert sum(map(len, tap._chunks)) <= SSE_HELD_BYTES + 1000
    assert tap._lines, "the long stream was folded at least once"
    assert [line.strip() for line in tap.sse_usage()] == [START.encode(), DELTA.encode()]


def test_a_stream_that_is_not_server_sent_events_is_unreadable_not_zero() -> None:
    """Bedrock streams AWS event-stream frames: no tokens can be read, and the event must say so."""
    capture = Capture(None, None, 0.0, 0.0)
    tap = Tap(capture, "sse", {"content-type": "application/vnd.amazon.eventstream"}, lambda c: None, print)
    tap.feed(b"\x00\x00\x00\x9b" + _event("message_start", START))
    tap.done(abandoned=False)
    assert tap.sse_usage() == []
    assert tap.unreadable
