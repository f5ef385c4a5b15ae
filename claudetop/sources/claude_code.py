"""Claude Code transcripts (``<config>/projects/**/*.jsonl``) as usage events, priced at API rates.

Claude Code writes one JSON line per content block while a reply streams, each repeating the
message's ``usage``; subagent work is also echoed into the parent transcript as ``progress`` lines
(``data.message``), and ``/btw`` side questions replay parent messages under a new request id. So
each API message is counted once, keyed on ``message.id`` + ``requestId``, keeping the usage with
the largest token total (a non-sidechain copy beats a sidechain replay of the same message).

The rules follow ccusage (read from its source, v20 Rust rewrite, ``adapter/claude``) so that
token totals agree exactly:

- discovery: ``$CLAUDE_CONFIG_DIR`` (comma-separated; each a config dir or its ``projects`` dir)
  replaces the defaults ``$XDG_CONFIG_HOME/claude`` (``~/.config/claude``) and ``~/.claude``;
  every ``*.jsonl`` under ``projects/`` recursively (``subagents/`` included);
- a line counts only if it contains ``"usage":{``, has no ``null`` in one of the identity fields,
  parses, has a parseable ``timestamp`` and integer ``input_tokens``/``output_tokens``, and its
  ``version`` (if any) starts like a semver and its ids/model (if any) are non-empty;
- cache writes: ``usage.cache_creation`` ephemeral 5m/1h split when present (its sum is then the
  write total), else all of ``cache_creation_input_tokens`` as 5m writes;
- lines without a ``message.id`` are never deduplicated.

Deliberate differences: cost is always computed from tokens with claudetop's price book (API list
prices incl. Anthropic's long-context rule, fast mode at fast-mode rates, the US-only inference
premium and web-search fees) and ignores a ``costUSD`` field. A duplicate that arrives after its
message was emitted in this process (e.g. a sidechain replay written minutes later) cannot retract
the emitted event: it is counted in ``late_duplicates``. Within one poll, and so in any one-shot
read, and across restarts (a restarted reader hands its history out again), the result is exact.

The checkpoint keeps every counted message, for deduplicating what is read next, and a summary of
them (``fold_of``: sums per model and minute or hour, and the last days' messages one by one), which
``take_history`` hands to a one-shot reader without restoring a single message when no transcript has
grown since. Messages of a transcript deleted after it was read stay counted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from claudetop._version import __version__
from claudetop.pricing import PriceBook, default_pricebook
from claudetop.sources.checkpoints import CheckpointStore, Saved
from claudetop.sources.claude_code_scan import Record, scan_spans, split_file, workers_for
from claudetop.sources.follow import (
    Chunk,
    FileState,
    GarbageLog,
    LineFollower,
    count_newlines,
    unreadable_message,
)
from claudetop.sources.history import History
from claudetop.sources.progress import Progress
from claudetop.sources.types import SourceDelta, SourceHealth

if TYPE_CHECKING:
    from claudetop.model import UsageEvent

SOURCE_NAME = "claude_code"

_ENTRIES_FORMAT = 4
"""Bumped when ``Entry.to_json`` or ``fold_of``'s summary changes; an older checkpoint is not restored
(the files are read again).
A checkpoint written by another claudetop version is not restored either: which lines count, and how,
may have changed with it."""

CHECKPOINT_EVERY_S = 30.0


def config_dirs(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """The Claude Code config directories that hold a ``projects/`` directory, as ccusage finds them."""
    environ = os.environ if env is None else env
    home = Path.home() if home is None else home
    seen: list[Path] = []

    def add(path: Path) -> None:
        if (path / "projects").is_dir() and path not in seen:
            seen.append(path)

    raw = environ.get("CLAUDE_CONFIG_DIR")
    if raw is not None:
        for part in (p.strip() for p in raw.split(",")):
            if not part:
                continue
            path = home / part[2:] if part.startswith("~/") else home if part == "~" else Path(part)
            add(path.parent if path.name == "projects" and path.is_dir() else path)
        return seen
    xdg = environ.get("XDG_CONFIG_HOME")
    add((Path(xdg) if xdg else home / ".config") / "claude")
    add(home / ".claude")
    return seen


def projects_roots(dirs: Sequence[Path | str]) -> list[Path]:
    """``projects/`` under each given dir; a dir that is itself a ``projects`` dir (or has none) as is."""
    roots = []
    for d in dirs:
        path = Path(d).expanduser().absolute()
        roots.append(path / "projects" if (path / "projects").is_dir() else path)
    return roots


def _project_of(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)
    first = rel.split(os.sep, 1)[0]
    return first if os.sep in rel and first.strip() else "unknown"


@dataclass(slots=True)
class Entry:
    """One counted message (or a line without message id), before it becomes a ``UsageEvent``."""

    event_id: str
    message_id: str | None
    request_id: str | None
    sidechain: bool
    ts: str
    model: str | None
    project: str
    session: str | None
    input_tokens: int
    output_tokens: int
    cache_write_5m: int
    cache_write_1h: int
    cache_read: int
    file_key: str
    emitted: bool = False
    """Handed out by this process: a larger copy arriving later is a late duplicate. Not saved in a
    checkpoint: a restarted reader delivers its history again, so a reply still streaming when the
    checkpoint was written gets its final usage (no consumer kept the earlier one)."""
    cost_micros: int | None = None
    priced: bool = False
    """Whether ``cost_micros`` holds the price of the usage above (set by ``ClaudeCodeSource``)."""
    fast: bool = False
    """Fast mode (``speed: "fast"``): the same tokens cost more."""
    web_searches: int = 0
    """Server-side web searches, billed per search on top of the tokens."""
    us_geo: bool = False
    """US-only inference (``inference_geo: "us"``), billed at a premium on the models that offer it."""

    @property
    def total(self) -> int:
        writes = self.cache_write_5m + self.cache_write_1h
        return self.input_tokens + self.output_tokens + writes + self.cache_read

    def to_json(self) -> list[Any]:
        return [
            self.event_id, self.message_id, self.request_id, int(self.sidechain), self.ts, self.model,
            self.project, self.session, self.input_tokens, self.output_tokens, self.cache_write_5m,
            self.cache_write_1h, self.cache_read, self.file_key, self.cost_micros if self.priced else False,
            int(self.fast), self.web_searches, int(self.us_geo),
        ]  # fmt: skip

    @classmethod
    def from_record(cls, r: Record, project: str, file_key: str) -> Entry:
        return cls(
            r[0], r[1], r[2], r[3], r[4], r[5], project, r[6], r[7], r[8], r[9], r[10], r[11], file_key,
            fast=r[12], web_searches=r[13], us_geo=r[14],
        )  # fmt: skip

    def same_usage(self, other: Entry) -> bool:
        return (
            self.model == other.model
            and self.input_tokens == other.input_tokens
            and self.output_tokens == other.output_tokens
            and self.cache_write_5m == other.cache_write_5m
            and self.cache_write_1h == other.cache_write_1h
            and self.cache_read == other.cache_read
            and self.fast == other.fast
            and self.web_searches == other.web_searches
            and self.us_geo == other.us_geo
        )

    def same_record_usage(self, r: Record) -> bool:
        """``same_usage`` with the entry ``r`` would become."""
        return (
            self.model == r[5]
            and self.input_tokens == r[7]
            and self.output_tokens == r[8]
            and self.cache_write_5m == r[9]
            and self.cache_write_1h == r[10]
            and self.cache_read == r[11]
            and self.fast == r[12]
            and self.web_searches == r[13]
            and self.us_geo == r[14]
        )

    def take_usage(self, r: Record, project: str, file_key: str) -> None:
        """Become the copy ``r`` of this same message (on the same side), keeping the event id: an
        in-place update, as the replaced copy was never handed out (it is not yet emitted)."""
        self.message_id, self.request_id = r[1], r[2]
        self.ts, self.model, self.project, self.session, self.file_key = r[4], r[5], project, r[6], file_key
        self.input_tokens, self.output_tokens, self.cache_write_5m = r[7], r[8], r[9]
        self.cache_write_1h, self.cache_read, self.fast = r[10], r[11], r[12]
        self.web_searches, self.us_geo = r[13], r[14]
        self.priced = False

    @classmethod
    def from_json(cls, item: list[Any]) -> Entry:
        """The entry ``to_json`` wrote; its price is kept (``false``: not priced yet, or a checkpoint
        from before prices were saved)."""
        cost = item[14]
        priced = cost is not False
        return cls(
            item[0], item[1], item[2], bool(item[3]), item[4], item[5], item[6], item[7],
            item[8], item[9], item[10], item[11], item[12], item[13], False,
            cost if priced else None, priced, bool(item[15]), item[16], bool(item[17]),
        )  # fmt: skip


class Deduper:
    """ccusage's rule for repeated messages: exact (message id, request id), or the same message id
    when either copy is a sidechain replay; the copy kept is the non-sidechain one, then the larger
    token total (then, on a tie, the more expensive one)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._exact: dict[tuple[str, str | None], int] = {}
        self._by_message: dict[str, list[int]] = {}
        self._unindexed: tuple[int, int] | None = None
        """Restored entries not yet in the indexes: built when a record first comes in, so a rerun
        that finds nothing new never builds them."""
        self.duplicates = 0
        self.late_duplicates = 0

    def _find(self, entry: Entry) -> int | None:
        assert entry.message_id is not None
        index = self._exact.get((entry.message_id, entry.request_id))
        if index is not None:
            return index
        for candidate in self._by_message.get(entry.message_id, ()):
            if entry.sidechain or self.entries[candidate].sidechain:
                return candidate
        return None

    def restore(self, entries: Iterable[Entry]) -> None:
        """Take back entries this deduper had kept (a checkpoint), in their order.

        Re-adding them one by one would match none of them against another (a kept entry matched
        nothing when it was added, and a later replacement only ever turns a sidechain copy into a
        non-sidechain one, which matches less), so the indexes are rebuilt directly (on first use).
        """
        self._index_restored()
        start = len(self.entries)
        self.entries.extend(entries)
        self._unindexed = (start, len(self.entries))

    def _index_restored(self) -> None:
        if self._unindexed is None:
            return
        start, end = self._unindexed
        self._unindexed = None
        exact, by_message = self._exact, self._by_message
        for index in range(start, end):
            entry = self.entries[index]
            if entry.message_id is not None:
                exact.setdefault((entry.message_id, entry.request_id), index)
                by_message.setdefault(entry.message_id, []).append(index)

    def add_record(self, record: Record, project: str, file_key: str, cost_of: Any) -> None:
        """``add(Entry.from_record(...))`` with a shortcut for the common repeat, a streaming line of
        the same message and request on the same side: decided on its token total alone (no entry is
        built for a line that loses), unless the totals tie with different usage."""
        if self._unindexed is not None:
            self._index_restored()
        if record[1] is not None:
            index = self._exact.get((record[1], record[2]))
            if index is not None:
                existing = self.entries[index]
                if existing.sidechain == record[3]:
                    total = record[7] + record[8] + record[9] + record[10] + record[11]
                    kept = existing.total
                    if total < kept or (total == kept and existing.same_record_usage(record)):
                        self.duplicates += 1
                        return
                    if total > kept:
                        self.duplicates += 1
                        if existing.emitted:
                            self.late_duplicates += 1
                            return
                        existing.take_usage(record, project, file_key)
                        return
        self.add(Entry.from_record(record, project, file_key), cost_of)

    def add(self, entry: Entry, cost_of: Any) -> None:
        self._index_restored()
        if entry.message_id is None:
            self.entries.append(entry)
            return
        index = self._find(entry)
        if index is None:
            index = len(self.entries)
            self.entries.append(entry)
            self._exact.setdefault((entry.message_id, entry.request_id), index)
            self._by_message.setdefault(entry.message_id, []).append(index)
            return
        self.duplicates += 1
        existing = self.entries[index]
        if not _replaces(entry, existing, cost_of):
            return
        if existing.emitted:
            self.late_duplicates += 1
            return
        entry.event_id = existing.event_id
        self.entries[index] = entry


