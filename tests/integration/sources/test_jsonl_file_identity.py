"""LineFollower (JsonlSource, ClaudeCodeSource) on real files: which file an inode holds, where to resume.

A tracked inode can come to hold another file (a deleted file's inode is reused at once on ext4), a
copy-truncate rotation makes a new inode holding what was already read, ``start_at_end`` starts mid-file,
and a line can be nested too deep for ``json``: each must still read every event exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claudetop.model import UsageEvent
from claudetop.sources import CheckpointStore, ClaudeCodeSource, JsonlSource


def _line(n: int) -> bytes:
    event = UsageEvent(
        id=f"e{n}", ts=datetime(2026, 1, 1, tzinfo=UTC), model="claude-haiku-4-5", input_tokens=n
    )
    return event.model_dump_json().encode() + b"\n"


def _lines(numbers: range) -> bytes:
    return b"".join(_line(n) for n in numbers)


def _key(path: Path) -> str:
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


def _reused(saved: dict[str, Any], old_key: str, new_key: str) -> dict[str, Any]:
    """The checkpoint as it reads once ``new_key``'s file got the inode of the deleted ``old_key``'s.

    ext4 reuses a freed inode at once, but not every file system does: renaming the key makes the test
    independent of the one it runs on."""
    return {new_key if key == old_key else key: item for key, item in saved.items()}


def test_new_file_on_a_reused_inode_after_restart_is_read_from_its_start(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    old = logs / "a.jsonl"
    old.write_bytes(_lines(range(3)))
    first = JsonlSource([logs])
    assert len(first.poll().events) == 3
    saved, old_key = first.follower.checkpoint(), _key(old)
    old.unlink()
    new = logs / "b.jsonl"
    new.write_bytes(_lines(range(1000, 1010)))
    second = JsonlSource([logs])
    second.follower.restore(_reused(saved, old_key, _key(new)))
    assert [e.id for e in second.poll().events] == [f"e{n}" for n in range(1000, 1010)]
    assert second.garbage.count == 0


def test_file_rewritten_in_place_past_the_offset_is_read_from_its_start(tmp_path: Path) -> None:
    """Same inode, other contents, and longer than what was read: no truncation is seen, the head tells."""
    log = tmp_path / "a.jsonl"
    log.write_bytes(_lines(range(3)))
    source = JsonlSource([log])
    assert len(source.poll().events) == 3
    with open(log, "r+b") as handle:
        handle.write(_lines(range(100, 110)))
    assert [e.id for e in source.poll().events] == [f"e{n}" for n in range(100, 110)]
    assert source.garbage.count == 0


def test_fingerprint_of_a_short_file_grows_with_it(tmp_path: Path) -> None:
    """A head taken while the file was under 4 KiB still matches once it is longer (appends only)."""
    log = tmp_path / "a.jsonl"
    log.write_bytes(_line(0))
    source = JsonlSource([log])
    assert len(source.poll().events) == 1
    with open(log, "ab") as handle:
        handle.write(_lines(range(1, 100)))
    assert len(source.poll().events) == 99
    with open(log, "ab") as handle:
        handle.write(_line(100))
    assert [e.id for e in source.poll().events] == ["e100"]


def test_checkpoint_without_fingerprint_still_resumes_where_it_stopped(tmp_path: Path) -> None:
    """Checkpoints saved before files had a fingerprint: it is taken at the next read, nothing re-read."""
    log = tmp_path / "a.jsonl"
    log.write_bytes(_lines(range(3)))
    first = JsonlSource([log])
    first.poll()
    saved = {
        key: {k: v for k, v in item.items() if k != "head"}
        for key, item in first.follower.checkpoint().items()
    }
    with open(log, "ab") as handle:
        handle.write(_line(3))
    second = JsonlSource([log])
    second.follower.restore(saved)
    assert [e.id for e in second.poll().events] == ["e3"]
    assert all("head" in item for item in second.follower.checkpoint().values())


def test_copytruncate_rotation_reads_each_event_once(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    log.write_bytes(_lines(range(3)))
    source = JsonlSource([log])
    assert [e.id for e in source.poll().events] == ["e0", "e1", "e2"]
    with open(log, "ab") as handle:
        handle.write(_line(3))  # written before the rotation, not yet read
    shutil.copyfile(log, tmp_path / "x.jsonl.1")
    os.truncate(log, 0)
    with open(log, "ab") as handle:
        handle.write(_line(4))
    assert [e.id for e in source.poll().events] == ["e3", "e4"]
    assert source.garbage.count == 0


def test_start_at_end_numbers_later_lines_from_the_start_of_the_file(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    log.write_bytes(_lines(range(100)))
    source = JsonlSource([log], start_at_end=True)
    assert source.poll().events == []
    with open(log, "ab") as handle:
        handle.write(_line(100) + b"not json\n")
    assert [e.id for e in source.poll().events] == ["e100"]
    assert [r.split(": ")[0] for r in source.garbage.recent] == [f"{log}:102"]


def test_too_deeply_nested_line_is_garbage_and_the_rest_is_read(tmp_path: Path) -> None:
    log = tmp_path / "x.jsonl"
    deep = b'{"batch":' + b"[" * 100_000 + b"\n"
    log.write_bytes(_lines(range(1, 4)) + deep + _line(4))
    source = JsonlSource([log])
    assert [e.id for e in source.poll().events] == ["e1", "e2", "e3", "e4"]
    assert [r.split(": ")[0] for r in source.garbage.recent] == [f"{log}:4"]


def test_copytruncate_copy_on_the_reused_inode_of_the_oldest_rotation(tmp_path: Path) -> None:
    """logrotate deletes the oldest rotation, then copies: the copy may get that file's inode."""
    log, oldest = tmp_path / "x.jsonl", tmp_path / "x.jsonl.2"
    oldest.write_bytes(_lines(range(100, 102)))
    log.write_bytes(_lines(range(3)))
    first = JsonlSource([log])
    assert len(first.poll().events) == 5
    saved, oldest_key = first.follower.checkpoint(), _key(oldest)
    oldest.unlink()
    shutil.copyfile(log, tmp_path / "x.jsonl.1")
    os.truncate(log, 0)
    with open(log, "ab") as handle:
        handle.write(_line(3))
    second = JsonlSource([log])
    second.follower.restore(_reused(saved, oldest_key, _key(tmp_path / "x.jsonl.1")))
    assert [e.id for e in second.poll().events] == ["e3"]
    assert second.garbage.count == 0


