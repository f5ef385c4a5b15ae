"""``claudetop import admin``: fetch Anthropic's usage and cost reports, and reconcile them.

The reports go to their own store (``claudetop.sources.admin_api.AdminStore``), never into the sink.
``--reconcile`` then prints, per UTC day and model, claudetop's cost (priced from the sink's events)
against Anthropic's, with the difference in percent and a flag above ``--threshold``.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import closing
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from claudetop.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, no_such_sink, sink_errors, sink_failure

ADMIN_KEY_ENV = "ANTHROPIC_ADMIN_KEY"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from err


def _pct(text: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%"))
    except InvalidOperation as err:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r}") from err
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"must be a percentage of 0 or more, got {text!r}")
    return value


def _base_url(text: str) -> str:
    """An ``http(s)://host`` URL: anything else would only fail once the first request is built."""
    try:
        parts = urlsplit(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"not a URL: {text!r} ({err})") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"not an http(s):// URL: {text!r}")
    return text


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("import", help="import Anthropic's Admin API usage and cost reports")
    parser.set_defaults(func=lambda _args: (parser.print_help(), EXIT_USAGE)[1])
    kinds = parser.add_subparsers(title="what", metavar="WHAT")
    admin = kinds.add_parser("admin", help=f"usage + cost reports (needs ${ADMIN_KEY_ENV})")
    admin.add_argument("--since", type=_day, help="first day (UTC, inclusive); required unless --no-fetch")
    admin.add_argument("--until", type=_day, help="last day (UTC, inclusive; default today)")
    admin.add_argument(
        "--base-url",
        type=_base_url,
        default=None,
        help="Admin API base URL (default https://api.anthropic.com)",
    )
    admin.add_argument("--store", type=Path, help="where imported reports are kept (default: state dir)")
    admin.add_argument("--reconcile", action="store_true", help="claudetop vs Anthropic per day/model")
    admin.add_argument("--no-fetch", action="store_true", help="reconcile what was imported before")
    admin.add_argument("--sink", action="append", type=Path, default=[], metavar="P", help="sink to compare")
    admin.add_argument("--threshold", type=_pct, default=Decimal("1"), metavar="PCT", help="flag above (1%%)")
    admin.set_defaults(func=run_admin)


def run_admin(args: argparse.Namespace) -> int:
    from claudetop.config import default_sink_path
    from claudetop.sources.admin_api import (
        DEFAULT_BASE_URL,
        AdminApiError,
        AdminClient,
        AdminStore,
        day_range,
        default_store_path,
        import_admin,
        our_costs,
        reconcile,
        render_reconciliation,
        their_costs,
    )
    from claudetop.sources.sink import SinkUnreadable, read_all_events

    try:
        days = None if args.since is None else day_range(args.since, args.until)
    except ValueError as err:
        print(f"claudetop import admin: {err}", file=sys.stderr)
        return EXIT_USAGE
    key = os.environ.get(ADMIN_KEY_ENV)
    if not args.no_fetch and not key:
        print(f"claudetop import admin: set {ADMIN_KEY_ENV} to an Admin API key", file=sys.stderr)
        return EXIT_USAGE
    if not args.no_fetch and days is None:
        print("claudetop import admin: --since DATE is required", file=sys.stderr)
        return EXIT_USAGE
    sinks = args.sink or [default_sink_path()]
    if args.reconcile and no_such_sink("import admin", sinks):
        return EXIT_USAGE
    store_path = args.store or default_store_path()
    table = None
    try:
        with closing(AdminStore(store_path)) as store:
            if key and days is not None and not args.no_fetch:
                client = AdminClient(key, args.base_url or DEFAULT_BASE_URL)
                usage_rows, cost_rows = import_admin(client, store, *days)
                print(
                    f"imported {usage_rows} usage rows and {cost_rows} cost rows for {days[0]} .. {days[1]} "
                    f"({client.requests} requests) into {store.path}",
                    file=sys.stderr,
                )
            if args.reconcile:
                try:
                    events = [e for p in sinks for e in read_all_events(p)]
                except SinkUnreadable as err:
                    print(f"claudetop import admin: {err}", file=sys.stderr)
                    return EXIT_FAILURE
                costs = store.costs()
                if days is not None:
                    costs = [c for c in costs if days[0] <= c.day < days[1]]
                    events = [e for e in events if days[0] <= e.ts.date() < days[1]]
                table = render_reconciliation(
                    reconcile(our_costs(events), their_costs(costs), args.threshold), args.threshold
                )
    except AdminApiError as err:
        print(f"claudetop import admin: {err}", file=sys.stderr)
        return EXIT_FAILURE
    except sink_errors() as err:
        return sink_failure("import admin", store_path, err)
    if table is not None:
        print(table)
    return EXIT_OK
