"""A transcript the user cannot open: the rest is read, the read completes, and the health says why
(until the file is gone)."""

from __future__ import annotations

from claudetop.sources import ClaudeCodeSource
from tests.as_nobody import needs_root, run_as_nobody, world_readable_dir
from tests.integration.sources.transcript_lines import assistant_line


@needs_root
def test_an_unreadable_transcript_is_reported_and_the_rest_is_read() -> None:
    with world_readable_dir() as config:
        project = config / "projects" / "-home-u-app"
        project.mkdir(parents=True)
        project.chmod(0o777)  # the reader may delete what it cannot read
        (project / "open.jsonl").write_text(assistant_line("msgA", "2025-12-01T10:00:00.000Z", 3) + "\n")
        closed = project / "closed.jsonl"
        closed.write_text(assistant_line("msgB", "2025-12-01T10:00:00.000Z", 4) + "\n")
        closed.chmod(0o600)
        as_owner = ClaudeCodeSource([config], settle_s=0).poll().events  # loads what is imported late too
        assert len(as_owner) == 2

        def read() -> str:
            source = ClaudeCodeSource([config], settle_s=0)
            ids = ",".join(e.id for e in source.poll().events)
            health = source.health()
            complete = source.progress.snapshot().complete
            closed.unlink()
            source.poll()
            after = source.health()
            return "|".join([ids, str(health.ok), str(complete), health.message or "", str(after.ok)])

        ids, ok, complete, message, ok_once_gone = run_as_nobody(read).split("|")
    assert (ids, ok, complete, ok_once_gone) == ("cc:msgA:req-msgA", "False", "True", "True")
    assert message == f"cannot read 1 transcript(s), e.g. {closed}: Permission denied"
