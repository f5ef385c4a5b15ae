"""Many writer processes on one sink file, and a writer killed mid-transaction; real files and processes."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import time
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import pytest

from claudetop.sinks import JsonlSink, SQLiteSink, connect_sqlite
from claudetop.sinks.jsonl import rotated_paths
from tests.unit.sinks.factories import make_event

PROCESSES = 16
EVENTS_PER_PROCESS = 10_000
BATCH = 500

_fork = mp.get_context("fork")


def _write_all(kind: str, path: str, worker: int, go: EventType) -> None:
    sink = SQLiteSink(path) if kind == "sqlite" else JsonlSink(path, max_bytes=8 * 1024 * 1024, keep=100)
    events = [make_event(i, prefix=f"w{worker}") for i in range(EVENTS_PER_PROCESS)]
    go.wait()
    for start in range(0, EVENTS_PER_PROCESS, BATCH):
        sink.write_events(events[start : start + BATCH])
    sink.close()


def _run_writers(kind: str, path: Path) -> None:
    go = _fork.Event()
    procs = [_fork.Process(target=_write_all, args=(kind, str(path), w, go)) for w in range(PROCESSES)]
    for p in procs:
        p.start()
    go.set()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0] * PROCESSES


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sixteen_processes_into_one_sqlite_sink(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    _run_writers("sqlite", path)
    total = PROCESSES * EVENTS_PER_PROCESS
    with connect_sqlite(path, readonly=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*), count(DISTINCT id) FROM events").fetchone()[:] == (total, total)
        assert conn.execute("SELECT sum(api_calls) FROM rollups").fetchone()[0] == total
        expected_ids = {f"w{w}-{i}" for w in range(PROCESSES) for i in range(EVENTS_PER_PROCESS)}
        assert {r[0] for r in conn.execute("SELECT id FROM events")} == expected_ids


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sixteen_processes_into_one_rotating_jsonl_sink(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    _run_writers("jsonl", path)
    files = [p for p in rotated_paths(path, 100) if p.exists()]
    assert len(files) > 5, "the test must exercise rotation"
    ids = []
    for file in files:
        for line in file.read_text().splitlines():
            ids.append(json.loads(line)["id"])
    assert len(ids) == PROCESSES * EVENTS_PER_PROCESS
    assert set(ids) == {f"w{w}-{i}" for w in range(PROCESSES) for i in range(EVENTS_PER_PROCESS)}


KILL_BATCH = 2_000


def _write_until_killed(path: str, prefix: str, report_fd: int) -> None:
    batches = [[make_event(b * KILL_BATCH + i, prefix=prefix) for i in range(KILL_BATCH)] for b in range(20)]
    sink = SQLiteSink(path)
    for events in batches:  # built up front so the kill most likely lands inside write_events
        sink.write_events(events)
        os.write(report_fd, b"1")


@pytest.mark.slow
@pytest.mark.timeout(120)
@pytest.mark.parametrize("round_", range(3))
def test_sigkill_mid_write_leaves_a_sound_database(tmp_path: Path, round_: int) -> None:
    path = tmp_path / "events.db"
    committed_before = 0
    for victim in range(3):
        read_fd, write_fd = os.pipe()
        proc = _fork.Process(target=_write_until_killed, args=(str(path), f"v{victim}", write_fd))
        proc.start()
        os.close(write_fd)
        reported = 0
        while reported < 2 + round_ + victim:
            chunk = os.read(read_fd, 64)
            assert chunk, "writer died before it was killed"
            reported += len(chunk)
        time.sleep(0.013 * (round_ + 1) * (victim + 1))  # land somewhere inside a later transaction
        assert proc.pid is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
        reported += len(_drain(read_fd))
        os.close(read_fd)
        assert proc.exitcode == -signal.SIGKILL

        with connect_sqlite(path, readonly=True) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            mine = conn.execute("SELECT count(*) FROM events WHERE id LIKE ?", (f"v{victim}-%",)).fetchone()[
                0
            ]
            # Whole transactions only: every reported commit is there, at most one more (killed
            # after COMMIT, before the report), and never a part of one.
            assert mine % KILL_BATCH == 0
            assert reported * KILL_BATCH <= mine <= (reported + 1) * KILL_BATCH
            total = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            assert total == committed_before + mine
            assert conn.execute("SELECT sum(api_calls) FROM rollups").fetchone()[0] == total
        committed_before = total

    with SQLiteSink(path) as sink:  # the file still takes writes after the crashes
        sink.write_events([make_event(1, prefix="after")])


def _drain(fd: int) -> bytes:
    out = b""
    while chunk := os.read(fd, 64):
        out += chunk
    return out
