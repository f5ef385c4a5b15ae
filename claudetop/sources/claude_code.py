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
prices incl. Anthropic's long-context rule) and ignores a ``costUSD`` field; ``speed: "fast"`` is not
priced as fast mode. A duplicate that arrives after its message was emitted (e.g. a sidechain
replay written minutes later) cannot retract the emitted event: it is counted in ``late_duplicates``.
Within one poll — and so in any one-shot read — the result is exact.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claudetop.model import UsageEvent
from claudetop.pricing import PriceBook, default_pricebook
from claudetop.sources.checkpoints import CheckpointStore
from claudetop.sources.jsonl import GarbageLog, LineFollower
from claudetop.sources.progress import Progress
from claudetop.sources.types import SourceDelta, SourceHealth

SOURCE_NAME = "claude_code"
USAGE_MARKER = b'"usage":{'
_NULL_FIELD = re.compile(
    rb'"(?:id|cwd|model|speed|costUSD|version|sessionId|requestId|isApiErrorMessage|'
    rb'cache_read_input_tokens|cache_creation_input_tokens)":null'
)
_SEMVER_PREFIX = re.compile(r"^\d+\.\d+\.\d")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?(?:Z|[+-]\d\d:\d\d)$")
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


class NotJson(ValueError):
    """A transcript line that looked like usage but is not JSON: counted as garbage."""


def _parse_ts(text: object) -> datetime | None:
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        return None
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        return None
    return ts.astimezone(UTC) if ts.tzinfo is not None else None


def _uint(value: object) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _line_number(path: str, offset: int) -> int:
    """1-based number of the line starting at byte ``offset`` (only needed to report garbage)."""
    with open(path, "rb") as handle:
        return handle.read(offset).count(b"\n") + 1


@dataclass
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

    @property
    def total(self) -> int:
        writes = self.cache_write_5m + self.cache_write_1h
        return self.input_tokens + self.output_tokens + writes + self.cache_read

    def to_json(self) -> list[Any]:
        return [
            self.event_id, self.message_id, self.request_id, int(self.sidechain), self.ts, self.model,
            self.project, self.session, self.input_tokens, self.output_tokens, self.cache_write_5m,
            self.cache_write_1h, self.cache_read, self.file_key, int(self.emitted),
        ]  # fmt: skip

    @classmethod
    def from_json(cls, item: list[Any]) -> Entry:
        return cls(
            item[0], item[1], item[2], bool(item[3]), item[4], item[5], item[6], item[7],
            item[8], item[9], item[10], item[11], item[12], item[13], bool(item[14]),
        )  # fmt: skip


def parse_line(line: bytes, project: str, file_key: str, fallback_id: str) -> Entry | None:
    """The usage entry a transcript line carries, or None when ccusage's rules would skip it.

    Raises ``NotJson`` for a line with the usage marker that does not parse at all.
    """
    if USAGE_MARKER not in line:
        return None
    data = _skim(line)
    if data is _SKIPPED:
        return None
    if data is None:
        if b":null" in line and _NULL_FIELD.search(line):
            return None
        try:
            data = json.loads(line)
        except ValueError as err:
            raise NotJson(str(err)) from None
    if not isinstance(data, dict):
        return None
    found = _direct(data) or _agent_progress(data)
    if found is None:
        return None
    outer, message, usage = found
    ts = _parse_ts(outer.get("timestamp"))
    if ts is None:
        return None
    version, session = outer.get("version"), outer.get("sessionId")
    request_id, sidechain = outer.get("requestId"), outer.get("isSidechain")
    message_id, model = message.get("id"), message.get("model")
    for value in (version, session, request_id, message_id, model):
        if value is not None and (not isinstance(value, str) or value == ""):
            return None
    if version is not None and not _SEMVER_PREFIX.match(version):
        return None
    if sidechain is not None and not isinstance(sidechain, bool):
        return None
    cost_usd = outer.get("costUSD")
    if cost_usd is not None and (isinstance(cost_usd, bool) or not isinstance(cost_usd, int | float)):
        return None
    if usage.get("speed") not in (None, "standard", "fast"):
        return None
    breakdown = usage.get("cache_creation")
    if isinstance(breakdown, dict):
        write_5m = _uint(breakdown.get("ephemeral_5m_input_tokens", 0))
        write_1h = _uint(breakdown.get("ephemeral_1h_input_tokens", 0))
    else:
        write_5m, write_1h = _uint(usage.get("cache_creation_input_tokens", 0)), 0
    read = _uint(usage.get("cache_read_input_tokens", 0))
    if write_5m is None or write_1h is None or read is None:
        return None
    if message_id is not None:
        event_id = f"cc:{message_id}:{request_id or ''}"[:200]
    else:
        uuid = outer.get("uuid")
        event_id = f"cc:{uuid}" if isinstance(uuid, str) and uuid else fallback_id
    return Entry(
        event_id=event_id,
        message_id=message_id,
        request_id=request_id,
        sidechain=sidechain is True,
        ts=ts.isoformat(),
        model=model,
        project=project,
        session=session,
        input_tokens=usage["input_tokens"],
        output_tokens=usage["output_tokens"],
        cache_write_5m=write_5m,
        cache_write_1h=write_1h,
        cache_read=read,
        file_key=file_key,
    )


