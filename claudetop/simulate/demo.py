"""``claudetop demo``: the fake API, the workload with the hook installed, and a view of the sink.

Everything runs in this process: the server on its own loop thread, the workload on worker
threads, the monitor (or a one-line-per-second text summary, or nothing when headless) on
the main thread. The simulated application is configured by ``claudetop/data/demo_config.toml``
(or ``--config``) and lives on the simulated clock: its policy engine (cache TTLs, break-even)
and its batch deferral queue (max wait, polling) measure time as the fake server does. The
monitor is handed in by the caller (``claudetop.cli.demo``): simulate never imports the UI.
Shutdown — end of duration or Ctrl+C — sets one stop event, joins every thread with a deadline
and closes the server, so nothing outlives the command.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.resources import as_file
from pathlib import Path
from typing import Any, TextIO

import anthropic

from claudetop.config import Config, ConfigError, load_config
from claudetop.config.resources import data_files
from claudetop.hook import instrument
from claudetop.hook.deferral import deferrable
from claudetop.model import PolicyMode, PolicyName
from claudetop.policies import PolicyEngine, PolicyRefused, PolicyStore
from claudetop.simulate.api import FakeAnthropic
from claudetop.simulate.clock import SimClock
from claudetop.simulate.workload import SCENARIO_NAMES, DeferringClient, Workload

SHUTDOWN_S = 1.2
DEMO_API_KEY = "sk-ant-demo-0000"


class DemoError(Exception):
    """A demo option that cannot be honoured; the CLI prints it and exits 2."""


@dataclass
class DemoOptions:
    sink: Path
    duration_s: float | None = None
    """Real seconds; ``None`` runs until Ctrl+C (or the monitor quits)."""
    speed: float = 60.0
    scenarios: tuple[str, ...] = SCENARIO_NAMES
    pathologies: tuple[str, ...] = ()
    policies: dict[str, str] = field(default_factory=dict)
    headless: bool = False
    seed: int = 0
    start: datetime | None = None
    """Simulated time the demo starts at (``None``: now), e.g. just before the nightly batch."""
    config: Path | None = None
    """The simulated application's config file (``None``: the packaged ``demo_config.toml``)."""


def parse_policies(text: str) -> dict[str, str]:
    """``all=enforce,cache=off`` → ``{"cache": "off", "routing": "enforce", ...}`` (later entries win)."""
    out: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, mode = item.partition("=")
        if not sep or mode not in {m.value for m in PolicyMode}:
            raise DemoError(f"--policies: {item!r} is not NAME=MODE with MODE one of off, shadow, enforce")
        names = [p.value for p in PolicyName] if name == "all" else [name]
        for n in names:
            if n not in {p.value for p in PolicyName}:
                raise DemoError(
                    f"--policies: unknown policy {n!r} (known: all, {', '.join(p.value for p in PolicyName)})"
                )
            out[n] = mode
    return out


def demo_config(path: Path | None) -> Config:
    """``path`` (``--config``) or the packaged demo config; a bad file is a ``DemoError`` (exit 2)."""
    try:
        if path is not None:
            return load_config(path)
        with as_file(data_files().joinpath("demo_config.toml")) as shipped:
            return load_config(shipped)
    except ConfigError as err:
        raise DemoError(str(err)) from None


def _apply_policies(sink: Path, policies: dict[str, str], config: Config) -> None:
    if not policies:
        return
    with PolicyStore(sink, config=config) as store:
        for name, mode in policies.items():
            try:
                store.set(name, mode, by="claudetop demo", reason="claudetop demo --policies")
            except PolicyRefused as refused:
                raise DemoError(f"--policies {name}={mode}: {refused}") from None


@contextmanager
def _simulated_app(
    sink: Path, config: Config, clock: SimClock
) -> Iterator[tuple[Callable[[Any], Any], Callable[[anthropic.Anthropic], DeferringClient]]]:
    """How the simulated app instruments its clients and defers its async work, on simulated time.

    One policy engine for every client of the app (so a prefix's reuse gap counts all its traffic),
    timed by ``clock`` like the fake server's cache TTLs.
    """
    store = PolicyStore(sink, config=config)
    engine = PolicyEngine(store, config, clock=clock.now)

    def wrap(client: Any) -> Any:
        return instrument(
            client,
            sink=str(sink),
            app=config.app or "claudetop-demo",
            config=config,
            policies=engine,
            clock=clock.now,
        )

    def defer(client: anthropic.Anthropic) -> DeferringClient:
        return deferrable(client, sink=sink, config=config, clock=clock)

    try:
        yield wrap, defer
    finally:
        store.close()


