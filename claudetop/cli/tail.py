"""``claudetop tail``: print usage events as they arrive, one line each, for pipes and debugging.

Ctrl+C ends it with exit 0; so does the reader of a pipe going away (``claudetop tail | head``).
A source that cannot be read is said on stderr; ``--once`` exits 1 when none could be.

Line format (tab-separated so ``cut``/``awk`` work): UTC time, source, task, model, input (uncached),
cache write, cache read, output tokens, cost in USD (``unpriced`` when the model has no price).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from claudetop.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, positive_float, source_problem
from claudetop.cli.log_options import add_log_options, claude_code_dirs


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("tail", help="print usage events as they arrive, one line each")
    p.add_argument("--sink", action="append", type=Path, default=[], metavar="P", help="sink (SQLite/.jsonl)")
    add_log_options(p)
    p.add_argument("--from-start", action="store_true", help="print what is already there first")
    p.add_argument(
        "--interval", type=positive_float, default=1.0, metavar="S", help="poll interval (default 1 s)"
    )
    p.add_argument("--once", action="store_true", help="print what there is and exit (implies --from-start)")
    p.add_argument("--config", type=Path, metavar="PATH", help="config file (its price overrides)")
    p.set_defaults(func=run)


def format_event(event: Any) -> str:
    from claudetop.model import usd_str

    cost = "unpriced" if event.cost_micros is None else usd_str(event.cost_micros)
    return "\t".join(
        (
            event.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            event.source,
            event.task or "-",
            event.model or "-",
            str(event.input_tokens),
            str(event.cache_write_tokens),
            str(event.cache_read_tokens),
            str(event.output_tokens),
            cost,
        )
    )


def _print_lines(out: TextIO, events: list[Any]) -> None:
    for event in sorted(events, key=lambda e: e.ts):
        out.write(format_event(event) + "\n")
    out.flush()


def _say_problems(sources: list[Any], said: set[str]) -> bool:
    """Print each unhealthy source's problem to stderr, once per distinct line (a follow polls a missing
    sink every interval); returns whether no source is healthy."""
    health = [s.health() for s in sources]
    for h in health:
        if h.ok:
            continue
        line = f"claudetop tail: {source_problem(h.name, h.message)}"
        if line not in said:
            said.add(line)
            print(line, file=sys.stderr)
    return not any(h.ok for h in health)


def run(args: argparse.Namespace) -> int:
    from claudetop.analysis.report import pricebook_for
    from claudetop.config import ConfigError, default_sink_path, load_config
    from claudetop.sources import ProgressPrinter, Watcher, open_sources

    try:
        config = load_config(args.config)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_USAGE
    sinks = list(args.sink)
    if not sinks and not args.jsonl and args.claude_code is None:
        sinks = [default_sink_path()]
    from_start = args.from_start or args.once
    code_dirs = claude_code_dirs(args)
    sources = open_sources(
        sinks,
        args.jsonl,
        code_dirs,
        use_claude_code=code_dirs is not None,
        start_at_end=not from_start,
        settle_s=0 if args.once else 2.0,
        pricebook=pricebook_for(config),
    )
    if not sources:
        print("claudetop tail: nothing to read", file=sys.stderr)
        return EXIT_USAGE
    watched = [*sinks, *args.jsonl, *(code_dirs or [])]
    watcher = Watcher(watched).start() if watched and not args.once else None
    said: set[str] = set()
    unread = False
    try:
        with ProgressPrinter.of(sources) if from_start else contextlib.nullcontext():
            first = [e for s in sources for e in s.poll().events]
        _print_lines(sys.stdout, first)
        unread = _say_problems(sources, said)
        while not args.once:
            if watcher is not None:
                watcher.wait(args.interval)
            else:
                time.sleep(args.interval)
            _print_lines(sys.stdout, [e for s in sources for e in s.poll().events])
            _say_problems(sources, said)
    except KeyboardInterrupt:
        pass
    finally:
        if watcher is not None:
            watcher.stop()
        for source in sources:
            close = getattr(source, "close", None)
            if close is not None:
                close()
    return EXIT_FAILURE if args.once and unread else EXIT_OK
