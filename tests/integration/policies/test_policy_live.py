"""Acceptance 1 and 5: policies switched from the shell reach a running, instrumented app within a
second, and shadow mode leaves every request byte-identical at the (fake) API server."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anthropic
import pytest

import claudetop
from claudetop.config import Config
from claudetop.policies import PolicyStore
from claudetop.simulate import FakeAnthropic, SimClock
from claudetop.simulate.server import Request, Response, StreamResponse, _Drop
from claudetop.simulate.workload import Workload

ROOT = Path(__file__).resolve().parents[3]


class RecordingFake(FakeAnthropic):
    """The fake API, also keeping each messages request's raw body bytes and arrival time."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__(clock=clock)
        self.bodies: list[tuple[float, bytes]] = []

    def _handle(self, req: Request) -> Response | StreamResponse | _Drop:
        if req.method == "POST" and req.path == "/v1/messages":
            self.bodies.append((time.monotonic(), req.body))
        return super()._handle(req)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "claudetop", *args], capture_output=True, text=True, env=env, timeout=60
    )


def carries_cache_control(body: bytes) -> bool:
    return b'"cache_control"' in body


def wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def shadow_cache_decisions(sink: Path) -> int:
    claudetop.flush()
    with sqlite3.connect(sink) as db:
        n: int = db.execute("SELECT count(*) FROM events WHERE policies LIKE '%\"cache\"%'").fetchone()[0]
    return n


def test_cache_enforce_from_the_shell_reaches_the_running_app_within_a_second(tmp_path: Path) -> None:
    sink = tmp_path / "events.db"
    config_file = tmp_path / "claudetop.toml"
    config_file.write_text("")
    shell = ("--sink", str(sink), "--config", str(config_file))
    clock = SimClock(speed=3600)
    """Extraction at 43 requests per simulated hour: its prefix is reused well within the 5m TTL, so
    caching pays and the break-even guard keeps it on (a rarer task would rightly be switched off)."""
    with RecordingFake(clock) as fake:
        with PolicyStore(sink, config=Config()) as store:
            store.set("cache", "shadow", by="test", reason="warm up: proves the hook follows the store")

        def client() -> anthropic.Anthropic:
            plain = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test", max_retries=0)
            return claudetop.instrument(plain, sink=sink, app="live-test", config=Config())

        workload = Workload(client, clock, ("extraction",), workers=4)
        runner = threading.Thread(target=workload.run, args=(3600 * 24,), daemon=True)
        runner.start()
        try:
            wait_for(lambda: shadow_cache_decisions(sink) > 0)
            assert fake.stats.cache_reads == 0

            t_enforce = time.monotonic()
            done = cli("policy", "set", "cache", "enforce", "--by", "operator", *shell)
            t_enforced = time.monotonic()
            assert done.returncode == 0, done.stderr
            time.sleep(2.5)
            reads_while_enforced = fake.stats.cache_reads

            t_off = time.monotonic()
            done = cli("policy", "set", "cache", "off", "--by", "operator", "--reason", "rollback", *shell)
            t_offed = time.monotonic()
            assert done.returncode == 0, done.stderr
            time.sleep(2.0)
        finally:
            workload.stop.set()
            runner.join(10)

    before = [b for t, b in fake.bodies if t < t_enforce]
    during = [(t, b) for t, b in fake.bodies if t_enforced + 1.0 < t < t_off]
    after = [b for t, b in fake.bodies if t > t_offed + 1.0]
    assert before and during and after
    assert not any(carries_cache_control(b) for b in before)
    late = [
        round(t - t_enforced, 3)
        for t, b in fake.bodies
        if t_enforced + 1.0 < t < t_off and not carries_cache_control(b)
    ]
    assert not late, f"seconds after the change, requests still without cache_control: {late}"
    assert not any(carries_cache_control(b) for b in after)
    assert reads_while_enforced > 0

    trail = json.loads(cli("policy", "audit", "--json", *shell).stdout)
    assert [(c["name"], c["from_mode"], c["to_mode"], c["by"]) for c in trail] == [
        ("cache", "enforce", "off", "operator"),
        ("cache", "shadow", "enforce", "operator"),
        ("cache", "off", "shadow", "test"),
    ]
    assert trail[0]["reason"] == "rollback"


def test_enforcing_an_unvalidated_downshift_is_refused_with_the_reason(tmp_path: Path) -> None:
    config_file = tmp_path / "claudetop.toml"
    config_file.write_text("")
    refused = cli(
        "policy", "set", "routing", "enforce", "--sink", str(tmp_path / "e.db"), "--config", str(config_file)
    )
    assert refused.returncode == 1
    assert "extraction: claude-sonnet-4-6 -> claude-haiku-4-5" in refused.stderr
    assert "claudetop policy set routing shadow" in refused.stderr
    listing = cli("policy", "list", "--json", "--sink", str(tmp_path / "e.db"), "--config", str(config_file))
    assert {p["name"]: p["mode"] for p in json.loads(listing.stdout)}["routing"] == "off"


@pytest.mark.parametrize("task", ["extraction", "summarisation", "chat"])
def test_shadow_mode_sends_byte_identical_requests(tmp_path: Path, task: str) -> None:
    sink = tmp_path / "events.db"
    config = Config(output_caps={"extraction": 64, "summarisation": 64, "chat": 64})
    with PolicyStore(sink, config=config) as store:
        for name in ("cache", "routing", "batching", "output_caps"):
            store.set(name, "shadow", by="test")
    body = {
        "model": "claude-opus-4-7",
        "max_tokens": 1000,
        "system": "Extract the parties and dates from the contract. " * 600,
        "messages": [{"role": "user", "content": "Contract text: ..."}],
    }
    with RecordingFake(SimClock(speed=60)) as fake:
        plain = anthropic.Anthropic(base_url=fake.base_url, api_key="sk-ant-test")
        plain.messages.create(**body)
        hooked = claudetop.instrument(plain, sink=sink, config=config)
        wait_for(lambda: _engine_ready(hooked, body, task, sink))
        shadowed = [b for _, b in fake.bodies[1:]]

    assert shadowed and all(b == fake.bodies[0][1] for b in shadowed)


def _engine_ready(client: anthropic.Anthropic, body: dict[str, Any], task: str, sink: Path) -> bool:
    """Send one shadowed request; true once its event shows shadow decisions of every kind that applies."""
    with claudetop.task(task):
        client.messages.create(**body)
    claudetop.flush()
    with sqlite3.connect(sink) as db:
        row = db.execute("SELECT policies FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return False
    decisions = json.loads(row[0])
    expected = {"cache", "output_caps"} | ({"routing"} if task == "extraction" else set())
    expected |= {"batching"} if task == "summarisation" else set()
    seen = {d["policy"] for d in decisions}
    assert all(d["mode"] == "shadow" and not d["changed_request"] for d in decisions)
    return expected <= seen
