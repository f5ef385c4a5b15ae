"""A reader that goes away (``claudetop ... | head``) ends any command quietly, keeping its exit code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def _into_closed_pipe(env: dict[str, str], *argv: str | Path) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "claudetop", *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the interpreter has even started: every write meets a closed pipe
    err = proc.stderr.read()
    return proc.wait(timeout=60), err


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (("policy", "list"), 0),
        (("policy", "audit"), 0),
        (("report", "--budget", "0.01"), 3),
        (("report", "--budget", "0.01", "--format", "json"), 3),
        (("report",), 0),
        (("tail", "--once"), 0),
    ],
)
def test_closed_pipe_keeps_the_exit_code_without_a_traceback(
    cli_env: dict[str, str], sink: Path, argv: tuple[str, ...], code: int
) -> None:
    rc, err = _into_closed_pipe(cli_env, *argv, "--sink", sink)
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert rc == code, err
