"""``claudetop policy``: list, switch and audit the optimisation policies from the shell.

Uses the same ``PolicyStore`` as the monitor's toggle keys, so a change made here reaches every
instrumented app within a second and lands in the same audit trail.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from claudetop.cli import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from claudetop.model import ParamValue, PolicyMode, PolicyName


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="list, switch (off/shadow/enforce) and audit policies")
    parser.set_defaults(func=lambda _args: (parser.print_help(), EXIT_USAGE)[1])
    actions = parser.add_subparsers(title="actions", metavar="ACTION")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--sink", metavar="P", help="SQLite sink file (default: the configured sink)")
        p.add_argument("--config", metavar="FILE", type=Path, help="config file (default: the usual places)")
        p.add_argument("--json", action="store_true", help="machine-readable output")

    listing = actions.add_parser("list", help="every policy's mode and parameters")
    common(listing)
    listing.set_defaults(func=_list)

    setting = actions.add_parser("set", help="switch one policy")
    common(setting)
    setting.add_argument("name", choices=[n.value for n in PolicyName])
    setting.add_argument("mode", choices=[m.value for m in PolicyMode])
    setting.add_argument("--param", action="append", default=[], metavar="K=V", help="policy parameter")
    setting.add_argument("--by", metavar="WHO", help="who is changing it (default: user@host)")
    setting.add_argument("--reason", help="why, for the audit trail")
    setting.set_defaults(func=_set)

    audit = actions.add_parser("audit", help="the change history, newest first")
    common(audit)
    audit.add_argument("--limit", type=int, default=50)
    audit.set_defaults(func=_audit)


def parse_param(text: str) -> tuple[str, ParamValue]:
    """``k=v`` with ``v`` read as a bool, an int, a float, or else kept as a string."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise ValueError(f"--param {text!r}: expected KEY=VALUE")
    value: ParamValue = raw
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    else:
        for kind in (int, float):
            try:
                value = kind(raw)
                break
            except ValueError:
                continue
    return key, value


@contextmanager
def _store(args: argparse.Namespace, action: str, *, writes: bool = False) -> Iterator[Any]:
    """The policy store of ``--sink`` (default: the configured sink). A sink that cannot be opened or
    read ends the command with one line on stderr and exit 1; a ``--sink`` path that does not exist ends
    it with exit 2 unless the command ``writes`` (``set`` creates the sink, where the hook will find it);
    the configured sink is opened (created, on a first run) as the hook would open it."""
    from claudetop.cli import no_such_sink, sink_errors, sink_failure
    from claudetop.config import ConfigError, config_error_exit, load_config, sink_target
    from claudetop.policies import PolicyStore

    try:
        config = load_config(args.config)
    except ConfigError as err:
        config_error_exit(err)
    if args.sink and not writes and no_such_sink(f"policy {action}", [args.sink]):
        sys.exit(EXIT_USAGE)
    target = args.sink or sink_target(config)
    try:
        with PolicyStore(target, config=config) as store:
            yield store
    except sink_errors() as err:
        sys.exit(sink_failure(f"policy {action}", target, err))


def _list(args: argparse.Namespace) -> int:
    with _store(args, "list") as store:
        policies = store.current()
    rows = [policies.get(name) for name in PolicyName]
    if args.json:
        print(json.dumps([r.to_json() for r in rows], indent=2))
        return EXIT_OK
    print(f"{'POLICY':<12} {'MODE':<8} {'UPDATED BY':<24} {'UPDATED AT':<20} PARAMS")
    for r in rows:
        at = r.updated_at.strftime("%Y-%m-%d %H:%M:%S") if r.updated_at else "-"
        params = " ".join(f"{k}={v}" for k, v in sorted(r.params.items())) or "-"
        print(f"{r.name.value:<12} {r.mode.value:<8} {r.updated_by or '-':<24} {at:<20} {params}")
    return EXIT_OK


def _set(args: argparse.Namespace) -> int:
    from claudetop.policies import PolicyRefused

    try:
        params = dict(parse_param(p) for p in args.param) if args.param else None
    except ValueError as err:
        print(f"claudetop policy set: {err}", file=sys.stderr)
        return EXIT_USAGE
    with _store(args, "set", writes=True) as store:
        try:
            change = store.set(args.name, args.mode, params, by=args.by, reason=args.reason)
        except PolicyRefused as err:
            print(err.reason, file=sys.stderr)
            return EXIT_FAILURE
    print(f"{change.name.value}: {change.from_mode.value} -> {change.to_mode.value} (by {change.by})")
    return EXIT_OK


def _audit(args: argparse.Namespace) -> int:
    with _store(args, "audit") as store:
        trail = store.audit(args.limit)
    if args.json:
        print(json.dumps([c.to_json() for c in trail], indent=2))
        return EXIT_OK
    for c in trail:
        params = " ".join(f"{k}={v}" for k, v in sorted(c.params.items()))
        reason = f"  # {c.reason}" if c.reason else ""
        line = f"{c.at:%Y-%m-%d %H:%M:%S}  {c.name.value:<12} {c.from_mode.value:>7} -> {c.to_mode.value:<8}"
        print(f"{line} {c.by}{'  ' + params if params else ''}{reason}")
    return EXIT_OK
