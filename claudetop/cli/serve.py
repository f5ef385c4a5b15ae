"""``claudetop serve --prometheus``: the report's figures at ``/metrics`` for Prometheus and Grafana.

The figures are rebuilt on a background thread every refresh interval from incremental sources;
a scrape returns the last rendered text and costs nothing else. Listens on 127.0.0.1 by default.
"""

from __future__ import annotations

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from claudetop.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, no_such_sink, positive_float

DEFAULT_PORT = 9464
MAX_PORT = 65535


def _port(text: str) -> int:
    """A TCP port for argparse: out of range is a usage error, not a failure to bind after startup."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"must be a port from 0 to {MAX_PORT}, got {text!r}")
    return value


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="serve the report's figures for Prometheus (/metrics)")
    p.add_argument("--prometheus", action="store_true", help="expose Prometheus metrics at /metrics")
    p.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--sink", action="append", default=[], metavar="P|URL", help="sink to read (repeatable)")
    p.add_argument(
        "--interval", type=positive_float, metavar="S", help="refresh interval (default: config's)"
    )
    p.add_argument("--config", metavar="PATH")
    p.set_defaults(func=run)


def _handler(live: Any) -> type[BaseHTTPRequestHandler]:
    from claudetop.exporters.prometheus import CONTENT_TYPE

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404, "claudetop serves /metrics")
                return
            body = live.text.encode()
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from claudetop.config import ConfigError, load_config, sink_target
    from claudetop.exporters.prometheus import LiveReport
    from claudetop.sinks import sink_exists
    from claudetop.sources import open_sources

    if not args.prometheus:
        print("claudetop serve: say what to serve (--prometheus)", file=sys.stderr)
        return EXIT_USAGE
    try:
        config = load_config(Path(args.config) if args.config else None)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return EXIT_USAGE
    if no_such_sink("serve", args.sink):
        return EXIT_USAGE
    targets = list(args.sink) or [sink_target(config)]
    if not sink_exists(targets[0]):  # the exporter may well start before the app's first call
        print(
            f"claudetop serve: {targets[0]} does not exist yet: source_up is 0 until it does", file=sys.stderr
        )
    live = LiveReport(lambda: open_sources(sinks=targets), config)
    try:
        live.refresh()
        server = ThreadingHTTPServer((args.host, args.port), _handler(live))
    except Exception as err:
        print(f"claudetop serve: {err}", file=sys.stderr)
        return EXIT_FAILURE
    stop = threading.Event()
    interval = args.interval or config.monitoring.refresh_interval_s
    refresher = threading.Thread(
        target=live.run, args=(interval, stop), name="claudetop-refresh", daemon=True
    )
    refresher.start()
    port = server.server_address[1]
    print(f"claudetop: serving Prometheus metrics on http://{args.host}:{port}/metrics", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()
    return EXIT_OK
