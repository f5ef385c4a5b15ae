"""``claudetop report --claude-code`` keeps a checkpoint: a rerun replays it and parses only new lines,
and prints the same figures a cold read of the same files prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.ingest import generate_corpus
from tests.integration.sources.transcript_lines import assistant_line


def _report(config: Path, state: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "claudetop", "report", "--claude-code", str(config)]
    cmd += ["--format", "json", "--since", "2000-01-01"]
    env = dict(os.environ, CLAUDETOP_STATE_DIR=str(state), TZ="UTC")
    out = subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=120).stdout
    data: dict[str, Any] = json.loads(out)
    return data


def test_rerun_uses_checkpoint_and_matches_a_cold_read(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    generate_corpus(config, 2 << 20, seed=3)
    state = tmp_path / "state"
    cold = _report(config, state)
    assert list((state / "checkpoints").glob("claude_code-*.json"))
    warm = _report(config, state)
    clock_bound = {"generated_at", "projection"}  # figures of the present (projection, days left)
    assert {k: v for k, v in warm.items() if k not in clock_bound} == {
        k: v for k, v in cold.items() if k not in clock_bound
    }  # garbage lines counted by the cold read included
    assert warm["projection"]["scenarios"] == cold["projection"]["scenarios"]

    session = next((config / "projects").rglob("*.jsonl"))
    with open(session, "a") as handle:
        handle.write(assistant_line("msgNew", "2025-12-01T10:00:00.000Z", 3) + "\n")
        handle.write(
            assistant_line("msgNew", "2025-12-01T10:00:01.000Z", 40) + "\n"
        )  # streamed: final usage wins
        handle.write(assistant_line("msgPartial", "2025-12-01T10:00:02.000Z", 5)[:-20])  # still being written
    warm_after = _report(config, state)
    cold_after = _report(config, tmp_path / "fresh-state")
    assert warm_after["totals"] == cold_after["totals"]
    assert warm_after["totals"]["requests"] == cold["totals"]["requests"] + 1
    assert warm_after["totals"]["tokens"]["output"] == cold["totals"]["tokens"]["output"] + 40


def test_a_reply_still_streaming_during_a_report_gets_its_final_usage_in_the_next(tmp_path: Path) -> None:
    config = tmp_path / "claude"
    session = config / "projects" / "-home-u-app" / "S9.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text(assistant_line("msgLive", "2025-12-01T10:00:00.000Z", 3) + "\n")
    state = tmp_path / "state"
    assert _report(config, state)["totals"]["tokens"]["output"] == 3
    with open(session, "a") as handle:
        handle.write(
            assistant_line("msgLive", "2025-12-01T10:00:04.000Z", 40) + "\n"
        )  # the reply's final line
    again = _report(config, state)
    assert again["totals"] == _report(config, tmp_path / "fresh-state")["totals"]
    assert (again["totals"]["requests"], again["totals"]["tokens"]["output"]) == (1, 40)


LIGHT_RERUN = """
import sys
from claudetop.cli import main
code = main(sys.argv[1:])
heavy = {"pydantic", "genai_prices", "sqlite3", "multiprocessing", "textual", "anthropic"}
print(sorted(heavy & {name.split(".")[0] for name in sys.modules}), code, file=sys.stderr)
"""


def test_a_rerun_over_unchanged_transcripts_loads_no_validator_price_data_or_database(tmp_path: Path) -> None:
    """What keeps a rerun fast whatever the history's size: nothing is parsed but the checkpoint's
    summary, so none of the libraries that parsing, pricing or a sink would need is even imported."""
    config = tmp_path / "claude"
    generate_corpus(config, 1 << 20, seed=4)
    state = tmp_path / "state"
    cmd = [sys.executable, "-c", LIGHT_RERUN, "report", "--claude-code", str(config), "--format", "json"]
    env = dict(os.environ, CLAUDETOP_STATE_DIR=str(state), TZ="UTC")
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120)
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, timeout=120)
    assert "'genai_prices'" in first.stderr and "'pydantic'" in first.stderr  # a cold read prices
    assert again.stderr.strip() == "[] 0"
    assert json.loads(again.stdout)["totals"] == json.loads(first.stdout)["totals"]
