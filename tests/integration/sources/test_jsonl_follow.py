"""JsonlSource / LineFollower on real files: appends, partial lines, rotation, truncation, garbage."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claudetop.model import UsageEvent
from claudetop.sinks import JsonlSink
from claudetop.sources import CheckpointStore, JsonlSource, Watcher


def _event(n: int, writer: int = 0) -> UsageEvent:
    return UsageEvent(
        id=f"e-{writer}-{n}", ts=datetime(2026, 1, 1, tzinfo=UTC), model="claude-haiku-4-5", input_tokens=n
    )


def _line(n: int, writer: int = 0) -> bytes:
    return _event(n, writer).model_dump_json().encode() + b"\n"


def _append(path: Path, data: bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(data)


def test_appends_between_polls_are_read_once(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    _append(log, _line(1) + _line(2))
    source = JsonlSource([log])
    assert [e.id for e in source.poll().events] == ["e-0-1", "e-0-2"]
    assert source.poll().events == []
    _append(log, _line(3))
    assert [e.id for e in source.poll().events] == ["e-0-3"]
    assert source.health().events_read == 3


def test_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    line = _line(7)
    _append(log, _line(6) + line[:10])
    source = JsonlSource([log])
    assert [e.id for e in source.poll().events] == ["e-0-6"]
    assert source.progress.snapshot().complete  # the half line is not a read still going on
    _append(log, line[10:-1])
    assert source.poll().events == []
    _append(log, b"\n")
    assert [e.id for e in source.poll().events] == ["e-0-7"]
    assert source.health().garbage_lines == 0


def test_rotation_finishes_old_inode_then_reads_new_file(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    _append(log, _line(1))
    source = JsonlSource([log])
    assert len(source.poll().events) == 1
    _append(log, _line(2))  # written before the rotation, not yet read
    os.rename(log, tmp_path / "a.jsonl.1")
    _append(log, _line(3))
    assert [e.id for e in source.poll().events] == ["e-0-2", "e-0-3"]
    _append(log, _line(4))
    assert [e.id for e in source.poll().events] == ["e-0-4"]


def test_truncation_restarts_at_zero(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    _append(log, _line(1) + _line(2))
    source = JsonlSource([log])
    assert len(source.poll().events) == 2
    with open(log, "wb") as handle:
        handle.write(_line(9))
    assert [e.id for e in source.poll().events] == ["e-0-9"]
    assert source.follower.truncations == 1


def test_garbage_lines_counted_with_position_and_skipped(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    _append(log, _line(1) + b"not json at all\n" + b'{"id": "x"}\n' + _line(2))
    source = JsonlSource([log])
    assert [e.id for e in source.poll().events] == ["e-0-1", "e-0-2"]
    health = source.health()
    assert health.garbage_lines == 2
    first, second = source.garbage.recent
    assert first.startswith(f"{log}:2: ") and second.startswith(f"{log}:3: ")


def test_files_appearing_later_in_a_directory(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    source = JsonlSource([logs])
    assert source.poll().events == []
    assert not source.health().ok
    logs.mkdir()
    _append(logs / "x.jsonl", _line(1))
    assert [e.id for e in source.poll().events] == ["e-0-1"]
    _append(logs / "y.jsonl", _line(2))
    assert [e.id for e in source.poll().events] == ["e-0-2"]


def test_batch_lines_become_batch_states(tmp_path: Path) -> None:
    from claudetop.model import BatchState, BatchStatus

    log = tmp_path / "a.jsonl"
    sink = JsonlSink(log)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    sink.write_batches([BatchState(id="b1", status=BatchStatus.IN_PROGRESS, created_at=now, updated_at=now)])
    sink.write_events([_event(1)])
    sink.close()
    delta = JsonlSource([log]).poll()
    assert [b.id for b in delta.batches] == ["b1"] and [e.id for e in delta.events] == ["e-0-1"]


def test_checkpoint_resumes_where_it_stopped(tmp_path: Path) -> None:
    log = tmp_path / "a.jsonl"
    store = CheckpointStore(tmp_path / "state")
    _append(log, _line(1) + _line(2))
    assert len(JsonlSource([log], checkpoints=store).poll().events) == 2
    _append(log, _line(3))
    assert [e.id for e in JsonlSource([log], checkpoints=store).poll().events] == ["e-0-3"]


def _writer(path: str, writer: int, count: int) -> None:
    sink = JsonlSink(path, max_bytes=256 * 1024, keep=100)
    for start in range(0, count, 25):
        sink.write_events([_event(n, writer) for n in range(start, min(count, start + 25))])
    sink.close()


def test_four_concurrent_writers_10000_lines_exactly_once(tmp_path: Path) -> None:
    """JsonlSink writers rotate the file (every 256 KiB, ~25 times) while the source follows it.

    Retention (``keep``) is large enough that the sink deletes nothing: any loss would be the reader's.
    """
    log = tmp_path / "shared.jsonl"
    source = JsonlSource([log])
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(log), w, 2500)) for w in range(4)]
    for p in procs:
        p.start()
    seen: list[str] = []
    while any(p.is_alive() for p in procs):
        seen.extend(e.id for e in source.poll().events)
        time.sleep(0.005)
    for p in procs:
        p.join()
        assert p.exitcode == 0
    seen.extend(e.id for e in source.poll().events)
    assert len(seen) == 10_000
    assert len(set(seen)) == 10_000
    assert source.health().garbage_lines == 0


@pytest.mark.parametrize("exists", [True, False], ids=["append", "file-appears"])
def test_watcher_wakes_on_a_write(tmp_path: Path, exists: bool) -> None:
    log = tmp_path / "a.jsonl"
    if exists:
        _append(log, _line(1))
    watcher = Watcher([log], debounce_ms=50).start()
    try:
        time.sleep(0.3)
        _append(log, _line(2))
        assert watcher.wait(5.0)
    finally:
        watcher.stop()


def test_watcher_watches_only_followed_directories_recursively(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "deep").mkdir(parents=True)
    sink = tmp_path / "data" / "events.db"
    sink.parent.mkdir()
    sink.touch()
    missing = tmp_path / "not" / "yet" / "there.jsonl"
    watcher = Watcher([logs, logs / "deep" / "x.jsonl", sink, missing])
    assert watcher.targets() == ([logs], [tmp_path, sink.parent])
