"""Following line-oriented log files: byte offsets, partial lines, rotation, truncation, late files.

``LineFollower`` is the file mechanics shared by the JSONL and Claude Code sources. It tracks each
file by inode, not by name, so a rotation (``x.jsonl`` renamed to ``x.jsonl.1``, a new ``x.jsonl``
created) finishes the old inode under its new name before the new file is read. Only complete
lines are consumed: a partial last line stays unread until its newline arrives. A file that got
smaller than what was read was truncated and is read again from the start.

Each file also has a fingerprint of its first ``HEAD_BYTES``, checked whenever it has new bytes to
read. A different head on a known inode is another file (the inode of a deleted file is reused at
once): it is read from the start. A new inode whose head is that of a known file is a copy of it:
with ``follow_rotated``, that is a copy-truncate rotation (``x.jsonl`` copied to ``x.jsonl.1``,
then truncated), so the copy is read on from where the original got to, not again.

Reading is stat-based and synchronous, so report code can use it without any thread; ``Watcher``
adds a ``watchfiles`` thread whose only job is to wake a waiting monitor early. Lines a source
cannot use are counted in a ``GarbageLog``, reported as ``path:line``, and skipped.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from claudetop.sources.progress import Progress

CHUNK_BYTES = 16 * 1024 * 1024
FORGET_AFTER_MISSES = 3
HEAD_BYTES = 4096
"""How much of a file's start is its fingerprint: Claude Code transcripts of one project often share
their first ~100 bytes; 4 KiB normally holds the whole first line, with its unique ids."""
_ROTATED = re.compile(r"^(?P<base>.+)\.(?P<n>\d+)$")


@dataclass
class FileState:
    """What has been consumed of one inode: ``offset`` bytes, which end on a line boundary."""

    path: str
    dev: int
    ino: int
    offset: int = 0
    line: int = 0
    size: int = 0
    mtime_ns: int = 0
    """Size and modification time at the latest scan."""
    missed: int = 0
    """Consecutive reads that did not find this inode (a rename may hide it from one scan)."""
    head: tuple[int, str] | None = None
    """Fingerprint of the file's first bytes (how many, their hash); None until the file is read."""
    seen: tuple[int, int] | None = None
    """(size, mtime) when every complete line had been read: a file still so has nothing new, even if
    it ends in a line still unfinished (which is then not read again at every poll)."""

    @property
    def key(self) -> str:
        return f"{self.dev}:{self.ino}"

    def starts(self, head: bytes) -> bool:
        """Whether a file beginning with ``head`` begins as this one did when its fingerprint was taken."""
        return self.head is not None and _fingerprint(head[: self.head[0]]) == self.head

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "offset": self.offset, "line": self.line}
        if self.head is not None:
            out["head"] = list(self.head)
        if self.seen is not None:
            out["seen"] = list(self.seen)
        return out

    def consumed(self) -> None:
        """Every complete line up to the scanned size has been read."""
        self.seen = (self.size, self.mtime_ns)


@dataclass(frozen=True)
class Chunk:
    """Complete lines read from one file in one go; ``first_line`` is the 1-based number of the first."""

    state: FileState
    first_line: int
    """0 when the follower does not count lines."""
    data: bytes
    offset: int
    """Byte offset of ``data`` in the file."""

    def lines(self) -> Iterator[tuple[int, bytes]]:
        yield from enumerate(self.data.split(b"\n")[:-1], start=self.first_line)


def _rotation_rank(path: str) -> tuple[str, int]:
    """Sort key putting ``x.jsonl.3``, ``x.jsonl.2``, ``x.jsonl.1`` before ``x.jsonl`` (oldest first)."""
    head, name = os.path.split(path)
    match = _ROTATED.match(name)
    if match:
        return (os.path.join(head, match["base"]), -int(match["n"]))
    return (path, 0)