@dataclass
class Demo:
    options: DemoOptions
    out: TextIO = sys.stdout
    stop: threading.Event = field(default_factory=threading.Event)
    monitor: Callable[[Path, Callable[[], datetime]], object] | None = None
    """Opens the live monitor on the sink with the simulated clock as its "now" (the events are dated
    by it) and returns when it is closed; ``None``: text summary."""

    def run(self) -> int:
        opts = self.options
        _bypass_proxies_for_loopback()
        opts.sink.parent.mkdir(parents=True, exist_ok=True)
        _ensure_sink(opts.sink)
        config = demo_config(opts.config)
        _apply_policies(opts.sink, opts.policies, config)
        clock = SimClock(speed=opts.speed, start=opts.start)
        begin = clock.now()
        with FakeAnthropic(clock=clock) as fake, _simulated_app(opts.sink, config, clock) as (wrap, defer):

            def sync_client() -> anthropic.Anthropic:
                client = anthropic.Anthropic(base_url=fake.base_url, api_key=DEMO_API_KEY, max_retries=2)
                return wrap(client)  # type: ignore[no-any-return]

            def async_client() -> anthropic.AsyncAnthropic:
                client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key=DEMO_API_KEY, max_retries=2)
                return wrap(client)  # type: ignore[no-any-return]

            workload = Workload(
                sync_client,
                clock,
                opts.scenarios,
                async_client_factory=async_client,
                pathologies=opts.pathologies,
                seed=opts.seed,
                deferrable=defer,
                async_tasks=config.batching.async_tasks,
                stop=self.stop,
            )
            sim_duration = (opts.duration_s or 365 * 86400) * opts.speed if opts.speed else 0.0
            runner = threading.Thread(
                target=workload.run, args=(sim_duration, begin), name="demo-workload", daemon=True
            )
            runner.start()
            try:
                self._foreground(fake, workload, runner)
            except KeyboardInterrupt:
                pass
            finally:
                self.stop.set()
                runner.join(SHUTDOWN_S)
            if opts.headless or self.monitor is None:
                self._summary(fake, workload, final=True)
        return 0

    def _foreground(self, fake: FakeAnthropic, workload: Workload, runner: threading.Thread) -> None:
        opts = self.options
        deadline = None if opts.duration_s is None else time.monotonic() + opts.duration_s
        if not opts.headless and self.monitor is not None:
            if deadline is not None:
                threading.Timer(opts.duration_s or 0, self.stop.set).start()
            self.monitor(opts.sink, fake.clock.now_dt)
            return
        while not self.stop.is_set() and runner.is_alive():
            remaining = 1.0 if deadline is None else min(1.0, deadline - time.monotonic())
            if remaining <= 0 or self.stop.wait(remaining):
                return
            if not opts.headless:
                self._summary(fake, workload, final=False)

    def _summary(self, fake: FakeAnthropic, workload: Workload, *, final: bool) -> None:
        stats = fake.stats
        calls = ", ".join(f"{k} {v}" for k, v in sorted(workload.stats.calls.items())) or "none yet"
        rows = fake.ledger.rows()
        read = sum(r.cache_read for r in rows)
        prompt = sum(r.input_tokens + r.cache_write_5m + r.cache_write_1h + r.cache_read for r in rows) or 1
        head = "done" if final else time.strftime("%H:%M:%S")
        print(
            f"[{head}] sim {fake.clock.now_dt():%Y-%m-%d %H:%M} | requests {stats.requests} | {calls} | "
            f"cache hit {read / prompt:.0%} | errors {sum(workload.stats.errors.values())}",
            file=self.out,
            flush=True,
        )


def _bypass_proxies_for_loopback() -> None:
    """The demo's clients talk to its own server on 127.0.0.1: a proxy the user set for real traffic
    (``HTTP_PROXY``) must not carry them, or every call fails."""
    for name in ("NO_PROXY", "no_proxy"):
        hosts = [h.strip() for h in os.environ.get(name, "").split(",") if h.strip()]
        os.environ[name] = ",".join(dict.fromkeys([*hosts, "127.0.0.1", "localhost"]))


def _ensure_sink(path: Path) -> None:
    """Fail early and clearly when the sink path is unusable (a directory, unwritable...)."""
    if path.is_dir():
        raise DemoError(f"--sink {path}: is a directory")
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as exc:
        raise DemoError(f"--sink {path}: {exc}") from None
