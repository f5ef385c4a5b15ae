"""A source that cannot be read is said on stderr; when none could be, ``report`` and ``tail --once`` exit 1
(a $0.00 report must not pass a CI budget gate)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.unit.cli.conftest import Cli


def test_report_over_nothing_readable_still_prints_but_fails(cli: Cli, tmp_path: Path) -> None:
    missing = tmp_path / "missing.jsonl"
    proc = cli("report", "--jsonl", missing, "--budget", "5", "--format", "json")
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"claudetop report: waiting for {missing}"]
    assert json.loads(proc.stdout)["sources"][0]["ok"] is False


def test_report_with_one_readable_source_warns_and_keeps_its_code(
    cli: Cli, sink: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "missing.jsonl"
    proc = cli("report", "--sink", sink, "--jsonl", missing, "--budget", "0.01")
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr.strip().splitlines() == [f"claudetop report: waiting for {missing}"]


def test_tail_once_over_unreadable_sinks(cli: Cli, not_a_database: Path, tmp_path: Path) -> None:
    for target, why in [
        (not_a_database, "file is not a database"),
        (tmp_path, ""),
        (tmp_path / "nowhere" / "x.db", "sink not found"),
    ]:
        proc = cli("tail", "--once", "--sink", target)
        assert "Traceback" not in proc.stderr
        assert proc.returncode == 1, proc.stderr
        [line] = proc.stderr.strip().splitlines()
        assert line.startswith(f"claudetop tail: {target}: {why}"), line


def test_tail_once_with_one_readable_sink_prints_and_warns(
    cli: Cli, sink: Path, not_a_database: Path
) -> None:
    proc = cli("tail", "--once", "--sink", sink, "--sink", not_a_database)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr.strip() == f"claudetop tail: {not_a_database}: file is not a database"


def test_tail_follow_says_a_missing_sink_once(cli_env: dict[str, str], tmp_path: Path) -> None:
    missing = tmp_path / "x.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "claudetop", "tail", "--sink", str(missing), "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env,
    )
    time.sleep(2)  # many polls
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert err.strip().splitlines() == [f"claudetop tail: {missing}: sink not found (waiting for it)"]
