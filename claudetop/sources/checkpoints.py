"""Where each source got to, persisted so that a restart over a large history is fast and exact.

One file per source identity (the kind and the paths it reads), written atomically (temporary file +
``os.replace``) so a crash leaves the previous checkpoint, never half of one. A file holds a *head*
(what the source needs at every start: file offsets, a summary of what was read) on its first line
and, optionally, a *body* (what it needs only when there is something new to read: every counted
message of a long history) on the second. ``load`` parses the head alone; ``Saved.body`` parses the
body later, and only if the file still is the one the head came from.

A checkpoint that cannot be read or carries another format version is ignored: the source then reads
from the beginning, which is slower but still exact.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from claudetop.config import state_dir

FORMAT_VERSION = 2


def default_checkpoint_dir(env: dict[str, str] | None = None) -> Path:
    """``checkpoints`` in the state dir (``$CLAUDETOP_STATE_DIR`` or the platform's)."""
    return state_dir(env) / "checkpoints"


@dataclass(frozen=True, slots=True)
class Saved:
    """A loaded head, and the way to its body."""

    state: dict[str, Any]
    path: Path
    token: bytes | None
    """Written before the body, and in the head that goes with it; ``None``: saved without a body."""

    def body(self) -> Any | None:
        """The body saved with this head, or ``None`` if there is none, it cannot be read, or the file has
        been replaced since the head was read (another process saved a newer checkpoint)."""
        if self.token is None:
            return None
        try:
            with open(self.path, "rb") as handle:
                handle.readline()
                data = handle.read()
        except OSError:
            return None
        marker = self.token + b" "
        if not data.startswith(marker):
            return None
        try:
            return orjson.loads(memoryview(data)[len(marker) :])
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
            with open(path, "rb") as handle:
                data = orjson.loads(handle.readline())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        if data.get("format") != FORMAT_VERSION or data.get("identity") != identity:
            return None
        state, token = data.get("state"), data.get("body")
        if not isinstance(state, dict) or not (token is None or isinstance(token, str)):
            return None
        return Saved(state, path, None if token is None else token.encode())

    def save(self, kind: str, identity: str, state: dict[str, Any], body: Any | None = None) -> None:
        path = self.path_for(kind, identity)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = None if body is None else os.urandom(8).hex()
        document = {"format": FORMAT_VERSION, "identity": identity, "state": state, "body": token}
        parts = [orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS), b"\n"]
        if token is not None:
            parts += [token.encode(), b" ", orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)]
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
