"""A fresh SQLite sink per test and a way to read back what the hook wrote (the fake API per test,
``fake`` on ``clock``, comes from ``tests/integration/conftest.py``)."""

from pathlib import Path

import pytest

from claudetop.hook import flush
from claudetop.model import BatchState, UsageEvent
from claudetop.sinks import connect_sqlite
from claudetop.sinks.schema import row_to_batch, row_to_event


@pytest.fixture
def sink(tmp_path: Path) -> Path:
    return tmp_path / "sink" / "events.db"


def read_events(sink: Path) -> list[UsageEvent]:
    assert flush(10.0), "the hook did not flush within 10 s"
    conn = connect_sqlite(sink, readonly=True)
    try:
        return [row_to_event(r) for r in conn.execute("SELECT * FROM events ORDER BY seq")]
    finally:
        conn.close()


def read_batches(sink: Path) -> dict[str, BatchState]:
    assert flush(10.0)
    conn = connect_sqlite(sink, readonly=True)
    try:
        rows = conn.execute("SELECT * FROM batches").fetchall()
    finally:
        conn.close()
    return {r["id"]: row_to_batch(r) for r in rows}
