"""A command that only reads a sink, given a path where none exists, says ``no such sink`` and exits 2
(a mistyped path), creating nothing there: opening it would have made an empty SQLite file that the
next command, or the hook, then took for the sink. Commands that write a sink still create it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.cli.conftest import Cli, assert_one_line_error


@pytest.mark.parametrize(
    "command",
    [["policy", "list"], ["policy", "audit"], ["serve", "--prometheus", "--port", "0"]],
    ids=["policy list", "policy audit", "serve"],
)
def test_a_read_only_command_creates_no_sink_at_a_mistyped_path(
    cli: Cli, tmp_path: Path, command: list[str]
) -> None:
    typo = tmp_path / "typo.db"
    name = " ".join(c for c in command[:2] if not c.startswith("-"))
    proc = cli(*command, "--sink", typo, timeout=20)
    assert_one_line_error(proc, 2, f"claudetop {name}: no such sink: {typo}")
    assert not typo.exists()


def test_policy_list_on_a_first_run_shows_every_policy_off(cli: Cli) -> None:
    """No ``--sink`` and nothing recorded yet: the configured sink is where the hook will write, so
    opening it (as the hook would) is no mistake, and every policy is off."""
    proc = cli("policy", "list")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[1:]]
    assert {r[0]: r[1] for r in rows} == {
        "cache": "off",
        "routing": "off",
        "batching": "off",
        "output_caps": "off",
    }


def test_serve_waits_for_the_configured_sink_and_says_so(cli_env: dict[str, str]) -> None:
    """An exporter may start before the app's first call creates the sink: it serves ``source_up 0``."""
    argv = [sys.executable, "-m", "claudetop", "serve", "--prometheus", "--port", "0"]
    with subprocess.Popen(argv, env=cli_env, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            assert "does not exist yet: source_up is 0 until it does" in line
            assert proc.poll() is None  # still serving
        finally:
            proc.terminate()


def test_policy_set_creates_the_sink_it_writes_to(cli: Cli, tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    proc = cli("policy", "set", "cache", "off", "--sink", new)
    assert proc.returncode == 0, proc.stderr
    assert new.exists()


def test_reconcile_finds_a_sink_named_with_a_tilde(
    cli: Cli, cli_env: dict[str, str], sink: Path, tmp_path: Path
) -> None:
    """``--sink=~/...`` reaches claudetop unexpanded; the reader expands it, so the check must too."""
    home = Path(cli_env["HOME"])
    home.mkdir(parents=True)
    shutil.copy(sink, home / "events.db")
    argv = ["import", "admin", "--no-fetch", "--reconcile", "--store", tmp_path / "admin.db"]
    proc = cli(*argv, "--sink=~/events.db")
    assert proc.returncode == 0, proc.stderr
    proc = cli(*argv, "--sink=~/typo.db")
    assert_one_line_error(proc, 2, "claudetop import admin: no such sink: ~/typo.db")
