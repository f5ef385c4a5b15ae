"""A log or transcript the user cannot open: the rest is read, the read completes, and the source's
health says which file and why (until the file is gone)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claudetop.model import UsageEvent
from claudetop.sources import ClaudeCodeSource, JsonlSource
from claudetop.sources.types import Source
from tests.as_nobody import needs_root, run_as_nobody, world_readable_dir
from tests.integration.sources.transcript_lines import assistant_line


def _jsonl(mid: str) -> str:
    return UsageEvent(id=mid, ts=datetime(2026, 1, 1, tzinfo=UTC), model="claude-haiku-4-5").model_dump_json()


def _transcript(mid: str) -> str:
    return assistant_line(mid, "2025-12-01T10:00:00.000Z", 3)


FOLDER = "projects/-home-u-app"
CASES: dict[str, tuple[Callable[[Path], Source], Callable[[str], str], str]] = {
    "jsonl": (lambda root: JsonlSource([root / FOLDER]), _jsonl, "msgA"),
    "claude-code": (lambda root: ClaudeCodeSource([root], settle_s=0), _transcript, "cc:msgA:req-msgA"),
}


@needs_root
@pytest.mark.parametrize("kind", CASES)
def test_an_unreadable_file_is_reported_and_the_rest_is_read(kind: str) -> None:
    open_source, line, first_id = CASES[kind]
    with world_readable_dir() as root:
        folder = root / FOLDER
        folder.mkdir(parents=True)
        folder.chmod(0o777)  # the reader may delete what it cannot read
        (folder / "open.jsonl").write_text(line("msgA") + "\n")
        closed = folder / "closed.jsonl"
        closed.write_text(line("msgB") + "\n")
        closed.chmod(0o600)
        assert len(open_source(root).poll().events) == 2  # as the owner; also loads what is imported late

        def read() -> str:
            source = open_source(root)
            ids = ",".join(e.id for e in source.poll().events)
            health = source.health()
            complete = source.progress.snapshot().complete
            closed.unlink()
            source.poll()
            return "|".join(
                [ids, str(health.ok), str(complete), health.message or "", str(source.health().ok)]
            )

        ids, ok, complete, message, ok_once_gone = run_as_nobody(read).split("|")
    assert (ids, ok, complete, ok_once_gone) == (first_id, "False", "True", "True")
    assert message == f"cannot read 1 file(s), e.g. {closed}: Permission denied"
