"""The parallel scan (forked workers, large files cut into line-aligned pieces) reads exactly what the
sequential scan reads: same events in the same order, same garbage, same resume offsets."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from bench.ingest import generate_corpus
from claudetop.sources import CheckpointStore, ClaudeCodeSource, claude_code
from claudetop.sources import claude_code_scan as scan
from claudetop.sources.claude_code_scan import Span, scan_span, split_file


def _read(config: Path, store: CheckpointStore | None = None) -> tuple[ClaudeCodeSource, list[object]]:
    source = ClaudeCodeSource([config], checkpoints=store, settle_s=0)
    return source, list(source.poll().events)


def test_parallel_pieces_equal_sequential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "claude"
    generate_corpus(config, 6 << 20, seed=5)
    files = sorted((config / "projects").rglob("*.jsonl"))
    big = files[0].parent / "big.jsonl"
    garbage = b'{"type":"assistant","message":{"usage":{ not json\n'
    big.write_bytes(b"".join(p.read_bytes() + garbage for p in files[:20]))
    with open(big, "ab") as handle:
        handle.write(b'{"type":"assistant","message":{"usage":{"input_tokens":1')  # partial last line

    sequential, expected = _read(config)
    monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan, "PIECE_BYTES", 64 * 1024)
    assert scan.workers_for(1) >= 1
    monkeypatch.setattr(claude_code, "workers_for", lambda _total: 2)
    parallel, got = _read(config)

    assert len(expected) > 100
    assert got == expected
    assert parallel.garbage.count == sequential.garbage.count > 0
    assert list(parallel.garbage.recent) == list(sequential.garbage.recent)
    offsets = {k: s.offset for k, s in parallel.follower.files.items()}
    assert offsets == {k: s.offset for k, s in sequential.follower.files.items()}
    assert offsets[next(k for k, s in parallel.follower.files.items() if s.path == str(big))] == (
        big.stat().st_size - len(b'{"type":"assistant","message":{"usage":{"input_tokens":1')
    )


def test_pieces_start_at_lines_and_cover_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.jsonl"
    lines = [b'{"n":%d,"pad":"%s"}' % (i, b"x" * (i * 37 % 3000)) for i in range(2000)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(scan, "PIECE_BYTES", 10_000)
    st = path.stat()
    spans = split_file(str(path), st.st_dev, st.st_ino, 0, st.st_size)
    data = path.read_bytes()
    assert len(spans) > 50
    assert spans[0].start == 0 and spans[-1].end == st.st_size
    for a, b in itertools.pairwise(spans):
        assert a.end == b.start and data[a.end - 1 : a.end] == b"\n"


def test_span_of_a_replaced_file_reads_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(b"{}\n")
    st = path.stat()
    result = scan_span(Span(str(path), st.st_dev, st.st_ino + 1, 0, st.st_size))
    assert not result.same_file and result.records == []


@pytest.mark.parametrize("pieces", [False, True])
def test_garbage_line_numbers_across_blocks_and_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pieces: bool
) -> None:
    """Workers count the lines before a garbage line in the bytes they hold; the number reported is
    still the line's number in the whole file when it lies several read blocks (and pieces) in."""
    config = tmp_path / "claude"
    path = config / "projects" / "-home-u-app" / "S1.jsonl"
    path.parent.mkdir(parents=True)
    lines = [b'{"type":"user","n":%d,"pad":"%s"}' % (i, b"x" * (i * 53 % 900)) for i in range(3000)]
    bad = {17, 1234, 2999}
    for n in bad:
        lines[n] = b'{"type":"assistant","message":{"usage":{ broken %d' % n
    path.write_bytes(b"\n".join(lines) + b"\n")
    monkeypatch.setattr(scan, "BLOCK_BYTES", 4096)
    if pieces:
        monkeypatch.setattr(scan, "PIECE_BYTES", 100_000)
        monkeypatch.setattr(scan, "PARALLEL_MIN_BYTES", 0)
        monkeypatch.setattr(claude_code, "workers_for", lambda _total: 2)

    source, _events = _read(config)

    reported = sorted(int(item.removeprefix(f"{path}:").split(":")[0]) for item in source.garbage.recent)
    assert reported == sorted(n + 1 for n in bad)
