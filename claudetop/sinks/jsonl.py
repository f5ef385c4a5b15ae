"""The JSONL sink: one ``UsageEvent.model_dump_json()`` per line, append-only, rotated by size.

Several processes may append to the same file. Each batch of whole lines goes out in a single
``write`` on an ``O_APPEND`` descriptor, under an exclusive ``flock`` on a hidden sidecar lock
file (``.x.jsonl.lock``) that never rotates. Under that lock a writer also checks that the path
still names the file it holds open (another process may have rotated it) and rotates when the
next write would pass ``max_bytes``: ``x.jsonl`` → ``x.jsonl.1`` → … → ``x.jsonl.<keep>``, the
oldest dropped. Readers see only complete lines, in ``x.jsonl.<n>`` … ``x.jsonl.1``, ``x.jsonl`` order.

Batch states are written as lines too, ``{"batch": {...}}``, so a reader can tell them apart from
events (which never have a ``batch`` key).
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path

from claudetop.model import BatchState, UsageEvent

FILE_MODE = 0o600
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_KEEP = 5


def rotated_paths(path: Path, keep: int) -> list[Path]:
    """The files of a rotated log, oldest first, whether or not they exist."""
    return [path.with_name(f"{path.name}.{n}") for n in range(keep, 0, -1)] + [path]


class JsonlSink:
    """Appends events and batch states to ``path`` as JSON lines; see the module docstring."""

    def __init__(
        self, path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES, keep: int = DEFAULT_KEEP
    ) -> None:
        if max_bytes <= 0 or keep < 1:
            raise ValueError("max_bytes must be positive and keep at least 1")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep = keep
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(
            self.path.with_name(f".{self.path.name}.lock"), os.O_CREAT | os.O_RDWR, FILE_MODE
        )
        self._fd: int | None = None

    def write_events(self, events: Sequence[UsageEvent]) -> None:
        self._append(b"".join(e.model_dump_json().encode() + b"\n" for e in events))

    def write_batches(self, states: Sequence[BatchState]) -> None:
        self._append(
            b"".join(
                json.dumps({"batch": s.model_dump(mode="json")}, separators=(",", ":")).encode() + b"\n"
                for s in states
            )
        )

    def _append(self, data: bytes) -> None:
        if not data:
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            fd = self._current_fd()
            size = os.fstat(fd).st_size
            if size > 0 and size + len(data) > self.max_bytes:
                self._rotate()
                fd = self._current_fd()
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _current_fd(self) -> int:
        """The descriptor of the file ``path`` names now, re-opened if it was rotated away."""
        if self._fd is not None:
            try:
                same = os.stat(self.path).st_ino == os.fstat(self._fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                return self._fd
            os.close(self._fd)
            self._fd = None
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        return self._fd

    def _rotate(self) -> None:
        files = rotated_paths(self.path, self.keep)
        for older, newer in itertools.pairwise(files):
            if newer.exists():
                os.replace(newer, older)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
