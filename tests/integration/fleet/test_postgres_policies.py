"""The policy store on the fleet database: same behaviour as on SQLite, and no I/O on the caller's thread."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from claudetop.config import Config
from claudetop.model import PolicyMode, PolicyName
from claudetop.policies import PolicyRefused, PolicyStore, record_eval
from claudetop.policies.db import POSTGRES_POLL_S, PostgresPolicyDb
from claudetop.policies.evals import MIN_EVALS, write_eval
from claudetop.sinks import open_sink
from tests.forked import in_forked_child
from tests.pg_server import PostgresServer
from tests.unit.sinks.factories import make_event

pytestmark = pytest.mark.postgres


def _wait_for(predicate: object, timeout: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


def test_set_current_and_audit(pg_dsn: str) -> None:
    with PolicyStore(pg_dsn, config=Config()) as store:
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.OFF
        store.set("cache", "enforce", {"ttl": "1h"}, by="alice", reason="go")
        store.set("cache", "shadow", by="bob")
        current = store.current().settings[PolicyName.CACHE]
        assert (current.mode, current.params, current.updated_by) == (PolicyMode.SHADOW, {"ttl": "1h"}, "bob")
        trail = store.audit()
    assert [(c.from_mode, c.to_mode, c.by) for c in trail] == [
        (PolicyMode.ENFORCE, PolicyMode.SHADOW, "bob"),
        (PolicyMode.OFF, PolicyMode.ENFORCE, "alice"),
    ]
    assert trail[1].reason == "go"


def test_a_change_made_elsewhere_is_seen_within_a_second(pg_dsn: str) -> None:
    with PolicyStore(pg_dsn, config=Config()) as reader, PolicyStore(pg_dsn, config=Config()) as writer:
        assert reader.current().mode(PolicyName.ROUTING) is PolicyMode.OFF
        writer.set("routing", "shadow", by="ops")
        took = _wait_for(lambda: reader.current().mode(PolicyName.ROUTING) is PolicyMode.SHADOW)
    assert took < 1.0


def test_the_routing_gate_counts_evals_in_the_fleet_database(pg_dsn: str) -> None:
    with open_sink(pg_dsn) as sink:
        sink.write_events([make_event(i, task="extraction", model="claude-sonnet-4-6") for i in range(3)])
    with PolicyStore(pg_dsn, config=Config()) as store:
        with pytest.raises(PolicyRefused, match="no evals recorded"):
            store.set("routing", "enforce", by="t")
        for _ in range(MIN_EVALS - 1):
            write_eval(store._db, "extraction", "claude-haiku-4-5", True, datetime.now(UTC))
        record_eval("extraction", "claude-haiku-4-5", True, sink=pg_dsn)
        assert store.set("routing", "enforce", by="t").to_mode is PolicyMode.ENFORCE


def test_reading_policies_during_an_outage_neither_raises_nor_waits(
    pg_dsn: str, postgres: PostgresServer
) -> None:
    with PolicyStore(pg_dsn, config=Config()) as store:
        store.set("output_caps", "enforce", by="t")
        assert store.current().mode(PolicyName.OUTPUT_CAPS) is PolicyMode.ENFORCE
        postgres.stop()
        try:
            time.sleep(3 * POSTGRES_POLL_S)
            for _ in range(50):
                assert store.current().mode(PolicyName.OUTPUT_CAPS) is PolicyMode.ENFORCE
                time.sleep(0.02)
        finally:
            postgres.start()
        with PolicyStore(pg_dsn, config=Config()) as other:
            other.set("output_caps", "off", by="t")
        _wait_for(lambda: store.current().mode(PolicyName.OUTPUT_CAPS) is PolicyMode.OFF, timeout=10)


def test_the_marker_is_read_without_a_query(pg_dsn: str) -> None:
    db = PostgresPolicyDb(pg_dsn)
    try:
        before = db.marker()
        db.write(
            lambda q: q("INSERT INTO eval_results (at, task, model, passed) VALUES ('x', 't', 'm', ?)", (1,))
        )
        _wait_for(lambda: db.marker() != before)
    finally:
        db.close()


def _backend_pid(store: PolicyStore) -> int:
    """The server process behind the store's own connection: a new one after a reconnect."""
    pid: int = store._db.rows("SELECT pg_backend_pid() AS pid")[0]["pid"]
    return pid


def test_a_forked_child_sees_policy_changes_and_the_parent_keeps_its_session(pg_dsn: str) -> None:
    """The poll thread does not cross a fork: the child polls on its own, over its own connection.
    The parent's session is compared by backend PID: its queries reconnect and retry, so a session
    the child had closed would go unnoticed by them."""
    with PolicyStore(pg_dsn, config=Config()) as store:
        assert store.current().mode(PolicyName.CACHE) is PolicyMode.OFF
        time.sleep(2 * POSTGRES_POLL_S)  # the parent's poll thread has read the marker
        session = _backend_pid(store)

        def child_sees_its_change() -> bool:
            with PolicyStore(pg_dsn, config=Config()) as other:
                other.set("cache", "shadow", by="child")
            _wait_for(lambda: store.current().mode(PolicyName.CACHE) is PolicyMode.SHADOW)
            return store.audit()[0].by == "child" and _backend_pid(store) != session

        assert in_forked_child(child_sees_its_change)
        assert _backend_pid(store) == session
        _wait_for(lambda: store.current().mode(PolicyName.CACHE) is PolicyMode.SHADOW)
        store.set("cache", "enforce", by="parent")
        assert [c.by for c in store.audit()] == ["parent", "child"]
