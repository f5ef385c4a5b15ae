"""``claudetop demo``: the whole product on a loopback fake API, no key, no network."""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from claudetop.cli import positive_float, sink_errors, sink_failure

MAX_SPEED = 1e6
"""A simulated day in a tenth of a second; faster, the simulated clock soon passes datetime's year 9999."""


def _speed(text: str) -> float:
    value = positive_float(text)
    if value > MAX_SPEED:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_SPEED:g}, got {text!r}")
    return value


def _start(text: str) -> datetime:
    """``HH:MM`` (today, UTC) or an ISO date-time: where the simulated clock starts."""
    try:
        if len(text) <= 5 and ":" in text:
            return datetime.combine(datetime.now(UTC).date(), time.fromisoformat(text), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not HH:MM or an ISO date-time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _open_monitor(sink: Path, clock: Callable[[], datetime]) -> int:
    from claudetop.ui.options import MonitorOptions
    from claudetop.ui.run import run_monitor

    return run_monitor(MonitorOptions(sinks=(str(sink),), no_claude_code=True, clock=clock))


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "demo",
        help="run the monitor on a simulated workload (no API key, no network)",
        description="Start a loopback fake Anthropic API and a workload that calls it through the real SDK "
        "with the claudetop hook installed, then watch it.",
    )
    p.add_argument("--headless", action="store_true", help="no monitor; print a summary at the end")
    p.add_argument(
        "--duration",
        type=positive_float,
        metavar="SECONDS",
        help="real seconds to run (default: until Ctrl+C)",
    )
    p.add_argument(
        "--speed", type=_speed, default=60.0, metavar="N", help="simulated seconds per real second"
    )
    p.add_argument(
        "--sink", dest="demo_sink", type=Path, metavar="PATH", help="SQLite sink (default: a temporary file)"
    )
    p.add_argument("--scenario", type=_names, metavar="A,B", help="scenarios to run (default: all)")
    p.add_argument("--pathologies", type=_names, default=(), metavar="A,B", help="pitfalls to inject")
    p.add_argument(
        "--policies", default="", metavar="NAME=MODE,...", help="starting policy modes, e.g. all=enforce"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="config of the simulated app (default: the demo's own, with its routed tasks validated)",
    )
    p.add_argument(
        "--start",
        type=_start,
        metavar="HH:MM|ISO",
        help="simulated start time (UTC), e.g. 01:58 to watch the nightly batch",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from claudetop.simulate.demo import Demo, DemoError, DemoOptions, parse_policies
    from claudetop.simulate.workload import PATHOLOGIES, SCENARIO_NAMES

    try:
        scenarios = args.scenario or SCENARIO_NAMES
        for name in scenarios:
            if name not in SCENARIO_NAMES:
                raise DemoError(f"--scenario: unknown {name!r} (known: {', '.join(SCENARIO_NAMES)})")
        for name in args.pathologies:
            if name not in PATHOLOGIES:
                raise DemoError(f"--pathologies: unknown {name!r} (known: {', '.join(PATHOLOGIES)})")
        policies = parse_policies(args.policies)
        with tempfile.TemporaryDirectory(prefix="claudetop-demo-") as tmp:
            options = DemoOptions(
                sink=args.demo_sink or Path(tmp) / "demo.db",
                duration_s=args.duration,
                speed=args.speed,
                scenarios=tuple(scenarios),
                pathologies=tuple(args.pathologies),
                policies=policies,
                headless=args.headless,
                seed=args.seed,
                start=args.start,
                config=args.config,
            )
            try:
                return Demo(options, monitor=None if args.headless else _open_monitor).run()
            except BrokenPipeError:
                raise  # the reader of the summary went away: main() handles it
            except sink_errors() as err:
                return sink_failure("demo", options.sink, err)
    except DemoError as err:
        print(f"claudetop demo: {err}", file=sys.stderr)
        return 2
