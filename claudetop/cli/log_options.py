"""The ``--jsonl`` and ``--claude-code`` options that ``report`` and ``tail`` share, and what they mean."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_log_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jsonl", action="append", type=Path, default=[], metavar="P", help="JSONL file/dir")
    parser.add_argument(
        "--claude-code",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="read Claude Code transcripts (default: $CLAUDE_CONFIG_DIR, ~/.config/claude, ~/.claude)",
    )


def claude_code_dirs(args: argparse.Namespace) -> list[Path] | None:
    """``None`` without ``--claude-code``; ``[]`` (the discovered config dirs) for a bare one; else the
    one named."""
    if args.claude_code is None:
        return None
    return [Path(args.claude_code)] if args.claude_code else []
