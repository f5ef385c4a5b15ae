"""A transcript the user cannot open: the rest is read, the read completes, and the health says why."""

from __future__ import annotations

from claudetop.sources import ClaudeCodeSource
from tests.as_nobody import needs_root, run_as_nobody, world_readable_dir
from tests.integration.sources.transcript_lines import assistant_line


@needs_root
def test_an_unreadable_transcript_is_reported_and_the_rest_is_read() -> None:
    with world_readable_dir() as config:
        project = config / "projects" / "-home-u-app"
        project.mkdir(parents=True)
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
            return "|".join([ids, str(health.ok), str(complete), health.message or ""])

        ids, ok, complete, message = run_as_nobody(read).split("|")
    assert (ids, ok, complete) == ("cc:msgA:req-msgA", "False", "True")
    assert message == f"cannot read 1 transcript(s), e.g. {closed}: Permission denied"
