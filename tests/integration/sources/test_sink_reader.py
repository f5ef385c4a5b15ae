"""SinkSource on real SQLite files: incremental, concurrent writers, recreation, read-only access."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claudetop.model import BatchState, BatchStatus, PolicyMode, PolicyName, UsageEvent
from claudetop.sinks import SQLiteSink, connect_sqlite
from claudetop.sources import CheckpointStore, SinkSource
from claudetop.sources.sink_history import read_sink_history
from tests.as_nobody import needs_root, run_as_nobody, world_readable_dir

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _events(prefix: str, n: int) -> list[UsageEvent]:
    return [
        UsageEvent(id=f"{prefix}-{i}", ts=NOW, model="claude-haiku-4-5", output_tokens=i) for i in range(n)
    ]


def test_reads_only_new_rows_each_poll(tmp_path: Path) -> None:
    db = tmp_path / "sink.db"
    with SQLiteSink(db) as sink:
        sink.write_events(_events("a", 3))
        source = SinkSource(db)
        assert [e.id for e in source.poll().events] == ["a-0", "a-1", "a-2"]
        assert source.poll().events == []
        sink.write_events(_events("b", 2))
        assert [e.id for e in source.poll().events] == ["b-0", "b-1"]
    assert source.health().ok


def test_reads_while_a_writer_writes(tmp_path: Path) -> None:
    db = tmp_path / "sink.db"
    SQLiteSink(db).close()
    source = SinkSource(db)
    done = threading.Event()

    def write() -> None:
        with SQLiteSink(db) as sink:
            for batch in range(100):
                sink.write_events(_events(f"w{batch}", 50))
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen: list[str] = []
    while not done.is_set():
        seen.extend(e.id for e in source.poll().events)
    writer.join()
    seen.extend(e.id for e in source.poll().events)
    assert len(seen) == 5000 == len(set(seen))


def test_notices_delete_and_recreate(tmp_path: Path) -> None:
    db = tmp_path / "sink.db"
    with SQLiteSink(db) as sink:
        sink.write_events(_events("old", 5))
    source = SinkSource(db)
    assert len(source.poll().events) == 5
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    source.poll()
    assert not source.health().ok
    with SQLiteSink(db) as sink:
        sink.write_events(_events("new", 2))
    assert [e.id for e in source.poll().events] == ["new-0", "new-1"]
    assert source.recreations >= 1


def test_replaced_file_with_fewer_rows_is_reread(tmp_path: Path) -> None:
    db, other = tmp_path / "sink.db", tmp_path / "other.db"
    with SQLiteSink(db) as sink:
        sink.write_events(_events("old", 5))
    with SQLiteSink(other) as sink:
        sink.write_events(_events("other", 2))
    source = SinkSource(db)
    assert len(source.poll().events) == 5
    os.replace(other, db)
    assert [e.id for e in source.poll().events] == ["other-0", "other-1"]


def test_batches_and_policies_reported_when_they_change(tmp_path: Path) -> None:
    db = tmp_path / "sink.db"
    state = BatchState(id="b1", status=BatchStatus.IN_PROGRESS, processing=3, created_at=NOW, updated_at=NOW)
    with SQLiteSink(db) as sink:
        sink.write_batches([state])
        source = SinkSource(db)
        first = source.poll()
        assert [b.id for b in first.batches] == ["b1"]
        assert first.policies is not None and first.policies.mode(PolicyName.CACHE) is PolicyMode.OFF
        again = source.poll()
        assert again.batches == [] and again.policies is None
        later = NOW.replace(hour=13)
        sink.write_batches([state.model_copy(update={"status": BatchStatus.ENDED, "updated_at": later})])
        conn = connect_sqlite(db)
        conn.execute(
            "INSERT INTO policies (name, mode, params, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)",
            ("cache", "shadow", '{"ttl": "1h"}', NOW.isoformat(), "test"),
        )
        conn.close()
        changed = source.poll()
    assert [b.status for b in changed.batches] == [BatchStatus.ENDED]
    assert changed.policies is not None
    assert changed.policies.mode(PolicyName.CACHE) is PolicyMode.SHADOW
    assert changed.policies.get(PolicyName.CACHE).params == {"ttl": "1h"}


def test_checkpoint_restart_reads_only_the_rest(tmp_path: Path) -> None:
    db = tmp_path / "sink.db"
    store = CheckpointStore(tmp_path / "state")
    with SQLiteSink(db) as sink:
        sink.write_events(_events("a", 4))
        assert len(SinkSource(db, checkpoints=store).poll().events) == 4
        sink.write_events(_events("b", 1))
    assert [e.id for e in SinkSource(db, checkpoints=store).poll().events] == ["b-0"]


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    with world_readable_dir() as path:
        yield path


def _read_as_nobody(db: Path) -> list[str]:
    """Read the sink as ``nobody`` both ways — incrementally and as SQL-aggregated history (what
    ``report`` and the monitor do first): (events, immutable fallback used, healthy, history events)."""

    def read() -> str:
        source = SinkSource(db)
        events = source.poll().events
        history = read_sink_history(db, minute_span_s=3600, detail_span_s=3600)
        return f"{len(events)} {source.immutable} {source.health().ok} {history.events}"

    return run_as_nobody(read).split()


@needs_root
def test_reads_a_sink_the_user_cannot_write(shared_dir: Path) -> None:
    """Owner writes; another user with read-only access to the file and its directory still reads it."""
    db = shared_dir / "sink.db"
    with SQLiteSink(db) as sink:
        sink.write_events(_events("ro", 7))
        db.chmod(0o644)
        for suffix in ("-wal", "-shm"):
            if Path(f"{db}{suffix}").exists():
                Path(f"{db}{suffix}").chmod(0o644)
        shared_dir.chmod(0o555)
        count, _immutable, ok, history = _read_as_nobody(db)
        assert (count, ok, history) == ("7", "True", "7")
    shared_dir.chmod(0o755)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shared_dir.chmod(0o555)
    assert _read_as_nobody(db) == ["7", "True", "True", "7"], "no -shm can be created: immutable fallback"
