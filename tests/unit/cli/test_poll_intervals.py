"""A refresh or poll interval must be a finite number above zero: ``serve --interval -5`` spun a core at
100% (a loop with no wait) and ``tail --interval -1`` crashed in ``sleep``; argparse now refuses them."""

from __future__ import annotations

import pytest

from tests.unit.cli.conftest import Cli


@pytest.mark.parametrize("command", [["serve", "--prometheus", "--port", "0"], ["tail"]])
@pytest.mark.parametrize("interval", ["-5", "0", "nan", "inf"])
def test_interval_must_be_finite_and_positive(cli: Cli, command: list[str], interval: str) -> None:
    proc = cli(*command, "--interval", interval, timeout=20)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert f"claudetop {command[0]}: error: argument --interval: must be a finite number > 0" in proc.stderr
