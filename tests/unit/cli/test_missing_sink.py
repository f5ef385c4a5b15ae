"""A command that only reads a sink, given a path where none exists, says ``no such sink`` and exits 2
(a mistyped path), creating nothing there: opening it would have made an empty SQLite file that the
next command, or the hook, then took for the sink. Commands that write a sink still create it."""

from __future__ import annotations

import shutil
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


def test_a_missing_configured_sink_is_not_created_either(cli: Cli, tmp_path: Path) -> None:
    proc = cli("policy", "list")
    assert_one_line_error(proc, 2, "claudetop policy list: no such sink: ")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


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
