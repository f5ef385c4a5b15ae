"""Issue 10's acceptance, on a real PostgreSQL server with real SDK calls through the hook.

1. 8 processes x 10,000 calls into PostgreSQL, the server stopped for 30 s in the middle: every
   call succeeds, exactly 80,000 events land, and ``claudetop report`` says how many were delayed
   or dropped.
2. A policy switched through ``PolicyStore.set`` (what the monitor's toggle calls) is obeyed by
   the hooks of 3 separate processes within 2 s.
3. ``claudetop serve --prometheus`` parses with prometheus_client and equals ``claudetop report``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from claudetop.config import Config
from claudetop.policies import PolicyStore
from tests.integration.fleet.policy_worker import CAP
from tests.pg_server import PostgresServer

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[3]
ENV = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDETOP_")}
PROCESSES = 8
CALLS = 10_000
OUTAGE_S = 30


def _count(dsn: str) -> int:
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            row = conn.execute("SELECT count(*) FROM events").fetchone()
    except psycopg.Error:
        return 0
    return int(row[0]) if row else 0


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "claudetop", *args],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_eight_processes_through_a_thirty_second_outage(pg_dsn: str, postgres: PostgresServer) -> None:
    worker = [sys.executable, "-m", "tests.integration.fleet.hook_worker", pg_dsn, str(CALLS)]
    procs = [
        subprocess.Popen(worker, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(PROCESSES)
    ]
    deadline = time.monotonic() + 300
    while _count(pg_dsn) < PROCESSES * CALLS // 8 and time.monotonic() < deadline:
        time.sleep(0.2)
    postgres.stop()
    try:
        time.sleep(OUTAGE_S)
        during = [p.poll() for p in procs]
    finally:
        postgres.start()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    assert None in during, "the outage must fall while the apps are still calling"
    assert [r["ok"] for r in results] == [CALLS] * PROCESSES
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT count(*), count(DISTINCT id), count(DISTINCT pid) FROM events").fetchone()
    assert row == (PROCESSES * CALLS, PROCESSES * CALLS, PROCESSES)

    stats = [s for r in results for s in r["stats"]]
    delayed, dropped = sum(s["delayed"] for s in stats), sum(s["dropped"] for s in stats)
    assert delayed > 0 and sum(s["sink_errors"] for s in stats) > 0
    done = _cli("report", "--format", "json", "--sink", pg_dsn, "--since", "2000-01-01")
    assert done.returncode in (0, 3), done.stderr
    report = json.loads(done.stdout)
    assert report["totals"]["requests"] == PROCESSES * CALLS - dropped
    assert (report["hooks"]["delayed"], report["hooks"]["dropped"]) == (delayed, dropped)


def _capped_since(dsn: str) -> dict[int, tuple[str | None, str | None, int]]:
    """Per process: first capped request, last uncapped request, requests seen."""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT pid, min(ts) FILTER (WHERE max_tokens = %s), "
            "max(ts) FILTER (WHERE max_tokens <> %s), count(*) FROM events GROUP BY pid",
            (CAP, CAP),
        ).fetchall()
    return {int(r[0]): (r[1], r[2], int(r[3])) for r in rows}


@pytest.mark.timeout(180)
def test_a_policy_toggled_once_is_obeyed_by_three_processes_within_two_seconds(pg_dsn: str) -> None:
    store = PolicyStore(pg_dsn, config=Config())
    worker = [sys.executable, "-m", "tests.integration.fleet.policy_worker", pg_dsn, "12"]
    procs = [
        subprocess.Popen(worker, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while len(_capped_since(pg_dsn)) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        change = store.set("output_caps", "enforce", by="monitor", reason="fleet test")
        for proc in procs:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
    finally:
        store.close()
    at = change.at
    seen = _capped_since(pg_dsn)
    assert len(seen) == 3
    for first_capped, last_uncapped, n in seen.values():
        assert first_capped is not None and last_uncapped is not None and n > 100
        obeyed_after = datetime.fromisoformat(last_uncapped.replace("Z", "+00:00")) - at
        assert obeyed_after.total_seconds() < 2.0, (
            f"a request went out uncapped {obeyed_after} after the change"
        )
        assert datetime.fromisoformat(first_capped.replace("Z", "+00:00")) > at


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.timeout(180)
def test_the_prometheus_endpoint_equals_the_json_report(pg_dsn: str) -> None:
    from claudetop.sinks import open_sink
    from tests.unit.sinks.factories import make_event

    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    step = (now - start) / 400
    with open_sink(pg_dsn) as sink:
        sink.write_events(
            [
                make_event(i, ts=start + step * i, host=f"app-{i % 3}", task=("chat", "extraction")[i % 2])
                for i in range(300)
            ]
        )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "claudetop",
            "serve",
            "--prometheus",
            "--port",
            "0",
            "--sink",
            pg_dsn,
            "--interval",
            "60",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        assert "http://127.0.0.1:" in line, server.stderr.read() if server.poll() is not None else line
        got = _scrape(line.strip().rsplit(" ", 1)[-1])
    finally:
        server.terminate()
        server.wait(timeout=10)
    done = _cli("report", "--format", "json", "--sink", pg_dsn)
    assert done.returncode in (0, 3), done.stderr
    report = json.loads(done.stdout)

    def usd(text: str) -> float:
        return float(Decimal(text))

    assert got[("claudetop_requests", ())] == report["totals"]["requests"] == 300
    assert got[("claudetop_cost_usd", ())] == usd(report["totals"]["cost_usd"])
    for kind, n in report["totals"]["tokens"].items():
        assert got[("claudetop_tokens", (("kind", kind),))] == n
    assert got[("claudetop_cache_hit_ratio", ())] == report["cache"]["hit_ratio"]
    assert got[("claudetop_cache_saved_usd", ())] == usd(report["cache"]["saved_usd"])
    assert report["by_host"].keys() == {"app-0", "app-1", "app-2"}
    for by in ("model", "task", "host"):
        for group, usage in report[f"by_{by}"].items():
            key = (("by", by), ("group", group))
            assert got[("claudetop_group_requests", key)] == usage["requests"]
            assert got[("claudetop_group_cost_usd", key)] == usd(usage["cost_usd"])
    assert got[("claudetop_month_to_date_usd", ())] == usd(report["projection"]["month_to_date_usd"])
    assert got[("claudetop_batches", (("state", "in_progress"),))] == report["batch"]["batches_in_progress"]
