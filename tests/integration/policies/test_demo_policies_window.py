"""Acceptance 2: the demo's traffic with every policy off vs enforced, figures from ``claudetop report``.

Both runs are ``claudetop demo --headless`` as shipped (its own config marks the routed tasks
validated and lists summarisation as async work, which the simulated app sends through
``claudetop.deferrable``), with the same seed, over the same simulated day: 01:58 to 01:58 the
next day, so the 02:00 nightly summarisation job and a full day of chat, extraction, reasoning
and code review are in it. The workload has no weekly or monthly cycle (constant rates, one
nightly job), so a month is thirty such days and the ratios below (cost cut, hit ratio, share
batched) are the month's; replaying thirty days would take the test half an hour. Real-time
pacing at 3,600x can change request counts slightly between runs, so the enforced cost is
compared on the off run's request counts per task (enforced cost per request x off requests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
SIM_HOURS = 24
SPEED = 3600


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "claudetop", *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("demo")
    empty = tmp / "report.toml"
    empty.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDETOP_")}
    env |= {"PYTHONPATH": str(ROOT), "CLAUDETOP_CONFIG": str(empty)}
    out: dict[str, dict[str, Any]] = {}
    for mode in ("off", "enforce"):
        sink = tmp / f"{mode}.db"
        demo = ["demo", "--headless", "--duration", str(SIM_HOURS * 3600 // SPEED), "--speed", str(SPEED)]
        demo += ["--start", "01:58", "--seed", "7", "--sink", str(sink), "--policies", f"all={mode}"]
        run(demo, env)
        report = run(["report", "--sink", str(sink), "--format", "json", "--since", "2000-01-01"], env)
        out[mode] = json.loads(report)
    return out


def test_enforced_policies_cost_at_least_55_percent_less_on_the_same_traffic(
    reports: dict[str, dict[str, Any]],
) -> None:
    off, on = reports["off"]["by_task"], reports["enforce"]["by_task"]
    assert set(off) == set(on) == {"chat", "summarisation", "extraction", "reasoning", "code_review"}
    naive = sum(Decimal(t["cost_usd"]) for t in off.values())
    enforced = sum(Decimal(on[k]["cost_usd"]) / on[k]["requests"] * off[k]["requests"] for k in off)
    print(
        f"off ${naive:.2f}, enforced ${enforced:.2f} on the same requests: {1 - enforced / naive:.1%} lower"
    )
    assert enforced <= naive * Decimal("0.45")


def test_enforced_run_hits_cache_over_60_percent_and_batches_the_async_work(
    reports: dict[str, dict[str, Any]],
) -> None:
    off, on = reports["off"], reports["enforce"]
    documents = off["by_task"]["summarisation"]["requests"]
    print(
        f"hit ratio off {off['cache']['hit_ratio']:.1%}, enforced {on['cache']['hit_ratio']:.1%}; "
        f"batched {on['batch']['requests_succeeded']} of {documents} nightly documents; "
        f"batch share of all requests {on['batch']['share_of_requests']:.1%}"
    )
    assert off["cache"]["hit_ratio"] in (None, 0) and off["batch"]["requests_succeeded"] == 0
    assert on["cache"]["hit_ratio"] > 0.60
    assert on["batch"]["requests_succeeded"] >= 0.9 * documents
    assert on["by_task"]["summarisation"]["requests"] == documents
