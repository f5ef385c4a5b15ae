"""``claudetop demo`` as a user runs it: a subprocess, a real sink, a clean exit."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SCENARIOS = {"chat", "summarisation", "extraction", "reasoning", "code_review"}


_started: list[subprocess.Popen[str]] = []


def demo(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "claudetop", "demo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CLAUDETOP_CONFIG": "/nonexistent-claudetop-config.toml", **(env or {})},
    )
    _started.append(proc)
    return proc


@pytest.fixture(autouse=True)
def _no_demo_outlives_its_test() -> Iterator[None]:
    """A failed assertion must not leave a demo without a duration running after the suite."""
    yield
    while _started:
        proc = _started.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.slow
def test_headless_30s_leaves_every_scenario_in_the_sink(tmp_path: Path) -> None:
    sink = tmp_path / "d.db"
    proc = demo("--headless", "--duration", "30", "--speed", "3600", "--sink", str(sink))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with sqlite3.connect(sink) as conn:
        tasks = {row[0] for row in conn.execute("SELECT DISTINCT task FROM events")}
    assert tasks >= SCENARIOS, (tasks, out, err)


def _wait_for_events(sink: Path, proc: subprocess.Popen[str], timeout_s: float = 120) -> None:
    """Until the demo has recorded a request: a signal sent earlier would land during start-up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        if sink.exists():
            try:
                with sqlite3.connect(sink) as conn:
                    if conn.execute("SELECT count(*) FROM events").fetchone()[0]:
                        return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.2)
    raise AssertionError("the demo recorded no request in time")


def test_a_proxy_set_for_real_traffic_does_not_carry_the_demos_loopback_calls(tmp_path: Path) -> None:
    sink = tmp_path / "d.db"
    proxy = "http://127.0.0.1:9"  # nothing listens there: a proxied call would fail
    proc = demo("--headless", "--duration", "3", "--speed", "600", "--sink", str(sink),
                env={"HTTP_PROXY": proxy, "HTTPS_PROXY": proxy, "ALL_PROXY": proxy})  # fmt: skip
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    with sqlite3.connect(sink) as conn:
        served, failed = conn.execute("SELECT count(*), count(error_type) FROM events").fetchone()
    assert served > 0 and failed == 0, err


def test_ctrl_c_stops_within_two_seconds(tmp_path: Path) -> None:
    sink = tmp_path / "c.db"
    proc = demo("--headless", "--speed", "600", "--sink", str(sink))
    _wait_for_events(sink, proc)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert time.monotonic() - sent < 2.5
    assert proc.returncode == 0 and "Traceback" not in err, err
    assert "requests" in out


def test_bad_options_exit_2(tmp_path: Path) -> None:
    for args in (["--policies", "cache=maybe"], ["--scenario", "poetry"], ["--pathologies", "gremlins"]):
        proc = demo("--headless", "--duration", "1", "--sink", str(tmp_path / "x.db"), *args)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 2 and err.startswith("claudetop demo: "), err


def test_config_option_replaces_the_demo_config(tmp_path: Path) -> None:
    """The demo's own config validates its routed tasks; one passed with --config is used instead, checked."""
    bad = tmp_path / "bad.toml"
    bad.write_text('[cache]\nttl = "forever"\n')
    proc = demo("--headless", "--duration", "1", "--sink", str(tmp_path / "b.db"), "--config", str(bad))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and f"{bad}:2:" in err, err
    plain = tmp_path / "plain.toml"
    plain.write_text("")
    args = ["--config", str(plain), "--policies", "routing=enforce"]
    proc = demo("--headless", "--duration", "1", "--sink", str(tmp_path / "p.db"), *args)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "refusing to enforce routing" in err, err
