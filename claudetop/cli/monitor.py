"""The default command: ``claudetop`` with no subcommand opens the live monitor."""

from __future__ import annotations

import argparse
from pathlib import Path

from claudetop.cli import COMMANDS, positive_usd


def _delay(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 0.1 and 3600 seconds, got {text!r}")
    return value


def _claude_code_dir(text: str) -> str:
    """``--claude-code``'s optional DIR, which would swallow a command given after it: ``claudetop
    --claude-code report`` would watch a directory named ``report``."""
    if text in COMMANDS and not Path(text).exists():
        raise argparse.ArgumentTypeError(
            f"{text!r} is a command, not a directory: put --claude-code after it"
            f" (claudetop {text} --claude-code)"
        )
    return text


def add_options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The monitor's options, on the top-level parser (they apply when no subcommand is given); returned
    so that ``main`` can tell which were given before a subcommand."""
    group = parser.add_argument_group("monitor (the default command)")
    add = group.add_argument
    return [
        add("--sink", action="append", default=[], metavar="PATH|URL", help="sink to watch (repeatable)"),
        add("--jsonl", action="append", default=[], type=Path, metavar="PATH", help="JSONL log to tail"),
        add(
            "--claude-code",
            nargs="?",
            action="append",
            const="",
            default=[],
            type=_claude_code_dir,
            metavar="DIR",
            help="read Claude Code transcripts (default dir: ~/.claude/projects)",
        ),
        add("--no-claude-code", action="store_true", help="do not read Claude Code transcripts"),
        add("-d", "--delay", type=_delay, metavar="SECONDS", help="refresh interval"),
        add("--theme", help="colour theme (dark, light, ansi, high-contrast or a user theme)"),
        add("--budget", type=positive_usd, metavar="USD", help="monthly budget in US dollars"),
        add("--config", type=Path, metavar="PATH", help="config file"),
        add("--no-color", action="store_true", help="no colours (also: NO_COLOR=1)"),
        add("--no-animations", action="store_true", help="no animations (automatic over SSH)"),
    ]


def run(args: argparse.Namespace) -> int:
    from claudetop.analysis.budget import default_alert_state_path
    from claudetop.ui.options import MonitorOptions
    from claudetop.ui.run import run_monitor

    return run_monitor(
        MonitorOptions(
            sinks=tuple(args.sink),
            jsonl=tuple(args.jsonl),
            claude_code=tuple(Path(d) for d in args.claude_code if d),
            no_claude_code=args.no_claude_code,
            delay_s=args.delay,
            theme=args.theme,
            budget_usd=args.budget,
            alert_state=default_alert_state_path(),
            config=args.config,
            no_color=args.no_color,
            animations=not args.no_animations,
        )
    )
