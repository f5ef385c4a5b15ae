"""``serve --port`` takes a TCP port, 0 to 65535: any other number is a usage error (exit 2) at once, not
a failure to bind (exit 1) after the first report was built."""

from __future__ import annotations

import pytest

from claudetop.cli import build_parser
from tests.unit.cli.conftest import Cli


@pytest.mark.parametrize("port", ["99999", "65536", "-1"])
def test_serve_rejects_a_port_out_of_range(cli: Cli, port: str) -> None:
    proc = cli("serve", "--prometheus", "--port", port)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr
    assert "claudetop serve: error: argument --port: must be a port from 0 to 65535" in proc.stderr


@pytest.mark.parametrize("port", [0, 65535])
def test_serve_takes_the_ends_of_the_range(port: int) -> None:
    assert build_parser("serve").parse_args(["serve", "--port", str(port)]).port == port
