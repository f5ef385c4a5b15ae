"""Incremental readers of usage data: the SQLite sink, JSONL logs, Claude Code transcripts, Admin API.

Every source has a ``name``, a ``poll() -> SourceDelta`` that returns only what is new (and returns
promptly: it is meant for a worker thread, never the UI thread), a ``health() -> SourceHealth``, and
a ``progress`` (``claudetop.sources.progress.Progress``) the monitor and the CLI show during a long
first read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from claudetop.pricing import PriceBook
from claudetop.sinks import is_postgres_target
from claudetop.sources.checkpoints import CheckpointStore, default_checkpoint_dir
from claudetop.sources.claude_code import ClaudeCodeSource, config_dirs, read_claude_code
from claudetop.sources.jsonl import JsonlSource, LineFollower, Watcher
from claudetop.sources.progress import Progress, ProgressPrinter, ProgressSnapshot
from claudetop.sources.sink import SinkSource, read_all_events
from claudetop.sources.types import Source, SourceDelta, SourceHealth


def open_sources(
    sinks: Sequence[Path | str] = (),
    jsonl: Sequence[Path | str] = (),
    claude_code: Sequence[Path | str] | None = None,
    *,
    use_claude_code: bool = False,
    checkpoints: CheckpointStore | None = None,
    start_at_end: bool = False,
    settle_s: float = 2.0,
    pricebook: PriceBook | None = None,
) -> list[Source]:
    """Sources for the CLI's ``--sink``/``--jsonl``/``--claude-code`` options.

    A sink path ending in ``.jsonl`` is read as JSONL, a ``postgresql://`` URL as the fleet database
    (``claudetop.sources.postgres``, needs psycopg). ``claude_code`` lists config dirs; an empty
    list with ``use_claude_code`` (a bare ``--claude-code``) means the discovered ones. Claude Code
    messages are priced with ``pricebook`` (the config's overrides; default: published prices).
    """
    sources: list[Source] = []
    for target in sinks:
        if is_postgres_target(target):
            from claudetop.sources.postgres import PostgresSource

            sources.append(PostgresSource(str(target)))
            continue
        path = Path(target).expanduser()
        if path.suffix == ".jsonl":
            sources.append(JsonlSource([path], checkpoints=checkpoints, start_at_end=start_at_end))
        else:
            sources.append(SinkSource(path, checkpoints=checkpoints, start_at_end=start_at_end))
    if jsonl:
        sources.append(JsonlSource(list(jsonl), checkpoints=checkpoints, start_at_end=start_at_end))
    if use_claude_code or claude_code:
        dirs = list(claude_code) if claude_code else None
        sources.append(
            ClaudeCodeSource(
                dirs,
                checkpoints=checkpoints,
                pricebook=pricebook,
                start_at_end=start_at_end,
                settle_s=settle_s,
            )
        )
    return sources


__all__ = [
    "CheckpointStore",
    "ClaudeCodeSource",
    "JsonlSource",
    "LineFollower",
    "Progress",
    "ProgressPrinter",
    "ProgressSnapshot",
    "SinkSource",
    "Source",
    "SourceDelta",
    "SourceHealth",
    "Watcher",
    "config_dirs",
    "default_checkpoint_dir",
    "open_sources",
    "read_all_events",
    "read_claude_code",
]