_MESSAGE_KEY = b'"message":{'
_CONTENT_KEY = b'"content":'
_DECODER = json.JSONDecoder()


_SKIPPED: dict[str, Any] = {}


def _skim(line: bytes) -> dict[str, Any] | None:
    """The line as ``json.loads`` would give it, minus ``message.content``, without decoding the content.

    Assistant lines are mostly content (text, thinking, tool input): parsing only the top-level
    fields, the message's leading fields and ``usage`` is several times faster. Works on the layout
    Claude Code writes (``{...,"message":{"id",...,"model",...,"content":[...],...,"usage":{...}},...}``);
    anything else returns None and the caller parses the whole line. ``_SKIPPED`` when an identity
    field outside the content is ``null`` (ccusage skips such lines; it also looks inside the content,
    where a ``"model":null`` in some tool input would make it drop the line and us keep it).
    """
    start = line.find(_MESSAGE_KEY)
    content = line.find(_CONTENT_KEY, start)
    usage_at = line.rfind(USAGE_MARKER)
    if start < 0 or content < 0 or usage_at < content:
        return None
    if _NULL_FIELD.search(line, 0, content) or _NULL_FIELD.search(line, usage_at):
        return _SKIPPED
    try:
        head = json.loads(line[:start] + b'"_":0}') if start > 1 else {}
        message = json.loads(line[start + 10 : content] + b'"_":0}')
        text = line[usage_at + 8 :].decode()
        usage, end = _DECODER.raw_decode(text)
        if text[end] != "}":
            return None
        tail = text[end + 1 :]
        if tail.startswith(","):
            rest = json.loads("{" + tail[1:])
        elif tail.rstrip() == "}":
            rest = {}
        else:
            return None
    except (ValueError, IndexError):
        return None
    if not isinstance(head, dict) or not isinstance(message, dict) or not isinstance(rest, dict):
        return None
    if "id" not in message or "model" not in message or "message" in head or "message" in rest:
        return None
    message["usage"] = usage
    head.update(rest)
    head["message"] = message
    return head


def _usage_of(message: object) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if not isinstance(message, dict):
        return None
    usage = message.get("usage")
    if not isinstance(usage, dict) or _uint(usage.get("input_tokens")) is None:
        return None
    if _uint(usage.get("output_tokens")) is None:
        return None
    return message, usage


def _direct(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    if not isinstance(data.get("timestamp"), str):
        return None
    found = _usage_of(data.get("message"))
    return None if found is None else (data, *found)


def _agent_progress(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]] | None:
    """A subagent's message echoed in the parent transcript: ``{"data": {"message": {...}}}``."""
    inner = data.get("data")
    inner = inner.get("message") if isinstance(inner, dict) else None
    if not isinstance(inner, dict) or not isinstance(inner.get("timestamp"), str):
        return None
    found = _usage_of(inner.get("message"))
    if found is None:
        return None
    outer = {k: inner.get(k) for k in ("timestamp", "requestId", "isSidechain", "uuid", "costUSD")}
    return outer, *found


