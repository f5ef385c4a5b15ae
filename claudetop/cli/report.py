"""``claudetop report``: print the monitor's numbers (text, Markdown or JSON); exit 3 over budget,
1 when no source could be read."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claudetop.cli import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_OVER_BUDGET,
    EXIT_USAGE,
    no_such_sink,
    positive_usd,
    sink_errors,
    sink_failure,
    source_problem,
)
from claudetop.cli.log_options import add_log_options, claude_code_dirs


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not an ISO date or datetime: {text!r}") from err
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while a report reads history: it builds hundreds of thousands
    of small objects that live until the end, which the collector would traverse again and again (a
    fifth of a rerun's time); reference counting still frees everything else. Afterwards what is alive
    is frozen (``gc.freeze``) so that the collection at interpreter exit, right after the report, does
    not traverse it once more; an in-process caller only loses cycle collection of those objects."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("report", help="print spend, cache, batches, projection and findings headless")
    p.add_argument(
        "--sink",
        action="append",
        default=[],
        metavar="P|URL",
        help="SQLite sink or postgresql:// URL, repeatable",
    )
    add_log_options(p)
    p.add_argument("--since", type=_when, help="start (ISO date/datetime, UTC); default: start of this month")
    p.add_argument("--until", type=_when, help="end (exclusive)")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument("--budget", type=positive_usd, metavar="USD", help="monthly budget (exit 3 above it)")
    p.add_argument("--config", type=Path, metavar="PATH")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with _no_cycle_collection():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from claudetop.analysis.budget import default_alert_state_path
    from claudetop.analysis.report import (
        build_report,
        open_report_sources,
        over_budget,
        pricebook_for,
        render,
    )
    from claudetop.config import ConfigError, load_config, sink_target
    from claudetop.sources.progress import ProgressPrinter

    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_USAGE
    sinks = list(args.sink)
    if not sinks and not args.jsonl and args.claude_code is None:
        sinks = [sink_target(config)]
    if no_such_sink("report", sinks):
        return EXIT_USAGE
    try:
        sources = open_report_sources(sinks, args.jsonl, claude_code_dirs(args), pricebook_for(config))
        with ProgressPrinter.of(sources):  # on stderr, when it is a terminal
            data = build_report(
                sources,
                config,
                since=args.since,
                until=args.until,
                budget_usd=args.budget,
                alert_state=default_alert_state_path(),
            )
    except sink_errors() as err:
        return sink_failure("report", ", ".join(sinks) or "sources", err)
    for source in data["sources"]:
        if not source["ok"]:
            print(f"claudetop report: {source_problem(source['name'], source['message'])}", file=sys.stderr)
    if not any(source["ok"] for source in data["sources"]):
        code = EXIT_FAILURE  # nothing was read: the figures are not $0, they are unknown
    else:
        code = EXIT_OVER_BUDGET if over_budget(data) else EXIT_OK
    args.exit_code = code  # main() keeps it if the reader goes away while the report is written
    sys.stdout.write(render(data, args.format))
    return code
