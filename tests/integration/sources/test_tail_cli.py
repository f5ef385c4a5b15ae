"""``claudetop tail`` as a user runs it: lines as events arrive, clean exit on Ctrl+C and on a closed pipe."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from claudetop.model import UsageEvent
from claudetop.pricing import price_event
from claudetop.sinks import JsonlSink
from tests.integration.sources.transcript_lines import assistant_line


def _write(path: Path, first: int, count: int) -> None:
    with JsonlSink(path) as sink:
        sink.write_events(
            [
                price_event(UsageEvent(
                    id=f"t{n}", ts=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), task="chat",
                    model="claude-haiku-4-5", input_tokens=100, output_tokens=10,
                ))
                for n in range(first, first + count)
            ]
        )  # fmt: skip


def test_prints_new_events_then_exits_on_ctrl_c(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    _write(log, 0, 2)
    proc = subprocess.Popen(
        [sys.executable, "-m", "claudetop", "tail", "--jsonl", str(log), "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # started: existing lines are history, not printed without --from-start
        _write(log, 2, 1)
        line = proc.stdout.readline() if proc.stdout else ""
        fields = line.rstrip("\n").split("\t")
        assert fields[:4] == ["2026-01-02T03:04:05.000Z", "hook", "chat", "claude-haiku-4-5"]
        assert fields[4:8] == ["100", "0", "0", "10"]
        assert fields[8] == "0.000150"  # haiku-4-5: 100 x $1/MTok + 10 x $5/MTok
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_closed_pipe_is_a_clean_exit(tmp_path: Path) -> None:
    log = tmp_path / "events.jsonl"
    _write(log, 0, 5000)
    tail = subprocess.Popen(
        [sys.executable, "-m", "claudetop", "tail", "--jsonl", str(log), "--once"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert tail.stdout is not None
    first = tail.stdout.readline()
    tail.stdout.close()  # like `| head -1`
    _out, err = tail.communicate(timeout=30)
    assert first.startswith(b"2026-01-02T03:04:05.000Z\thook")
    assert tail.returncode == 0, err
    assert b"Traceback" not in err


def test_claude_code_costs_follow_the_config_price_overrides(tmp_path: Path) -> None:
    session = tmp_path / "claude" / "projects" / "-home-u-app" / "S9.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(assistant_line("msgA", "2026-01-02T03:04:05.000Z", 40) + "\n")
    config = tmp_path / "claudetop.toml"
    config.write_text('[pricing.models."claude-haiku-4-5"]\ninput_per_mtok = 2\noutput_per_mtok = 10\n')
    cmd = [sys.executable, "-m", "claudetop", "tail", "--claude-code", str(tmp_path / "claude"), "--once"]
    published = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    overridden = subprocess.run(
        [*cmd, "--config", str(config)], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert published.split("\t")[-1].strip() == "0.000207"  # 7 x $1/MTok + 40 x $5/MTok
    assert overridden.split("\t")[-1].strip() == "0.000414"  # 7 x $2/MTok + 40 x $10/MTok


def test_a_bad_config_is_a_usage_error_with_its_line(tmp_path: Path) -> None:
    config = tmp_path / "claudetop.toml"
    config.write_text('theme = "dark"\n[pricing.models."claude-haiku-4-5"]\ninput_per_mtok = "cheap"\n')
    cmd = [sys.executable, "-m", "claudetop", "tail", "--jsonl", str(tmp_path / "x.jsonl"), "--once"]
    done = subprocess.run(
        [*cmd, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{config}:3" in done.stderr and "Traceback" not in done.stderr