class Deduper:
    """ccusage's rule for repeated messages: exact (message id, request id), or the same message id
    when either copy is a sidechain replay; the copy kept is the non-sidechain one, then the larger
    token total (then, on a tie, the more expensive one)."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._exact: dict[tuple[str, str | None], int] = {}
        self._by_message: dict[str, list[int]] = {}
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

    def add(self, entry: Entry, cost_of: Any) -> None:
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
    return bool((cost_of(candidate) or 0) > (cost_of(existing) or 0))


class ClaudeCodeSource:
    """Incremental reader of Claude Code transcripts; see the module docstring for the counting rules.

    ``settle_s``: a message is emitted once its file has been quiet that long (streaming lines of
    one reply arrive within moments), so the kept usage is the final one. A file older than that
    at the first read is emitted in the same poll. ``replay``: after a restart from a checkpoint,
    yield the already-read history again (from the checkpoint, without re-parsing) so a fresh
    monitor or report still sees everything; ``start_at_end`` instead skips existing history.
    """

    kind = "claude_code"

    def __init__(
        self,
        dirs: Sequence[Path | str] | None = None,
        *,
        checkpoints: CheckpointStore | None = None,
        pricebook: PriceBook | None = None,
        settle_s: float = 2.0,
        replay: bool = True,
        start_at_end: bool = False,
    ) -> None:
        self.dirs = [Path(d).expanduser().absolute() for d in (config_dirs() if dirs is None else dirs)]
        self.roots = projects_roots(self.dirs)
        self.name = "claude-code:" + ",".join(str(d) for d in self.dirs)
        self.follower = LineFollower(self.roots, recursive=True, follow_rotated=False, count_lines=False)
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
        self._cost_cache: dict[str, int | None] = {}
        self._replay = False
        if checkpoints is not None:
            saved = checkpoints.load(self.kind, self._identity)
            if saved is not None:
                self._restore(saved)
                self._replay = replay
        if start_at_end:
            self.follower.start_at_end()
            self._replay = False
            for entry in self.dedupe.entries:
                entry.emitted = True

    # --- reading ---------------------------------------------------------------------------

    def _root_of(self, path: str) -> str:
        for root in self.roots:
            if path.startswith(str(root) + os.sep):
                return str(root)
        return str(Path(path).parent)

    def poll(self) -> SourceDelta:
        stats = self.follower.stat_all()
        self.progress.plan(self.progress.snapshot().done + self.follower.pending_bytes(stats), len(stats))
        now = time.time()
        quiet_files = {f"{st.st_dev}:{st.st_ino}" for _p, st in stats if now - st.st_mtime >= self.settle_s}
        project_cache: dict[str, str] = {}
        cost_of = self._cost_of_entry
        add = self.dedupe.add
        for chunk in self.follower.read(stats, self.progress):
            state = chunk.state
            project = project_cache.get(state.path)
            if project is None:
                project = project_cache[state.path] = _project_of(state.path, self._root_of(state.path))
            data = chunk.data
            pos = data.find(USAGE_MARKER)
            while pos >= 0:
                start = data.rfind(b"\n", 0, pos) + 1
                end = data.find(b"\n", pos)
                offset = chunk.offset + start
                try:
                    entry = parse_line(data[start:end], project, state.key, f"cc:{state.path}:@{offset}")
                except NotJson as err:
                    self.garbage.add(state.path, _line_number(state.path, offset), str(err)[:120])
                    entry = None
                if entry is not None:
                    add(entry, cost_of)
                pos = data.find(USAGE_MARKER, end)
            self._dirty = True
        delta = SourceDelta()
        for entry in self.dedupe.entries:
            if entry.emitted:
                if self._replay:
                    delta.events.append(self._event(entry))
                continue
            if self.settle_s <= 0 or entry.file_key in quiet_files:
                entry.emitted = True
                delta.events.append(self._event(entry))
        self._replay = False
        self.events_read += len(delta.events)
        due = time.monotonic() - self._last_save >= CHECKPOINT_EVERY_S
        if self._checkpoints is not None and (self._dirty or delta.events) and due:
            self.save_checkpoint()
        return delta

    def _base_event(self, entry: Entry) -> UsageEvent:
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
        )

    def _cost_of_entry(self, entry: Entry) -> int | None:
        return self._pricebook.cost(self._base_event(entry)) if entry.model else None

    def _event(self, entry: Entry) -> UsageEvent:
        event = self._base_event(entry)
        cost = self._pricebook.cost(event) if entry.model else None
        return event.model_copy(update={"cost_micros": cost}) if cost is not None else event

    # --- checkpoints -----------------------------------------------------------------------

    def save_checkpoint(self) -> None:
        """Persist file offsets and every counted message (its usage and whether it was emitted)."""
        if self._checkpoints is None:
            return
        self._checkpoints.save(
            self.kind,
            self._identity,
            {
                "files": self.follower.checkpoint(),
                "entries": [e.to_json() for e in self.dedupe.entries],
            },
        )
        self._last_save = time.monotonic()
        self._dirty = False

    def _restore(self, saved: dict[str, Any]) -> None:
        self.follower.restore(saved.get("files", {}))
        for item in saved.get("entries", []):
            entry = Entry.from_json(item)
            emitted = entry.emitted
            entry.emitted = False
            self.dedupe.add(entry, self._cost_of_entry)
            entry.emitted = emitted

    def close(self) -> None:
        if self._dirty or self._checkpoints is not None:
            self.save_checkpoint()

    def health(self) -> SourceHealth:
        ok = bool(self.roots) and any(r.is_dir() for r in self.roots)
        message = None if ok else "no Claude Code projects directory found"
        if self.dedupe.late_duplicates:
            message = f"{self.dedupe.late_duplicates} late duplicate messages ignored"
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
