"""Where each source got to, persisted so that a restart over a large history is fast and exact.

One JSON document per source identity (the kind and the paths it reads), written atomically
(temporary file + ``os.replace``) so a crash leaves the previous checkpoint, never half of one.
A checkpoint that cannot be read or carries another format version is ignored: the source
then reads from the beginning, which is slower but still exact.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import orjson

from claudetop.config import state_dir

FORMAT_VERSION = 1


def default_checkpoint_dir(env: dict[str, str] | None = None) -> Path:
    """``checkpoints`` in the state dir (``$CLAUDETOP_STATE_DIR`` or the platform's)."""
    return state_dir(env) / "checkpoints"


class CheckpointStore:
    """Loads and saves checkpoint documents under ``directory`` (created 0700 on first save)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory if directory is not None else default_checkpoint_dir()

    def path_for(self, kind: str, identity: str) -> Path:
        digest = hashlib.sha256(identity.encode()).hexdigest()[:24]
        return self.directory / f"{kind}-{digest}.json"

    def load(self, kind: str, identity: str) -> dict[str, Any] | None:
        path = self.path_for(kind, identity)
        try:
            data = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        if data.get("format") != FORMAT_VERSION or data.get("identity") != identity:
            return None
        state = data.get("state")
        return state if isinstance(state, dict) else None

    def save(self, kind: str, identity: str, state: dict[str, Any]) -> None:
        path = self.path_for(kind, identity)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        document = {"format": FORMAT_VERSION, "identity": identity, "state": state}
        payload = orjson.dumps(document, option=orjson.OPT_NON_STR_KEYS)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def clear(self, kind: str, identity: str) -> None:
        self.path_for(kind, identity).unlink(missing_ok=True)
