"""``JsonlSource``: what ``claudetop.sinks.JsonlSink`` writes, followed as files grow and rotate.

One ``UsageEvent`` per line, and ``{"batch": {...}}`` lines for batch states. Anything else is
garbage: counted, reported as ``path:line``, skipped — the rest of the file is still read. The file
mechanics (offsets, rotation, truncation) are ``sources.follow``'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from claudetop.model import BatchState, UsageEvent
from claudetop.sources.checkpoints import CheckpointStore
from claudetop.sources.follow import GarbageLog, LineFollower, unreadable_message
from claudetop.sources.progress import Progress
from claudetop.sources.types import SourceDelta, SourceHealth


def _short_reason(err: Exception) -> str:
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text[:120]


class JsonlSource:
    """Events and batch states from JSONL files written by ``JsonlSink`` (files or directories)."""

    kind = "jsonl"

    def __init__(
        self,
        paths: Sequence[Path | str],
        *,
        checkpoints: CheckpointStore | None = None,
        start_at_end: bool = False,
    ) -> None:
        self.paths = [Path(p).expanduser().absolute() for p in paths]
        self.name = "jsonl:" + ",".join(str(p) for p in self.paths)
        self.follower = LineFollower(self.paths)
        self.progress = Progress("bytes")
        self.garbage = GarbageLog()
        self.events_read = 0
        self._checkpoints = checkpoints
        self._identity = "\n".join(sorted(str(p) for p in self.paths))
        if checkpoints is not None:
            saved = checkpoints.load(self.kind, self._identity)
            if saved is not None:
                self.follower.restore(saved.state.get("files", {}))
        if start_at_end:
            self.follower.start_at_end()

    def poll(self) -> SourceDelta:
        stats = self.follower.stat_all()
        self.progress.plan(self.progress.snapshot().done + self.follower.pending_bytes(stats), len(stats))
        delta = SourceDelta()
        for chunk in self.follower.read(stats, self.progress):
            for number, line in chunk.lines():
                self._parse(chunk.state.path, number, line, delta)
        self.progress.finish()
        self.events_read += len(delta.events)
        if self._checkpoints is not None and (delta.events or delta.batches):
            self._checkpoints.save(self.kind, self._identity, {"files": self.follower.checkpoint()})
        return delta

    def _parse(self, path: str, number: int, line: bytes, delta: SourceDelta) -> None:
        if not line.strip():
            return
        try:
            if line.startswith(b'{"batch":'):
                data = json.loads(line)
                if set(data) != {"batch"}:
                    raise ValueError("a batch line holds only a 'batch' object")
                delta.batches.append(BatchState.model_validate(data["batch"]))
            else:
                delta.events.append(UsageEvent.model_validate_json(line))
        except (ValidationError, ValueError, RecursionError) as err:  # json recurses on nested arrays
            self.garbage.add(path, number, _short_reason(err))

    def health(self) -> SourceHealth:
        missing = [str(p) for p in self.paths if not p.exists()]
        message = None
        if missing:
            message = "waiting for " + ", ".join(missing)
        if self.garbage.recent:
            message = f"{self.garbage.count} garbage lines, last {self.garbage.recent[-1]}"
        unreadable = unreadable_message(self.follower.unreadable)
        return SourceHealth(
            name=self.name,
            ok=not missing and unreadable is None,
            message=unreadable or message,
            events_read=self.events_read,
            garbage_lines=self.garbage.count,
            last_error_at=self.garbage.last_at,
        )
