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
