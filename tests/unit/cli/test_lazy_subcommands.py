"""``claudetop <command> ...`` builds only that command's parser: same help and arguments as the full one,
without importing the other commands."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from claudetop.cli import _SUBCOMMANDS, _command_module, build_parser


def _help(only: str | None, argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        build_parser(only).parse_args(argv)
    return capsys.readouterr().out


@pytest.mark.parametrize("module", _SUBCOMMANDS)
def test_single_command_parser_matches_the_full_one(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    command = module.removesuffix("_cmd")
    assert _command_module([command, "--help"]) == module
    assert _help(module, [command, "--help"], capsys) == _help(None, [command, "--help"], capsys)


def test_options_before_the_command_or_no_command_use_the_full_parser() -> None:
    assert _command_module([]) is None
    assert _command_module(["--sink", "report"]) is None
    assert _command_module(["reports"]) is None
    args = build_parser().parse_args(["--sink", "x.db", "report", "--format", "json"])
    assert args.format == "json"


def test_report_imports_no_other_command() -> None:
    code = (
        "import sys; from claudetop.cli import build_parser, _command_module;"
        "build_parser(_command_module(['report'])).parse_args(['report', '--format', 'json']);"
        "print(sorted(m for m in sys.modules if m.startswith('claudetop.cli.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = ast.literal_eval(out)
    assert loaded == ["claudetop.cli.log_options", "claudetop.cli.monitor", "claudetop.cli.report"]
