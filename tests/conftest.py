"""Fixtures shared by every test layer.

The suite must not read or write the developer's own claudetop state, config or Claude Code
transcripts, so the directories claudetop looks in point at a fresh temporary tree for the
whole session (subprocesses inherit it through the environment).
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

_ISOLATED = Path(tempfile.mkdtemp(prefix="claudetop-tests-"))
atexit.register(shutil.rmtree, _ISOLATED, ignore_errors=True)

for name, sub in {
    "CLAUDETOP_STATE_DIR": "state",
    "XDG_STATE_HOME": "xdg-state",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_DATA_HOME": "xdg-data",
    "CLAUDE_CONFIG_DIR": "claude",
}.items():
    path = _ISOLATED / sub
    path.mkdir()
    os.environ[name] = str(path)
os.environ.pop("CLAUDETOP_CONFIG", None)
os.environ.pop("CLAUDETOP_SINK", None)
