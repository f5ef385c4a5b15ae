"""``CheckpointStore``: a head parsed at once, a body parsed later, always from the same save."""

from __future__ import annotations

import json
from pathlib import Path

from claudetop.sources.checkpoints import CheckpointStore


def test_head_and_body_round_trip_and_the_body_is_read_only_when_asked(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save("kind", "id", {"offset": 7}, {"entries": [[1, "a"], [2, "b"]]})
    saved = store.load("kind", "id")
    assert saved is not None and saved.state == {"offset": 7}
    assert saved.body() == {"entries": [[1, "a"], [2, "b"]]}
    store.save("kind", "id", {"offset": 8})
    head_only = store.load("kind", "id")
    assert head_only is not None and head_only.state == {"offset": 8} and head_only.body() is None


def test_the_body_is_the_one_saved_with_the_head_even_after_a_newer_save(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save("kind", "id", {"offset": 1}, {"entries": ["old"]})
    first = store.load("kind", "id")
    store.save("kind", "id", {"offset": 2}, {"entries": ["old", "new"]})  # another process's, meanwhile
    assert first is not None and first.body() == {"entries": ["old"]}
    second = store.load("kind", "id")
    assert second is not None and second.state == {"offset": 2}
    assert second.body() == {"entries": ["old", "new"]}


def test_damaged_unknown_or_foreign_checkpoints_are_ignored(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    path = store.path_for("kind", "id")
    store.save("kind", "id", {"offset": 1}, {"entries": list(range(100))})
    path.write_bytes(path.read_bytes()[:-10])  # a torn body (written by something other than save)
    torn = store.load("kind", "id")
    assert torn is not None and torn.state == {"offset": 1} and torn.body() is None
    path.write_text(json.dumps({"format": 1, "identity": "id", "state": {"offset": 1}}))  # older format
    assert store.load("kind", "id") is None
    store.save("kind", "other", {"offset": 1})
    store.path_for("kind", "other").replace(path)  # another identity's file under this name
    assert store.load("kind", "id") is None
    path.write_bytes(b"\x00garbage")
    assert store.load("kind", "id") is None
    assert store.load("kind", "never-saved") is None