class LineFollower:
    """Reads the complete new lines of every file under ``roots``, remembering where it got to.

    A root that is a file is followed with its rotated siblings (``name.1``, ``name.2``...); a root
    that is a directory is searched for names ending in one of ``suffixes`` (recursively if asked),
    rotated siblings included. Roots that do not exist yet are looked for again at every poll.
    """

    def __init__(
        self,
        roots: Sequence[Path],
        *,
        suffixes: tuple[str, ...] = (".jsonl",),
        recursive: bool = False,
        follow_rotated: bool = True,
        count_lines: bool = True,
    ) -> None:
        self.roots = [Path(r).expanduser() for r in roots]
        self.suffixes = suffixes
        self.recursive = recursive
        self.follow_rotated = follow_rotated
        self.count_lines = count_lines
        self.files: dict[str, FileState] = {}
        self.truncations = 0
        self.unreadable: dict[str, str] = {}
        """Files that could not be opened at their last read, and why (gone ones are dropped)."""

    def _matches(self, name: str) -> bool:
        if name.endswith(self.suffixes):
            return True
        if not self.follow_rotated:
            return False
        match = _ROTATED.match(name)
        return match is not None and match["base"].endswith(self.suffixes)

    def _scan_dir(self, directory: str, found: list[str]) -> None:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if self.recursive:
                        self._scan_dir(entry.path, found)
                elif self._matches(entry.name):
                    found.append(entry.path)
            except OSError:
                continue

    def discover(self) -> list[str]:
        """Every file to follow right now, oldest rotation first, then by path.

        Paths stay strings: the monitor rediscovers every poll, and with thousands of transcripts
        building ``Path`` objects was most of that cost."""
        found: list[str] = []
        for root in self.roots:
            if root.is_dir():
                self._scan_dir(str(root), found)
            elif root.exists():
                found.append(str(root))
            if self.follow_rotated and not root.is_dir():
                try:
                    siblings = os.scandir(root.parent)
                except OSError:
                    continue
                prefix = root.name + "."
                found.extend(s.path for s in siblings if s.name.startswith(prefix) and _ROTATED.match(s.name))
        return sorted(set(found), key=_rotation_rank) if self.follow_rotated else sorted(set(found))

    def stat_all(self) -> list[tuple[str, os.stat_result]]:
        out = []
        for path in self.discover():
            try:
                out.append((path, os.stat(path)))
            except OSError:
                continue
        return out

    def pending_bytes(self, stats: list[tuple[str, os.stat_result]]) -> int:
        total = 0
        for _path, st in stats:
            state = self.files.get(f"{st.st_dev}:{st.st_ino}")
            offset = state.offset if state is not None and st.st_size >= state.offset else 0
            total += st.st_size - offset
        return total

    def start_at_end(self) -> None:
        """Skip everything already written (``tail -f`` semantics), up to the last complete line.

        Lines are still counted from the start of the file, so a later garbage line's ``path:line`` is
        right."""
        for path, st in self.stat_all():
            state = FileState(path, st.st_dev, st.st_ino)
            state.offset = _last_line_end(path, st.st_size)
            if self.count_lines:
                state.line = count_newlines(path, 0, state.offset)
            state.size = st.st_size
            self.files[state.key] = state

    def read(
        self, stats: list[tuple[str, os.stat_result]] | None = None, progress: Progress | None = None
    ) -> Iterator[Chunk]:
        """Yield the complete lines added since the last read, file by file, in chunks."""
        stats = self.stat_all() if stats is None else stats
        known = [s for s in self.files.values() if s.head is not None] if self.follow_rotated else []
        live: set[str] = set()
        if self.unreadable:
            present = {path for path, _st in stats}
            self.unreadable = {path: why for path, why in self.unreadable.items() if path in present}
        for path, st in stats:
            key = f"{st.st_dev}:{st.st_ino}"
            live.add(key)
            state = self.files.get(key)
            if state is None:
                state = self.files[key] = FileState(path, st.st_dev, st.st_ino)
            state.path = path
            state.missed = 0
            if st.st_size < state.offset:
                self.truncations += 1
                state.offset = 0
                state.line = 0
                state.head = None
            state.size, state.mtime_ns = st.st_size, st.st_mtime_ns
            if st.st_size > state.offset and state.seen != (st.st_size, st.st_mtime_ns):
                self._identify(state, known)
                if (yield from self._read_file(state, st.st_size, progress)):
                    state.consumed()
            if progress is not None:
                progress.advance(0, files=1)
        for key, state in list(self.files.items()):
            if key not in live:
                state.missed += 1
                if state.missed >= FORGET_AFTER_MISSES:
                    del self.files[key]

    def _identify(self, state: FileState, known: list[FileState]) -> None:
        """Check, before reading on from ``state.offset``, that the file is the one read so far.

        Only called for a file with new bytes, so a poll over thousands of quiet files opens none.
        A fingerprint taken while the file was shorter than ``HEAD_BYTES`` is extended here. A file
        never read is compared with the ``known`` ones, those fingerprinted before this read (not
        each other: a first read of many files stays linear), for being a copy of one."""
        head = _read_head(state)
        if head is None:
            return  # gone or renamed again since the scan; reading it fails the same way
        if state.head is not None and not state.starts(head):
            state.offset = 0  # another file on a reused inode
            state.line = 0
            state.head = None
        if state.head is None and state.offset == 0:
            original = next((s for s in known if 0 < s.offset <= state.size and s.starts(head)), None)
            if original is not None:  # a copy-truncate rotation's copy: what it holds was read
                state.offset = original.offset
                state.line = original.line
        state.head = _fingerprint(head)

    def _read_file(
        self, state: FileState, size: int, progress: Progress | None
    ) -> Generator[Chunk, None, bool]:
        """The file's complete lines from ``state.offset`` up to ``size``; returns whether they were all
        read (not when the file could not be opened, or is another file now)."""
        try:
            handle = open(state.path, "rb")  # noqa: SIM115 - closed in finally; generator may pause
        except FileNotFoundError:
            return False
        except OSError as err:
            self.unreadable[state.path] = err.strerror or type(err).__name__
            return False
        self.unreadable.pop(state.path, None)
        try:
            st = os.fstat(handle.fileno())
            if (st.st_dev, st.st_ino) != (state.dev, state.ino):
                return False  # renamed again since the scan; the next read finds it under its new name
            handle.seek(state.offset)
            while state.offset < size:
                data = handle.read(min(CHUNK_BYTES, size - state.offset))
                if not data:
                    break
                end = data.rfind(b"\n") + 1
                if end == 0:
                    if len(data) < CHUNK_BYTES:
                        break
                    data += handle.readline()
                    end = len(data) if data.endswith(b"\n") else 0
                    if end == 0:
                        break
                elif end < len(data):
                    data = data[:end]
                chunk = Chunk(state, state.line + 1 if self.count_lines else 0, data, state.offset)
                state.offset += end
                if self.count_lines:
                    state.line += data.count(b"\n")
                if progress is not None:
                    progress.advance(end)
                yield chunk
                handle.seek(state.offset)
        finally:
            handle.close()
        return True

    def checkpoint(self) -> dict[str, Any]:
        return {key: state.to_json() for key, state in self.files.items()}

    def restore(self, saved: dict[str, Any]) -> None:
        """Resume from ``checkpoint()`` output; inodes no longer present are forgotten at the next read."""
        for key, item in saved.items():
            dev, ino = (int(x) for x in key.split(":"))
            state = FileState(str(item["path"]), dev, ino, int(item["offset"]), int(item["line"]))
            if "head" in item:  # absent from checkpoints saved before fingerprints: taken at the next read
                state.head = (int(item["head"][0]), str(item["head"][1]))
            if "seen" in item:
                state.seen = (int(item["seen"][0]), int(item["seen"][1]))
            self.files[key] = state


