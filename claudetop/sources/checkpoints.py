"""Where each source got to, persisted so that a restart over a large history is fast and exact.

One file per source identity (the kind and the paths it reads), written atomically (temporary file +
``os.replace``) so a crash leaves the previous checkpoint, never half of one. A file holds a *head*
(what the source needs at every start: file offsets, a summary of what was read) on its first line
and, optionally, a *body* (what it needs only when there is something new to read: every counted
message of a long history) on the second. ``load`` reads the whole file but parses the head alone;
``Saved.body`` parses the body later, from those same bytes, so head and body are always one save's.

A checkpoint that cannot be read or carries another format version is ignored: the source then reads
from the beginning, which is slower but still exact.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from claudetop.config import state_dir

FORMAT_VERSION = 3


def default_checkpoint_dir(env: dict[str, str] | None = None) -> Path:
    """``checkpoints`` in the state dir (``$CLAUDETOP_STATE_DIR`` or the platform's)."""
    return state_dir(env) / "checkpoints"


@dataclass(frozen=True, slots=True)
class Saved:
    """A loaded head, and the body that was saved with it, not parsed yet."""

    state: dict[str, Any]
    raw_body: bytes = field(repr=False)

    def body(self) -> Any | None:
        """The body saved with this head; ``None`` if it was saved without one or cannot be parsed."""
        if not self.raw_body:
            return None
        try:
            return orjson.loads(self.raw_body)
        except orjson.JSONDecodeError:
            return None


class CheckpointStore:
    """Loads and saves checkpoints under ``directory`` (created 0700 on first save)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_checkpoint_dir()

    def path_for(self, kind: str, identity: str) -> Path:
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        return self.directory / f"{kind}-{digest}.json"

    def load(self, kind: str, identity: str) -> Saved | None:
        path = self.path_for(kind, identity)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        head, _newline, body = data.partition(b"\n")
        try:
            document = orjson.loads(head)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(document, dict):
            return None
        if document.get("format") != FORMAT_VERSION or document.get("identity") != identity:
            return None
        state = document.get("state")
        return Saved(state, body) if isinstance(state, dict) else None

    def save(self, kind: str, identity: str, state: dict[str, Any], body: Any | None = None) -> None:
        path = self.path_for(kind, identity)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {"format": FORMAT_VERSION, "identity": identity, "state": state}
        parts = [orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS), b"\n"]
        if body is not None:
            parts.append(orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS))
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.writelines(parts)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self, kind: str, identity: str) -> None:
        self.path_for(kind, identity).unlink(missing_ok=True)
