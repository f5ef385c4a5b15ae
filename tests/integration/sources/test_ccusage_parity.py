"""Our Claude Code totals vs ccusage's on the same generated transcripts (needs npx and the npm registry)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from bench.ingest import ccusage_command, generate_corpus
from claudetop.sources import read_claude_code

pytestmark = pytest.mark.skipif(
    shutil.which("npx") is None or shutil.which("npm") is None, reason="node's npm/npx are not installed"
)


def test_token_totals_equal_and_cost_within_half_a_percent(tmp_path: Path) -> None:
    corpus = tmp_path / "claude"
    generate_corpus(corpus, 4 << 20, seed=11)
    try:
        cmd = ccusage_command(tmp_path)
    except subprocess.CalledProcessError as err:
        pytest.skip(f"could not install ccusage from the npm registry: {err.stderr[-300:]!r}")
    env = dict(os.environ, CLAUDE_CONFIG_DIR=str(corpus), TZ="UTC")
    out = subprocess.run(cmd, env=env, capture_output=True, check=True, timeout=120).stdout
    theirs = json.loads(out)

    events = read_claude_code([corpus])
    ours_days: dict[str, list[int]] = {}
    for e in events:
        day = ours_days.setdefault(e.ts.date().isoformat(), [0, 0, 0, 0])
        day[0] += e.input_tokens
        day[1] += e.output_tokens
        day[2] += e.cache_write_tokens
        day[3] += e.cache_read_tokens
    their_days = {
        d["period"]: [d["inputTokens"], d["outputTokens"], d["cacheCreationTokens"], d["cacheReadTokens"]]
        for d in theirs["daily"]
    }
    assert ours_days == their_days
    ours_cost = Decimal(sum(e.cost_micros or 0 for e in events)) / 1_000_000
    their_cost = Decimal(str(theirs["totals"]["totalCost"]))
    assert their_cost > 0
    assert abs(ours_cost - their_cost) / their_cost <= Decimal("0.005")
