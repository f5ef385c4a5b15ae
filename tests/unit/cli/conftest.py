"""Run ``claudetop`` as a user does: a subprocess whose state, config and data dirs are the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from claudetop.model import UsageEvent
from claudetop.pricing import price_event
from claudetop.sinks import SQLiteSink

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in (
        "CLAUDETOP_STATE_DIR",
        "XDG_STATE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "CLAUDE_CONFIG_DIR",
    ):
        env[name] = str(tmp_path / "env" / name.lower())
    env["HOME"] = str(tmp_path / "env" / "home")
    for name in ("CLAUDETOP_CONFIG", "CLAUDETOP_SINK", "CLAUDETOP_BUDGET_USD", "ANTHROPIC_ADMIN_KEY"):
        env.pop(name, None)
    return env


@pytest.fixture
def cli(cli_env: dict[str, str]) -> Cli:
    """``cli("report", "--sink", p)``: the finished run, its output as text."""

    def run(*argv: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "claudetop", *map(str, argv)],
            capture_output=True,
            text=True,
            env=cli_env,
            timeout=timeout,
        )

    return run


@pytest.fixture
def sink(tmp_path: Path) -> Path:
    """A SQLite sink with one priced request from now (so this month's report and projection see it)."""
    path = tmp_path / "events.db"
    event = UsageEvent(
        id="e1",
        ts=datetime.now(UTC),
        task="chat",
        model="claude-opus-4-7",
        input_tokens=100_000,
        output_tokens=10_000,
    )
    with SQLiteSink(path) as s:
        s.write_events([price_event(event)])
    return path


@pytest.fixture
def not_a_database(tmp_path: Path) -> Path:
    path = tmp_path / "notes.db"
    path.write_text("this is not sqlite\n")
    return path


def assert_one_line_error(proc: subprocess.CompletedProcess[str], code: int, prefix: str) -> str:
    """The run failed with ``code`` and a single ``claudetop <cmd>: ...`` line on stderr, no traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(prefix), proc.stderr
    return lines[0]