def _replaces(candidate: Entry, existing: Entry, cost_of: Any) -> bool:
    if candidate.sidechain != existing.sidechain:
        return existing.sidechain
    if candidate.total != existing.total:
        return candidate.total > existing.total
    if candidate.same_usage(existing):
        return False
    return bool((cost_of(candidate) or 0) > (cost_of(existing) or 0))


def fold_of(
    entries: Iterable[Entry],
    cost_of: Callable[[Entry], int | None],
    minute_span_s: float,
    detail_span_s: float,
) -> dict[str, Any]:
    """The counted messages summed per model and time bucket, as a checkpoint keeps them: minute buckets
    for the ``minute_span_s`` before the newest message, hours before, and the messages of the last
    ``detail_span_s`` one by one (``history_from_fold`` turns it into a ``History``). Sorted, so the same
    messages in any order give the same summary."""
    rows = []
    for e in entries:
        try:
            rows.append((datetime.fromisoformat(e.ts).timestamp(), e))
        except ValueError:
            continue  # the scan keeps ISO 8601 timestamps only; this is a damaged checkpoint's entry
    fold: dict[str, Any] = {"spans": [minute_span_s, detail_span_s], "events": len(rows)}
    fold.update(oldest=None, newest=None, minute_since=None, buckets=[], detail=[])
    if not rows:
        return fold
    newest = max(epoch for epoch, _e in rows)
    minute_since = ((newest - minute_span_s) // 60) * 60
    fold.update(oldest=min(epoch for epoch, _e in rows), newest=newest, minute_since=minute_since)
    sums: dict[tuple[float, bool, str | None], list[int]] = {}
    detail = []
    for epoch, e in rows:
        cost = cost_of(e)
        minute = epoch >= minute_since
        key = (epoch // 60 * 60 if minute else epoch // 3600 * 3600, minute, e.model)
        total = sums.get(key)
        if total is None:
            total = sums[key] = [0] * 8
        total[0] += 1
        total[1] += e.input_tokens
        total[2] += e.output_tokens
        total[3] += e.cache_write_5m
        total[4] += e.cache_write_1h
        total[5] += e.cache_read
        if cost is None:
            total[7] += 1
        else:
            total[6] += cost
        if epoch >= newest - detail_span_s:
            detail.append((epoch, e, cost))
    fold["buckets"] = [
        [start, minute, model, *total]
        for (start, minute, model), total in sorted(sums.items(), key=lambda kv: (*kv[0][:2], str(kv[0][2])))
    ]
    detail.sort(key=lambda row: (row[0], row[1].event_id))
    fold["detail"] = [
        [e.event_id, e.ts, e.model, e.input_tokens, e.output_tokens, e.cache_write_5m, e.cache_write_1h,
         e.cache_read, cost]
        for _epoch, e, cost in detail
    ]  # fmt: skip
    return fold


def history_from_fold(fold: Mapping[str, Any]) -> History:
    """``fold_of``'s summary as the ``History`` a sink's SQL would give for the same messages."""
    return History(
        events=fold["events"],
        oldest=fold["oldest"],
        newest=fold["newest"],
        minute_since=fold["minute_since"],
        buckets=[
            (start, minute, model, None, None, None, None, "messages", None, n, 0, 0, i, o, w5, w1, rd, cost,
             unpriced, 0, 0)
            for start, minute, model, n, i, o, w5, w1, rd, cost, unpriced in fold["buckets"]
        ],
        detail=[
            (eid, ts, model, None, None, None, None, "messages", None, 0, None, None, 0, i, o, w5, w1, rd,
             cost, None, None, None, None, None)
            for eid, ts, model, i, o, w5, w1, rd, cost in fold["detail"]
        ],
    )  # fmt: skip


def _from_saved(fold: Mapping[str, Any] | None) -> History | None:
    """``history_from_fold`` of a checkpoint's summary; ``None`` for none, or one not of this shape."""
    if fold is None:
        return None
    try:
        return history_from_fold(fold)
    except (KeyError, TypeError, ValueError):
        return None


class _SpanFollower(LineFollower):
    """``LineFollower``'s bookkeeping (new inodes, truncation, forgotten files) without its reading:
    the ranges still to read are collected for ``scan_spans``, which reads them in worker processes.
    The caller moves each ``FileState.offset`` forward to where the complete lines it read end."""

    def pending_spans(
        self, stats: list[tuple[str, os.stat_result]], progress: Progress | None
    ) -> list[FileState]:
        self._pending: list[FileState] = []
        for _chunk in self.read(stats, progress):
            raise AssertionError("_SpanFollower reads nothing itself")
        return self._pending

    def _read_file(
        self, state: FileState, size: int, progress: Progress | None
    ) -> Generator[Chunk, None, bool]:
        self._pending.append(state)
        yield from ()
        return False  # read later, by scan_spans; ClaudeCodeSource marks what it consumed


class ClaudeCodeSource:
    """Incremental reader of Claude Code transcripts; see the module docstring for the counting rules.

    ``settle_s``: a message is emitted once its file has been quiet that long (streaming lines of
    one reply arrive within moments), so the kept usage is the final one. A file older than that
    at the first read is emitted in the same poll. After a restart from a checkpoint the history
    already read is yielded again (from the checkpoint, without re-parsing) so a fresh monitor or
    report still sees everything; ``start_at_end`` instead skips existing history.
    """

    kind = "claude_code"

    def __init__(
        self,
        dirs: Sequence[Path | str] | None = None,
        *,
        checkpoints: CheckpointStore | None = None,
        pricebook: PriceBook | None = None,
        settle_s: float = 2.0,
        start_at_end: bool = False,
    ) -> None:
        self.dirs = [Path(d).expanduser().absolute() for d in (config_dirs() if dirs is None else dirs)]
        self.roots = projects_roots(self.dirs)
        self.name = "claude-code:" + ",".join(str(d) for d in self.dirs)
        self.follower = _SpanFollower(self.roots, recursive=True, follow_rotated=False, count_lines=False)
        self.progress = Progress("bytes")
        self.garbage = GarbageLog()
        self.dedupe = Deduper()
        self.events_read = 0
        self.settle_s = settle_s
        self._pricebook = pricebook if pricebook is not None else default_pricebook()
        self._checkpoints = checkpoints
        self._identity = "\n".join(str(r) for r in self.roots)
        self._last_save = 0.0
        self._dirty = False
        self._days: dict[str, date] = {}
        self._priced_upto = 0
        self._unloaded: Saved | None = None
        """The checkpoint whose counted messages are not restored yet: only a read that finds new lines
        needs them (for deduplication), so a rerun over an unchanged history never parses them."""
        self._fold: dict[str, Any] | None = None
        """The history the checkpoint summarised (``take_history``), while it still holds."""
        self._restored_emitted = False
        """Whether restored messages count as handed out (``start_at_end``, or a history was taken)."""
        if checkpoints is not None:
            saved = checkpoints.load(self.kind, self._identity)
            if (
                saved is not None
                and saved.state.get("entries_format") == _ENTRIES_FORMAT
                and saved.state.get("reader") == __version__
            ):
                self._restore_head(saved)
        if start_at_end:
            self._restored_emitted = True
            self._load_entries()
            self.follower.start_at_end()

    # --- reading ---------------------------------------------------------------------------

    def _root_of(self, path: str) -> str:
        for root in self.roots:
            if path.startswith(str(root) + os.sep):
                return str(root)
        return str(Path(path).parent)

    def poll(self) -> SourceDelta:
        return SourceDelta(events=[self._event(entry) for entry in self._take()])

    def _take(self) -> list[Entry]:
        """Read what is new and mark the entries to deliver now as emitted (see ``settle_s``): those
        whose file has been quiet long enough, or is gone."""
        stats, pending = self._pending()
        if self._unloaded is not None and not pending and self._restored_emitted:
            self.progress.finish()
            return []
        stats, pending = self._with_entries(stats, pending)
        recent = time.time() - self.settle_s if self.settle_s > 0 else float("inf")
        busy_files = {f"{st.st_dev}:{st.st_ino}" for _p, st in stats if st.st_mtime > recent}
        self._read_new(pending)
        out: list[Entry] = []
        for entry in self.dedupe.entries:
            if not entry.emitted and entry.file_key not in busy_files:
                entry.emitted = True
                out.append(entry)
        self.events_read += len(out)
        self.progress.finish()
        due = time.monotonic() - self._last_save >= CHECKPOINT_EVERY_S
        if self._checkpoints is not None and self._dirty and due:
            self.save_checkpoint()
        return out

    def take_history(self, *, minute_span_s: float, detail_span_s: float) -> History | None:
        """Read every transcript to its end and hand everything counted so far over at once, aggregated
        (``Aggregator.add_history``): minute buckets for the ``minute_span_s`` before the newest message,
        hours before that, and detail rows for the last ``detail_span_s``. Later polls yield only what
        comes after; ``None`` once messages were handed out (by a poll or an earlier history).

        For one-shot readers (``claudetop report``): messages still streaming are taken as they stand.
        When nothing was added since the checkpoint, its saved history is returned without restoring a
        single message."""
        if self.events_read != 0 or self._restored_emitted:
            return None
        stats, pending = self._pending()
        fold = self._fold if not pending else None
        if fold is not None and fold.get("spans") != [minute_span_s, detail_span_s]:
            fold = None
        history = _from_saved(fold)
        if history is None:
            stats, pending = self._with_entries(stats, pending)
            self._read_new(pending)
            self._fold = fold_of(self.dedupe.entries, self._cost_of_entry, minute_span_s, detail_span_s)
            self._dirty = True
            history = history_from_fold(self._fold)
        self._restored_emitted = True
        for entry in self.dedupe.entries:
            entry.emitted = True
        self.events_read += history.events
        self.progress.finish()
        if self._dirty:
            self.save_checkpoint()
        return history

    def _pending(self) -> tuple[list[tuple[str, os.stat_result]], list[FileState]]:
        """Every transcript's stat, and the files with bytes not read yet (``_read_new`` reads them)."""
        stats = self.follower.stat_all()
        self.progress.plan(self.progress.snapshot().done + self.follower.pending_bytes(stats), len(stats))
        return stats, self.follower.pending_spans(stats, self.progress)

    def _with_entries(
        self, stats: list[tuple[str, os.stat_result]], pending: list[FileState]
    ) -> tuple[list[tuple[str, os.stat_result]], list[FileState]]:
        """``(stats, pending)`` once the checkpoint's messages are restored: the same, or, when they could
        not be (a damaged checkpoint), what is left to read after reading again."""
        if self._unloaded is None or self._load_entries():
            return stats, pending
        return self._pending()

    def _read_new(self, pending: list[FileState]) -> None:
        if not pending:
            return
        spans = [
            span for s in pending for span in split_file(s.path, s.dev, s.ino, s.offset, s.size)
        ]  # fmt: skip
        states = {(s.dev, s.ino): s for s in pending}
        workers = workers_for(sum(s.size - s.offset for s in pending))
        project_cache: dict[str, str] = {}
        cost_of = self._cost_of_entry
        add = self.dedupe.add_record
        unfinished: set[tuple[int, int]] = set()
        for result in scan_spans(spans, workers):
            span = result.span
            state = states[(span.dev, span.ino)]
            if result.unreadable is not None or not result.same_file:
                unfinished.add((span.dev, span.ino))
            if result.unreadable is not None:
                self.follower.unreadable[span.path] = result.unreadable
                continue
            self.follower.unreadable.pop(span.path, None)
            if not result.same_file:
                continue
            project = project_cache.get(span.path)
            if project is None:
                project = project_cache[span.path] = _project_of(span.path, self._root_of(span.path))
            key = state.key
            for record in result.records:
                add(record, project, key, cost_of)
            if result.garbage:
                first = 1 + count_newlines(span.path, 0, span.start)
                for _offset, line, reason in result.garbage:
                    self.garbage.add(span.path, first + line, reason)
            if state.offset == span.start:
                self.progress.advance(result.consumed - state.offset)
                state.offset = result.consumed
            self._dirty = True
            self._fold = None
            self._price_new()
        for (dev, ino), state in states.items():
            if (dev, ino) not in unfinished:
                state.consumed()

    def _price_new(self) -> None:
        """Price the entries added since the last call, while the workers still scan: a message's
        lines are adjacent in its file, so an entry is rarely replaced afterwards (a replacement is
        priced again when it is delivered)."""
        entries = self.dedupe.entries
        for entry in entries[self._priced_upto :]:
            self._cost_of_entry(entry)
        self._priced_upto = len(entries)

    def _event(self, entry: Entry) -> UsageEvent:
        from claudetop.model import UsageEvent  # pydantic: loaded by the readers that build events

        return UsageEvent(
            id=entry.event_id,
            ts=datetime.fromisoformat(entry.ts),
            source=SOURCE_NAME,
            project=entry.project,
            session=entry.session,
            model=entry.model,
            input_tokens=entry.input_tokens,
            output_tokens=entry.output_tokens,
            cache_write_5m_tokens=entry.cache_write_5m,
            cache_write_1h_tokens=entry.cache_write_1h,
            cache_read_tokens=entry.cache_read,
            speed="fast" if entry.fast else None,
            web_search_requests=entry.web_searches,
            inference_geo="us" if entry.us_geo else None,
            cost_micros=self._cost_of_entry(entry),
        )

    def _cost_of_entry(self, entry: Entry) -> int | None:
        """The entry's API list price (standard tier; its UTC day picks the price period), remembered on
        the entry until a replacement changes its usage."""
        if entry.priced:
            return entry.cost_micros
        day_text = entry.ts[:10]
        day = self._days.get(day_text)
        if day is None:
            day = self._days[day_text] = date.fromisoformat(day_text)
        entry.priced = True
        entry.cost_micros = self._pricebook.message_cost(
            entry.model or None, day, entry.input_tokens, entry.output_tokens, entry.cache_write_5m,
            entry.cache_write_1h, entry.cache_read, fast=entry.fast, us_geo=entry.us_geo,
            web_searches=entry.web_searches,
        )  # fmt: skip
        return entry.cost_micros

    # --- checkpoints -----------------------------------------------------------------------

    def save_checkpoint(self) -> None:
        """Persist file offsets, the garbage lines counted and the history summary (the head), and every
        counted message with its usage and price (the body), so a rerun reports what a cold read reports."""
        if self._checkpoints is None or self._unloaded is not None:
            return  # nothing was read since the checkpoint was loaded: it is still the current state
        head = {
            "files": self.follower.checkpoint(),
            "entries_format": _ENTRIES_FORMAT,
            "reader": __version__,
            "prices": self._prices_key(),
            "garbage": {
                "count": self.garbage.count,
                "recent": list(self.garbage.recent),
                "last_at": None if self.garbage.last_at is None else self.garbage.last_at.isoformat(),
            },
            "fold": self._fold,
        }
        body = {"entries": [e.to_json() for e in self.dedupe.entries]}
        self._checkpoints.save(self.kind, self._identity, head, body)
        self._last_save = time.monotonic()
        self._dirty = False

    def _prices_key(self) -> str:
        """What saved prices are valid under: this price book (the claudetop version that wrote them is
        the checkpoint's ``reader``, checked before anything is restored)."""
        return self._pricebook.fingerprint

    def _restore_head(self, saved: Saved) -> None:
        """Take back file offsets and garbage lines counted; the saved history only if its prices came
        from a book that prices alike. The messages stay in the checkpoint until needed."""
        head = saved.state
        self.follower.restore(head.get("files", {}))
        garbage = head.get("garbage", {})
        self.garbage.count = int(garbage.get("count", 0))
        self.garbage.recent.extend(garbage.get("recent", []))
        if garbage.get("last_at"):
            self.garbage.last_at = datetime.fromisoformat(garbage["last_at"])
        fold = head.get("fold")
        if isinstance(fold, dict) and head.get("prices") == self._prices_key():
            self._fold = fold
        self._unloaded = saved

    def _load_entries(self) -> bool:
        """Restore the checkpoint's messages (saved prices only under an equal price book); ``False`` when
        they cannot be parsed (a damaged file), after reading again what the checkpoint had read
        (``_read_again``): slower, still exact."""
        saved, self._unloaded = self._unloaded, None
        if saved is None:
            return True
        body = saved.body()
        items = body.get("entries") if isinstance(body, dict) else None
        if not isinstance(items, list):
            self._read_again()
            return False
        entries = [Entry.from_json(item) for item in items]
        if saved.state.get("prices") != self._prices_key():
            for entry in entries:
                entry.priced = False
        if self._restored_emitted:
            for entry in entries:
                entry.emitted = True
        self.dedupe.restore(entries)
        return True

    def _read_again(self) -> None:
        """Forget the checkpoint's counts and read every transcript again from its start. If its history
        was handed out, the part it had read is read now, as handed out, so that later polls still
        yield only what is new."""
        self.garbage = GarbageLog()
        self._fold = None
        if not self._restored_emitted:
            self.follower.files.clear()
            return
        read = [state for state in self.follower.files.values() if state.offset]
        for state in read:
            state.size, state.offset = state.offset, 0
        self._read_new(read)
        for entry in self.dedupe.entries:
            entry.emitted = True

    def close(self) -> None:
        if self._dirty:
            self.save_checkpoint()

    def health(self) -> SourceHealth:
        ok = bool(self.roots) and any(r.is_dir() for r in self.roots)
        message = None if ok else "no Claude Code projects directory found"
        if self.dedupe.late_duplicates:
            message = f"{self.dedupe.late_duplicates} late duplicate messages ignored"
        unreadable = unreadable_message(self.follower.unreadable)
        if unreadable is not None:
            ok, message = False, unreadable
        return SourceHealth(
            name=self.name,
            ok=ok,
            message=message,
            events_read=self.events_read,
            garbage_lines=self.garbage.count,
            last_error_at=self.garbage.last_at,
        )


def read_claude_code(
    dirs: Sequence[Path | str] | None = None, *, checkpoints: CheckpointStore | None = None
) -> list[UsageEvent]:
    """Every counted message under ``dirs`` (default: the discovered config dirs), read to the end now."""
    source = ClaudeCodeSource(dirs, checkpoints=checkpoints, settle_s=0)
    events = source.poll().events
    source.close()
    return events
