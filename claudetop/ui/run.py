"""``run_monitor(options)``: from command-line options to a running monitor and an exit code.

Everything that can be wrong before the screen opens (config, theme files, key names, an unknown
theme) is reported as ``path:line: message`` with exit code 2, before the terminal is taken over.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.budget import budget_alerts_for
from claudetop.analysis.rates import RateTable
from claudetop.analysis.report import pricebook_for
from claudetop.config import (
    EXIT_CONFIG,
    Config,
    ConfigError,
    ConfigProblem,
    Origins,
    default_config_path,
    load_config_with_origins,
    sink_target,
)
from claudetop.model import micros_from_usd
from claudetop.policies import PolicyStore
from claudetop.sinks import sink_exists
from claudetop.sources import open_sources
from claudetop.sources.types import Source
from claudetop.ui.app import MonitorApp
from claudetop.ui.keys import keymap_problems
from claudetop.ui.options import MonitorOptions
from claudetop.ui.pipeline import Pipeline
from claudetop.ui.themes import load_themes, theme_cycle
from claudetop.ui.worker import SnapshotWorker


def monitor_aggregator() -> Aggregator:
    """The aggregator sized for a monitor left running for days: minute detail only as far back as
    the burn-rate chart and "today" need, ids remembered long enough to catch two sources holding the
    same events as they are written, and a replay sample big enough for stable what-if ratios."""
    return Aggregator(
        minute_horizon=timedelta(hours=6),
        dedupe_horizon=timedelta(minutes=5),
        prefix_cap=10_000,
        replay_cap=20_000,
    )


def _policy_target(targets: Sequence[str]) -> str | None:
    """The first sink that can hold policies (a SQLite file or a ``postgresql://`` URL), if any."""
    for target in targets:
        if not target.endswith(".jsonl") and ("://" not in target or target.startswith("postgres")):
            return target
    return None


def _store_opener(target: str, config: Config) -> Callable[[bool], PolicyStore | None]:
    """Opens the policy store in ``target``. Only a policy change (``create``) may create a SQLite sink
    that does not exist yet: showing the modes must not leave a file at a mistyped ``--sink``, and the
    hook creates the sink when the app starts."""

    def open_store(create: bool) -> PolicyStore | None:
        if create or sink_exists(target):
            return PolicyStore(target, config=config)
        return None

    return open_store


def build_app(options: MonitorOptions, config: Config, origins: Origins | None = None) -> MonitorApp:
    """The app for these options, with its feed thread not yet started.

    Raises ``ConfigError`` for a bad theme or ``[keys]`` entry, placed by ``origins`` (where each
    setting came from, see ``load_config_with_origins``) at the file line or variable that set it.
    """
    origins = origins or Origins()
    themes = load_themes(default_config_path().parent / "themes")
    theme = options.theme or config.theme
    problems = keymap_problems(config.keys, origins)
    if theme not in themes:
        unknown = f"unknown theme {theme!r} (available: {', '.join(theme_cycle(themes))})"
        if options.theme:
            problems.append(ConfigProblem("--theme", None, unknown))
        else:
            problems.append(ConfigProblem.at(origins, ("theme",), unknown))
    if problems:
        raise ConfigError(problems)
    targets = list(options.sinks) or [sink_target(config)]
    book = pricebook_for(config)
    sources: list[Source] = list(
        open_sources(
            sinks=targets,
            jsonl=list(options.jsonl),
            claude_code=list(options.claude_code),
            use_claude_code=not options.no_claude_code,
            pricebook=book,
        )
    )
    budget = options.budget_usd or config.monitoring.monthly_budget_usd
    budget_micros = micros_from_usd(budget) if budget is not None else None
    policy_target = _policy_target(targets)
    pipeline = Pipeline(
        sources,
        monitor_aggregator(),
        config,
        RateTable(book),
        open_store=_store_opener(policy_target, config) if policy_target else None,
        clock=options.clock or (lambda: datetime.now(UTC)),
        budget_micros=budget_micros,
        alerts=budget_alerts_for(config, budget_micros, options.alert_state, (s.name for s in sources)),
    )
    feed = SnapshotWorker(
        pipeline,
        options.delay_s or config.monitoring.refresh_interval_s,
        close=pipeline.close,
        loading=lambda: pipeline.loading,
    )
    return MonitorApp(
        feed,
        policies=pipeline if policy_target else None,
        themes=themes,
        theme=theme,
        keymap=config.keys,
        animations=options.animations,
    )


def run_monitor(options: MonitorOptions) -> int:
    """Open the monitor; returns the process exit code (0 on ``q`` or a hung-up terminal)."""
    if options.no_color:
        os.environ["NO_COLOR"] = "1"  # Textual and any alert command both honour the standard variable
    try:
        app = build_app(options, *load_config_with_origins(options.config))
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    code = app.run()
    return code if code is not None else app.return_code or 0
