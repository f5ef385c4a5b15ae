"""The JSONL sink on real files: line format, rotation, modes, and writers that rotate each other."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from claudetop.model import BatchState, UsageEvent
from claudetop.sinks.jsonl import JsonlSink, rotated_paths
from tests.unit.sinks.factories import make_batch, make_event


def _same_size(i: int) -> UsageEvent:
    """Events whose JSON lines all have one length, so sizes can be counted in lines."""
    return make_event(10 + i, task="chat", model="claude-sonnet-4-6")


def _lines(paths: list[Path]) -> list[str]:
    return [line for p in paths if p.exists() for line in p.read_text().splitlines()]


def test_each_event_is_one_json_line_that_parses_back(tmp_path: Path) -> None:
    events = [make_event(i) for i in range(20)]
    with JsonlSink(tmp_path / "u.jsonl") as sink:
        sink.write_events(events[:5])
        sink.write_events(events[5:])
    lines = (tmp_path / "u.jsonl").read_text().splitlines()
    assert [UsageEvent.model_validate_json(line) for line in lines] == events
    assert stat.S_IMODE((tmp_path / "u.jsonl").stat().st_mode) == 0o600


def test_batch_states_are_tagged_lines(tmp_path: Path) -> None:
    with JsonlSink(tmp_path / "u.jsonl") as sink:
        sink.write_batches([make_batch("b1", minutes=3)])
    (line,) = (tmp_path / "u.jsonl").read_text().splitlines()
    assert BatchState.model_validate(json.loads(line)["batch"]) == make_batch("b1", minutes=3)


def test_rotation_by_size_keeps_the_newest_files(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    line_len = len(_same_size(0).model_dump_json()) + 1
    with JsonlSink(path, max_bytes=line_len * 10, keep=2) as sink:
        for i in range(0, 50, 5):
            sink.write_events([_same_size(j) for j in range(i, i + 5)])
    assert sorted(p.name for p in tmp_path.glob("u.jsonl*")) == ["u.jsonl", "u.jsonl.1", "u.jsonl.2"]
    kept = [UsageEvent.model_validate_json(line).id for line in _lines(rotated_paths(path, 2))]
    assert kept == [_same_size(i).id for i in range(20, 50)]
    assert all(p.stat().st_size <= line_len * 10 for p in rotated_paths(path, 2))


def test_a_writer_follows_a_rotation_done_by_another(tmp_path: Path) -> None:
    path = tmp_path / "u.jsonl"
    line_len = len(_same_size(0).model_dump_json()) + 1
    first = JsonlSink(path, max_bytes=line_len * 4, keep=5)
    second = JsonlSink(path, max_bytes=line_len * 4, keep=5)
    first.write_events([_same_size(i) for i in range(3)])
    second.write_events([_same_size(i) for i in range(3, 6)])  # rotates first's file away
    first.write_events([_same_size(6)])  # must land next to second's lines, not in the rotated file
    first.close()
    second.close()
    assert _lines([path.with_name("u.jsonl.1")]) == [_same_size(i).model_dump_json() for i in range(3)]
    assert _lines([path]) == [_same_size(i).model_dump_json() for i in range(3, 7)]


def test_bad_limits_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        JsonlSink(tmp_path / "u.jsonl", max_bytes=0)