def _fingerprint(head: bytes) -> tuple[int, str]:
    return len(head), hashlib.blake2b(head, digest_size=16).hexdigest()


def _read_head(state: FileState) -> bytes | None:
    """The first ``HEAD_BYTES`` (at most ``state.size``) of the file; None if its path no longer holds it."""
    try:
        with open(state.path, "rb") as handle:
            st = os.fstat(handle.fileno())
            if (st.st_dev, st.st_ino) != (state.dev, state.ino):
                return None
            return handle.read(min(HEAD_BYTES, state.size))
    except OSError:
        return None


def unreadable_message(unreadable: dict[str, str]) -> str | None:
    """What a source's health says of the files it cannot open (``LineFollower.unreadable``)."""
    if not unreadable:
        return None
    path, why = next(iter(unreadable.items()))
    return f"cannot read {len(unreadable)} file(s), e.g. {path}: {why}"


def count_newlines(path: str, start: int, end: int) -> int:
    """Newlines in bytes ``[start, end)`` of a file, read in blocks: only counted when a line number
    is needed (a garbage line, a tail point), so reads do not count every line they pass."""
    count = 0
    with open(path, "rb") as handle:
        handle.seek(start)
        while start < end:
            block = handle.read(min(CHUNK_BYTES, end - start))
            if not block:
                break
            count += block.count(b"\n")
            start += len(block)
    return count


