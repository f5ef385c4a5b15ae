"""Incremental readers of usage data: the SQLite sink, JSONL logs, Claude Code transcripts, Admin API.

Every source has a ``name``, a ``poll() -> SourceDelta`` that returns only what is new (and returns
promptly: it is meant for a worker thread, never the UI thread), a ``health() -> SourceHealth``, and
a ``progress`` (``claudetop.sources.progress.Progress``) the monitor and the CLI show during a long
first read. Each reader loads on first use: one command needs only the ones it reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from claudetop._lazy import attributes
from claudetop.sources.types import Source, SourceDelta, SourceHealth

if TYPE_CHECKING:
    from claudetop.pricing import PriceBook
    from claudetop.sources.checkpoints import CheckpointStore, default_checkpoint_dir
    from claudetop.sources.claude_code import ClaudeCodeSource, config_dirs, read_claude_code
    from claudetop.sources.follow import LineFollower, Watcher
    from claudetop.sources.jsonl import JsonlSource
    from claudetop.sources.progress import Progress, ProgressPrinter, ProgressSnapshot
    from claudetop.sources.sink import SinkSource, read_all_events

__getattr__ = attributes(
    __name__,
    {
        "CheckpointStore": "claudetop.sources.checkpoints",
        "default_checkpoint_dir": "claudetop.sources.checkpoints",
        "ClaudeCodeSource": "claudetop.sources.claude_code",
        "config_dirs": "claudetop.sources.claude_code",
        "read_claude_code": "claudetop.sources.claude_code",
        "LineFollower": "claudetop.sources.follow",
        "Watcher": "claudetop.sources.follow",
        "JsonlSource": "claudetop.sources.jsonl",
        "Progress": "claudetop.sources.progress",
        "ProgressPrinter": "claudetop.sources.progress",
        "ProgressSnapshot": "claudetop.sources.progress",
        "SinkSource": "claudetop.sources.sink",
        "read_all_events": "claudetop.sources.sink",
    },
)


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
    Each reader's module is imported only when it is asked for.
    """
    sources = [_sink_source(target, checkpoints, start_at_end) for target in sinks]
    if jsonl:
        from claudetop.sources.jsonl import JsonlSource

        sources.append(JsonlSource(list(jsonl), checkpoints=checkpoints, start_at_end=start_at_end))
    if use_claude_code or claude_code:
        from claudetop.sources.claude_code import ClaudeCodeSource

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


def _sink_source(target: Path | str, checkpoints: CheckpointStore | None, start_at_end: bool) -> Source:
    from claudetop.sinks import is_postgres_target

    if is_postgres_target(target):
        from claudetop.sources.postgres import PostgresSource

        return PostgresSource(str(target))
    path = Path(target).expanduser()
    if path.suffix == ".jsonl":
        from claudetop.sources.jsonl import JsonlSource

        return JsonlSource([path], checkpoints=checkpoints, start_at_end=start_at_end)
    from claudetop.sources.sink import SinkSource

    return SinkSource(path, checkpoints=checkpoints, start_at_end=start_at_end)


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
