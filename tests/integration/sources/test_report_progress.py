"""``claudetop report`` over a long first read shows a progress bar on a terminal, and only there, while
its Claude Code scan still runs in parallel processes."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from bench.ingest import generate_corpus


def test_a_long_first_read_draws_a_bar_on_a_terminal_and_nothing_on_a_pipe(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    generate_corpus(config, 200 << 20, seed=2)  # a read of more than a fifth of a second, in parallel
    cmd = [sys.executable, "-m", "claudetop", "report", "--claude-code", str(config), "--format", "json"]
    cmd += ["--since", "2000-01-01"]
    env = dict(os.environ, CLAUDETOP_STATE_DIR=str(tmp_path / "state"), TZ="UTC")
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    out, _ = proc.communicate(timeout=120)
    drawn = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    assert proc.returncode == 0 and json.loads(out)["totals"]["requests"] > 0
    assert b" files " in drawn and b"MiB/s" in drawn and drawn.endswith(b"\r\x1b[K")

    piped = subprocess.run(cmd, env=dict(env, CLAUDETOP_STATE_DIR=str(tmp_path / "fresh")),
                           capture_output=True, timeout=120)  # fmt: skip
    assert piped.returncode == 0 and piped.stderr == b""
    assert json.loads(piped.stdout)["totals"] == json.loads(out)["totals"]
