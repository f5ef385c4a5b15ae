"""The monitor's options (``claudetop --sink x.db``) before a subcommand were taken as the monitor's and
then silently dropped for the subcommand's own defaults: ``claudetop --sink x.db report`` reported on the
default sink. Given before a subcommand they are a usage error (exit 2) that says where they belong."""

from __future__ import annotations

from pathlib import Path

from tests.unit.cli.conftest import Cli


def test_an_option_the_command_also_takes_must_come_after_it(cli: Cli, sink: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    other.write_bytes(sink.read_bytes())
    proc = cli("--sink", sink, "report", "--sink", other)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "claudetop: error: --sink before 'report' belongs to the monitor" in proc.stderr
    assert "put it after 'report'" in proc.stderr


def test_a_monitor_only_option_names_the_command_that_lacks_it(cli: Cli, sink: Path) -> None:
    proc = cli("--theme", "light", "-d", "2", "policy", "list", "--sink", sink)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "--theme belongs to the monitor (claudetop with no command); 'policy list' has no --theme" in (
        proc.stderr
    )
    assert "'policy list' has no --delay" in proc.stderr


def test_only_options_given_before_the_command_count() -> None:
    from claudetop.cli import _monitor_options_before_command, build_parser

    parser = build_parser()
    argv = ["report", "--sink", "x.db", "--budget", "5", "--config", "c.toml"]
    assert _monitor_options_before_command(parser, argv) is None


def test_without_a_command_the_options_still_reach_the_monitor(cli: Cli, sink: Path) -> None:
    proc = cli("--sink", sink, "--theme", "no-such-theme")
    assert "Traceback" not in proc.stderr and proc.returncode != 0, proc.stderr
    assert "unknown theme 'no-such-theme'" in proc.stderr


def test_claude_code_before_a_command_does_not_take_the_command_for_its_directory(cli: Cli) -> None:
    proc = cli("--claude-code", "report", timeout=20)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert "'report' is a command, not a directory: put --claude-code after it" in proc.stderr
