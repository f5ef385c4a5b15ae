"""A sink that cannot be read, written or reached is one line on stderr and exit 1, never a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.unit.cli.conftest import Cli, assert_one_line_error


def _refused_url() -> str:
    """A PostgreSQL URL (with a password) at a local port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://user:secret@127.0.0.1:{port}/db"


@pytest.mark.parametrize(
    "command", [["report"], ["policy", "list"], ["policy", "audit"], ["policy", "set", "cache", "off"]]
)
def test_a_text_file_or_a_directory_as_sink(
    cli: Cli, not_a_database: Path, tmp_path: Path, command: list[str]
) -> None:
    prefix = f"claudetop {' '.join(command[:2])}: "
    line = assert_one_line_error(cli(*command, "--sink", not_a_database), 1, prefix)
    assert line == f"{prefix}{not_a_database}: file is not a database"
    line = assert_one_line_error(cli(*command, "--sink", tmp_path), 1, prefix)
    assert str(tmp_path) in line


@pytest.mark.parametrize("action", ["list", "audit"])
def test_policies_in_a_jsonl_file_or_an_unreachable_database(cli: Cli, tmp_path: Path, action: str) -> None:
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text("")
    line = assert_one_line_error(cli("policy", action, "--sink", jsonl), 1, f"claudetop policy {action}: ")
    assert "point --sink at the .db file" in line
    url = _refused_url()
    line = assert_one_line_error(
        cli("policy", action, "--sink", url), 1, f"claudetop policy {action}: postgresql://127.0.0.1:"
    )
    assert "secret" not in line and "user" not in line


def test_demo_into_a_text_file(cli: Cli, not_a_database: Path) -> None:
    proc = cli("demo", "--headless", "--duration", "1", "--sink", not_a_database)
    assert_one_line_error(proc, 1, f"claudetop demo: {not_a_database}: file is not a database")