def _last_line_end(path: str, size: int) -> int:
    """The offset just after the last newline within the first ``size`` bytes of ``path``."""
    if size == 0:
        return 0
    with open(path, "rb") as handle:
        pos = size
        while pos > 0:
            start = max(0, pos - 65536)
            handle.seek(start)
            block = handle.read(pos - start)
            idx = block.rfind(b"\n")
            if idx >= 0:
                return start + idx + 1
            pos = start
    return 0


class Watcher:
    """Wakes ``wait()`` when something under the watched paths changes (``watchfiles``, debounced).

    Runs in daemon threads; it only signals, never reads, so ``poll`` stays the one reader. When
    nothing can be watched (paths missing, inotify exhausted) ``wait`` simply sleeps its timeout.
    Only a directory to follow is watched recursively: a file is watched through its directory and a
    path not there yet through its nearest existing parent, each without what lies below them (a
    missing sink must not put the whole home directory under watch).
    """

    def __init__(self, paths: Sequence[Path], debounce_ms: int = 200) -> None:
        self._paths = [Path(p).expanduser() for p in paths]
        self._debounce_ms = debounce_ms
        self._changed = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.error: str | None = None

    def targets(self) -> tuple[list[Path], list[Path]]:
        """What to watch: (recursively, alone)."""
        deep: set[Path] = set()
        flat: set[Path] = set()
        for path in self._paths:
            if path.is_dir():
                deep.add(path)
                continue
            probe = path.parent
            while not probe.exists() and probe != probe.parent:
                probe = probe.parent
            flat.add(probe)
        return sorted(deep), sorted(p for p in flat if not any(p.is_relative_to(d) for d in deep))

    def _run(self, targets: list[Path], recursive: bool) -> None:
        import watchfiles

        try:
            for _changes in watchfiles.watch(
                *targets,
                debounce=self._debounce_ms,
                stop_event=self._stop,
                yield_on_timeout=False,
                rust_timeout=500,
                raise_interrupt=False,
                recursive=recursive,
            ):
                self._changed.set()
        except Exception as err:  # a watcher failure must only degrade to polling
            self.error = f"file watcher stopped ({err}); polling instead"

    def start(self) -> Watcher:
        if not self._threads:
            for targets, recursive in zip(self.targets(), (True, False), strict=True):
                if targets:
                    thread = threading.Thread(
                        target=self._run, args=(targets, recursive), name="claudetop-watch", daemon=True
                    )
                    thread.start()
                    self._threads.append(thread)
        return self

    def wait(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` for a change; True if one was seen. Never call on a UI thread."""
        changed = self._changed.wait(timeout_s)
        self._changed.clear()
        return changed

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()


class GarbageLog:
    """Counts unusable lines and keeps the most recent ``path:line: reason`` reports."""

    def __init__(self, keep: int = 20) -> None:
        self.count = 0
        self.recent: deque[str] = deque(maxlen=keep)
        self.last_at: datetime | None = None

    def add(self, path: str, line: int, reason: str) -> None:
        self.count += 1
        self.recent.append(f"{path}:{line}: {reason}")
        self.last_at = datetime.now(UTC)
