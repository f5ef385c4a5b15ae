"""``claudetop import admin`` with bad dates, URLs, thresholds or stores: one line, exit 2 for usage, 1 for a
store that cannot be opened; never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.conftest import Cli, assert_one_line_error


def test_until_before_since_without_fetching(cli: Cli, sink: Path) -> None:
    proc = cli(
        "import",
        "admin",
        "--no-fetch",
        "--reconcile",
        "--since",
        "2025-02-01",
        "--until",
        "2025-01-01",
        "--sink",
        sink,
    )
    assert_one_line_error(proc, 2, "claudetop import admin: --until 2025-01-01 is before --since 2025-02-01")


@pytest.mark.parametrize(
    ("option", "value"), [("--base-url", "notaurl"), ("--base-url", "http://"), ("--threshold", "nan")]
)
def test_bad_base_url_or_threshold_is_a_usage_error(cli: Cli, option: str, value: str) -> None:
    proc = cli("import", "admin", "--since", "2025-01-01", option, value)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert f"claudetop import admin: error: argument {option}: " in proc.stderr


@pytest.mark.parametrize("fetch", [True, False])
def test_a_store_that_is_a_directory_or_a_text_file(
    cli: Cli, cli_env: dict[str, str], sink: Path, tmp_path: Path, not_a_database: Path, fetch: bool
) -> None:
    cli_env["ANTHROPIC_ADMIN_KEY"] = "sk-ant-admin-test"
    argv = (
        ["--since", "2025-01-01", "--base-url", "http://127.0.0.1:9"]
        if fetch
        else ["--no-fetch", "--reconcile"]
    )
    for store, why in [
        (tmp_path, "unable to open database file"),
        (not_a_database, "file is not a database"),
    ]:
        proc = cli("import", "admin", *argv, "--store", store, "--sink", sink)
        assert_one_line_error(proc, 1, f"claudetop import admin: {store}: {why}")


def test_reconciling_against_a_sink_that_cannot_be_read_says_so(
    cli: Cli, tmp_path: Path, not_a_database: Path
) -> None:
    """Its events are unknown, not zero: no table that would show claudetop's cost as $0."""
    proc = cli(
        "import",
        "admin",
        "--no-fetch",
        "--reconcile",
        "--store",
        tmp_path / "admin",
        "--sink",
        not_a_database,
    )
    assert_one_line_error(proc, 1, f"claudetop import admin: {not_a_database}: file is not a database")
    assert proc.stdout == ""
