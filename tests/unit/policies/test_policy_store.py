"""PolicyStore over a real SQLite sink file: settings, audit trail, and cheap change detection."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from claudetop.config import Config
from claudetop.model import PolicyMode, PolicyName, PolicySet
from claudetop.policies.store import CHECK_INTERVAL_S, NotASQLiteSink, PolicyStore


class StepClock:
    """A monotonic clock the test moves by hand, so "within the check interval" is exact."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def sink(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


def test_missing_policy_is_off_and_set_round_trips(sink: Path) -> None:
    with PolicyStore(sink, config=Config()) as store:
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.OFF
        change = store.set("cache", "enforce", {"ttl": "1h"}, by="alice", reason="hit ratio 0%")
        assert (change.from_mode, change.to_mode, change.by) == (PolicyMode.OFF, PolicyMode.ENFORCE, "alice")
        setting = store.current().get(PolicyName.CACHE)
        assert setting.mode is PolicyMode.ENFORCE
        assert setting.params == {"ttl": "1h"}
        assert setting.updated_by == "alice"


def test_params_none_keeps_existing_params(sink: Path) -> None:
    with PolicyStore(sink, config=Config()) as store:
        store.set("cache", "shadow", {"ttl": "auto"}, by="a")
        store.set("cache", "enforce", by="b")
        assert store.current().get(PolicyName.CACHE).params == {"ttl": "auto"}


def test_audit_trail_newest_first_with_from_and_to(sink: Path) -> None:
    with PolicyStore(sink, config=Config()) as store:
        store.set("cache", "enforce", by="alice")
        store.set("cache", "off", by="bob", reason="rollback")
        store.set("output_caps", "shadow", by="carol")
        trail = store.audit()
    assert [(c.name, c.from_mode, c.to_mode, c.by) for c in trail] == [
        (PolicyName.OUTPUT_CAPS, PolicyMode.OFF, PolicyMode.SHADOW, "carol"),
        (PolicyName.CACHE, PolicyMode.ENFORCE, PolicyMode.OFF, "bob"),
        (PolicyName.CACHE, PolicyMode.OFF, PolicyMode.ENFORCE, "alice"),
    ]
    assert trail[1].reason == "rollback"


def test_another_process_change_seen_after_the_check_interval_without_per_call_queries(sink: Path) -> None:
    clock = StepClock()
    reader = PolicyStore(sink, config=Config(), clock=clock)
    writer = PolicyStore(sink, config=Config())
    statements: list[str] = []
    assert reader.current().mode(PolicyName.CACHE) is PolicyMode.OFF
    reader._db.conn.set_trace_callback(statements.append)

    writer.set("cache", "enforce", by="ops")
    for _ in range(1000):
        assert reader.current().mode(PolicyName.CACHE) is PolicyMode.OFF
    assert statements == []

    clock.t += CHECK_INTERVAL_S
    assert reader.current().mode(PolicyName.CACHE) is PolicyMode.ENFORCE
    assert CHECK_INTERVAL_S <= 1.0
    reader.close()
    writer.close()


def test_unchanged_file_costs_one_pragma_per_interval(sink: Path) -> None:
    clock = StepClock()
    with PolicyStore(sink, config=Config(), clock=clock) as store:
        store.current()
        statements: list[str] = []
        store._db.conn.set_trace_callback(statements.append)
        for _ in range(10):
            clock.t += CHECK_INTERVAL_S
            store.current()
    assert statements == ["PRAGMA data_version"] * 10


def test_bad_names_and_modes_are_errors(sink: Path) -> None:
    with PolicyStore(sink, config=Config()) as store:
        with pytest.raises(ValueError, match="speed"):
            store.set("speed", "enforce")
        with pytest.raises(ValueError, match="sometimes"):
            store.set("cache", "sometimes")
        assert store.audit() == []


def test_jsonl_sink_cannot_hold_policies(tmp_path: Path) -> None:
    with pytest.raises(NotASQLiteSink, match="SQLite"):
        PolicyStore(tmp_path / "events.jsonl", config=Config())


def test_a_reader_racing_the_first_read_gets_the_stored_settings_not_the_defaults(sink: Path) -> None:
    """``current`` skips the lock while the settings are fresh; before the first read they are not."""
    with PolicyStore(sink, config=Config()) as writer:
        writer.set("batching", "enforce", by="test")
    store = PolicyStore(sink, config=Config())
    reading, release = threading.Event(), threading.Event()
    read = store._read_policies

    def slow_read() -> PolicySet:
        reading.set()
        release.wait(5)
        return read()

    store._read_policies = slow_read  # type: ignore[method-assign]
    first = threading.Thread(target=store.current)
    first.start()
    assert reading.wait(5)
    seen: list[PolicyMode] = []
    second = threading.Thread(target=lambda: seen.append(store.current().mode(PolicyName.BATCHING)))
    second.start()
    second.join(0.2)
    release.set()
    first.join(5)
    second.join(5)
    store.close()
    assert seen == [PolicyMode.ENFORCE]


def test_a_sink_deleted_and_created_anew_is_the_one_read_and_written(sink: Path) -> None:
    """A monitor left running across a new sink must not keep talking to the deleted file."""
    clock = StepClock()
    with PolicyStore(sink, config=Config(), clock=clock) as store:
        store.set("cache", "shadow", by="before")
        for path in sink.parent.glob(sink.name + "*"):
            path.unlink()
        with PolicyStore(sink, config=Config()) as fresh:
            fresh.set("routing", "shadow", by="after")
        clock.t += CHECK_INTERVAL_S
        now = store.current()
        assert (now.mode(PolicyName.CACHE), now.mode(PolicyName.ROUTING)) == (
            PolicyMode.OFF,
            PolicyMode.SHADOW,
        )
        store.set("batching", "shadow", by="monitor")
    with PolicyStore(sink, config=Config()) as reader:
        assert reader.current().mode(PolicyName.BATCHING) is PolicyMode.SHADOW
