"""``claudetop`` command line: the monitor by default, and one subcommand per module.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds
its parser and sets ``func`` to a callable taking the parsed namespace and returning
the exit code. Modules import their heavy dependencies inside that callable so that
``claudetop --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

from claudetop._version import __version__

_SUBCOMMANDS: tuple[str, ...] = ("policy", "report", "demo", "tail", "import_cmd", "serve")
"""Module names under ``claudetop.cli``, in the order ``--help`` lists them."""
COMMANDS = tuple(name.removesuffix("_cmd") for name in _SUBCOMMANDS)
"""The subcommands as typed (a module is named for its command, plus ``_cmd`` for a Python keyword)."""

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
"""Bad arguments or a bad config file: the user must change something."""
EXIT_OVER_BUDGET = 3

MAX_USD = Decimal(10**12)
"""Above any real budget, and low enough that converting to micro-dollars cannot overflow ``Decimal``."""


def positive_usd(text: str) -> Decimal:
    """An amount in US dollars (``5``, ``$5.50``) for argparse: finite, above zero, at most ``MAX_USD``."""
    try:
        value = Decimal(text.strip().removeprefix("$"))
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"not an amount in USD: {text!r}") from None
    if not value.is_finite() or not 0 < value <= MAX_USD:
        raise argparse.ArgumentTypeError(f"must be a positive amount up to {MAX_USD:,} USD, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A finite number above zero for argparse (seconds, speeds): ``nan`` and ``inf`` never end a loop."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return value


def sink_errors() -> tuple[type[Exception], ...]:
    """What opening or reading a sink raises when it cannot be read, written or reached: SQLite's and the
    OS's errors, a JSONL file where only a database will do, and psycopg's (an optional extra: only once
    something imported it). Catch ``BrokenPipeError`` (an ``OSError``) before these: ``main`` handles it."""
    import sqlite3

    from claudetop.policies.db import NotASQLiteSink

    errors: tuple[type[Exception], ...] = (sqlite3.Error, OSError, NotASQLiteSink)
    psycopg = sys.modules.get("psycopg")
    return errors if psycopg is None else (*errors, psycopg.Error)


def sink_failure(command: str, target: object, err: Exception) -> int:
    """Say on one line which sink failed and why (its name left out when the error already names it; a
    PostgreSQL URL without its password), and return ``EXIT_FAILURE``."""
    from claudetop.sinks import is_postgres_target

    name = str(target)
    if is_postgres_target(name):
        scheme, _, rest = name.partition("://")
        name = f"{scheme}://{rest.partition('?')[0].rpartition('@')[2]}"
    lines = str(err).strip().splitlines()
    why = lines[0] if lines else type(err).__name__
    print(f"claudetop {command}: {why if name in why else f'{name}: {why}'}", file=sys.stderr)
    return EXIT_FAILURE


def no_such_sink(command: str, targets: Iterable[str | Path]) -> bool:
    """Say ``claudetop <command>: no such sink: <paths>`` on stderr when a sink path in ``targets`` does
    not exist, and return whether one did not. A read-only command checks first because opening a
    mistyped path would create an empty SQLite file there, and read nothing. A PostgreSQL URL is not a
    path: its server says whether it exists."""
    targets = list(targets)
    if not targets:
        return False
    from claudetop.sinks import sink_exists

    missing = [str(t) for t in targets if not sink_exists(t)]
    if missing:
        print(f"claudetop {command}: no such sink: {', '.join(missing)}", file=sys.stderr)
    return bool(missing)


def source_problem(name: str, message: str | None) -> str:
    """An unhealthy source as one line for stderr: its message, after its name unless the message names
    its path already (most do)."""
    why = (message or "cannot be read").strip().splitlines()[0]
    return why if (name.partition(":")[2] or name) in why else f"{name}: {why}"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or with ``only`` (a module of ``_SUBCOMMANDS``) just that subcommand:
    ``claudetop report ...`` then imports nothing of the other commands."""
    parser = argparse.ArgumentParser(
        prog="claudetop",
        description="top for Anthropic Claude API spend.",
    )
    parser.add_argument("--version", action="version", version=f"claudetop {__version__}")
    importlib.import_module("claudetop.cli.monitor").add_options(parser)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in _SUBCOMMANDS if only is None else (only,):
        importlib.import_module(f"claudetop.cli.{name}").register(subparsers)
    return parser


def _command_module(argv: Sequence[str]) -> str | None:
    """The module of the subcommand ``argv`` starts with, or ``None``."""
    if argv and argv[0] in COMMANDS:
        return _SUBCOMMANDS[COMMANDS.index(argv[0])]
    return None


def _command_parser(parser: argparse.ArgumentParser, words: Sequence[str]) -> argparse.ArgumentParser:
    """The parser of the (sub)command that ``words`` start with: ``report``, ``policy list``. argparse
    offers no public way down its tree of subparsers or to a parser's options, hence its private
    ``_actions`` here and ``_option_string_actions`` below."""
    for word in words:
        subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subparsers or word not in subparsers[0].choices:
            break
        parser = subparsers[0].choices[word]
    return parser


def _monitor_options_before_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> str | None:
    """Why ``argv``, which runs a subcommand, is a usage error, or ``None``: it gives monitor options
    before the subcommand's name (``claudetop --sink x.db report``), where argparse takes them as the
    monitor's, and the subcommand would silently use its own defaults instead.

    Only options actually given count: ``argv`` is parsed again by the monitor's options alone, without
    defaults, up to the first word that is not an option or an option's value (the subcommand's name,
    as for the full parser)."""
    before = argparse.ArgumentParser(add_help=False)
    options = importlib.import_module("claudetop.cli.monitor").add_options(before)
    for option in options:
        option.default = argparse.SUPPRESS
    before.add_argument("command", nargs=argparse.REMAINDER)
    given, _ = before.parse_known_args(argv)
    command = _command_parser(parser, given.command)
    name = command.prog.removeprefix(f"{parser.prog} ")
    why = []
    for option in options:
        if not hasattr(given, option.dest):
            continue
        flag = option.option_strings[-1]
        if flag in command._option_string_actions:
            why.append(
                f"{flag} before '{name}' belongs to the monitor and would be ignored: put it after '{name}'"
            )
        else:
            why.append(f"{flag} belongs to the monitor (claudetop with no command); '{name}' has no {flag}")
    return "; ".join(why) or None


def _remember_prices() -> None:
    """Every command shares what the price source answered (``state_dir()/prices.json``): a command that
    prices only what an earlier one priced does not load genai-prices' data."""
    from claudetop.config import state_dir
    from claudetop.pricing import remember_prices_in

    remember_prices_in(state_dir() / "prices.json")


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(_command_module(argv))
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        func = importlib.import_module("claudetop.cli.monitor").run
    elif (misplaced := _monitor_options_before_command(parser, argv)) is not None:
        parser.error(misplaced)
    _remember_prices()
    try:
        args.exit_code = func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``| head``): point stdout at /dev/null so the exit flush stays quiet.
        # The code is what the command returned, or settled before writing (``report``'s 3), or 0.
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code: int = getattr(args, "exit_code", EXIT_OK)
    return code


if __name__ == "__main__":
    sys.exit(main())