def _transcript_line(mid: str) -> str:
    """An assistant line as Claude Code writes it; lines of one project share a long common start."""
    record = {
        "parentUuid": None, "isSidechain": False, "userType": "external", "cwd": "/home/u/app",
        "type": "assistant", "sessionId": "S", "version": "2.0.14", "requestId": f"r{mid}",
        "timestamp": "2025-11-03T10:00:00.000Z",
        "message": {"id": mid, "model": "claude-sonnet-4-5-20250929", "content": [],
                    "usage": {"input_tokens": 10, "output_tokens": 1}},
    }  # fmt: skip
    return json.dumps(record, separators=(",", ":")) + "\n"


def test_claude_code_transcript_on_a_reused_inode_after_restart_is_read_whole(tmp_path: Path) -> None:
    """Claude Code deletes old transcripts; a new one on the freed inode is read from its first line."""
    project = tmp_path / "claude" / "projects" / "-home-u-app"
    project.mkdir(parents=True)
    store = CheckpointStore(tmp_path / "state")
    old = project / "old-session.jsonl"
    old.write_text("".join(_transcript_line(f"old{i}") for i in range(5)))
    first = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    assert len(first.poll().events) == 5
    first.close()
    old_key = _key(old)
    old.unlink()
    new = project / "new-session.jsonl"
    new.write_text("".join(_transcript_line(f"new{i}") for i in range(10)))
    saved = store.load(first.kind, first._identity)
    assert saved is not None
    head = {**saved.state, "files": _reused(saved.state["files"], old_key, _key(new))}
    store.save(first.kind, first._identity, head, saved.body())
    second = ClaudeCodeSource([tmp_path / "claude"], checkpoints=store, settle_s=0)
    assert sorted(e.id for e in second.poll().events if e.id.startswith("cc:new")) == [
        f"cc:new{i}:rnew{i}" for i in range(10)
    ]
    assert second.garbage.count == 0
