"""Where each setting came from: the line of the TOML text that sets it, or the environment
variable that overrides it, so errors can say ``path:line:`` or ``$CLAUDETOP_…:``.

``tomllib`` keeps no positions, and pydantic reports locations as key paths, so this walks the
text once: table headers, ``key = value`` lines (dotted and quoted keys included), skipping
multi-line strings and arrays so nothing inside a value is mistaken for a key. Keys inside an
inline table map to the line of the table's own key, which is where they are written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

KeyPath = tuple[str, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"((?:[^"\\]|\\.)*)"')
_LITERAL = re.compile(r"'([^']*)'")


def _unescape(text: str) -> str:
    return text.encode("latin-1", "backslashreplace").decode("unicode_escape") if "\\" in text else text


def _split_key(text: str) -> tuple[KeyPath, str]:
    """The dotted key at the start of ``text`` and what follows it."""
    parts: list[str] = []
    rest = text.lstrip()
    while True:
        if m := _BASIC.match(rest):
            parts.append(_unescape(m.group(1)))
        elif m := _LITERAL.match(rest):
            parts.append(m.group(1))
        elif m := _BARE.match(rest):
            parts.append(m.group(0))
        else:
            return tuple(parts), rest
        rest = rest[m.end() :].lstrip()
        if not rest.startswith("."):
            return tuple(parts), rest
        rest = rest[1:].lstrip()


class _ValueScanner:
    """Tracks whether a value that started on an earlier line is still open."""

    def __init__(self) -> None:
        self.depth = 0
        self.in_multiline: str | None = None

    @property
    def open(self) -> bool:
        return self.depth > 0 or self.in_multiline is not None

    def feed(self, text: str) -> None:
        i = 0
        while i < len(text):
            if self.in_multiline is not None:
                end = text.find(self.in_multiline, i)
                if end < 0:
                    return
                i = end + 3
                self.in_multiline = None
                continue
            ch = text[i]
            if text.startswith(('"""', "'''"), i):
                self.in_multiline = text[i : i + 3]
                i += 3
            elif ch == '"':
                m = _BASIC.match(text, i)
                i = m.end() if m else len(text)
            elif ch == "'":
                m = _LITERAL.match(text, i)
                i = m.end() if m else len(text)
            elif ch == "#":
                return
            else:
                self.depth += (ch in "[{") - (ch in "]}")
                i += 1


def key_lines(text: str) -> tuple[dict[KeyPath, int], list[tuple[KeyPath, int]]]:
    """Map each table and key path to the 1-based line it is first declared on.

    Also returns the paths declared more than once (with the line of the repeat), which is what
    a "cannot overwrite a value" parse error is about.
    """
    lines: dict[KeyPath, int] = {}
    repeats: list[tuple[KeyPath, int]] = []
    table: KeyPath = ()
    scanner = _ValueScanner()
    for number, raw in enumerate(text.splitlines(), start=1):
        if scanner.open:
            scanner.feed(raw)
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("["):
            is_array = stripped.startswith("[[")
            parts, _ = _split_key(stripped[2:] if is_array else stripped[1:])
            table = parts
            if table in lines and not is_array:
                repeats.append((table, number))
            for depth in range(1, len(table) + 1):
                lines.setdefault(table[:depth], number)
            continue
        parts, rest = _split_key(stripped)
        if not parts or not rest.startswith("="):
            continue
        path = table + parts
        if path in lines:
            repeats.append((path, number))
        lines.setdefault(path, number)
        for depth in range(len(table) + 1, len(path)):
            lines.setdefault(path[:depth], number)
        scanner.feed(rest[1:])
    return lines, repeats


def line_of(lines: Mapping[KeyPath, int], path: KeyPath) -> int | None:
    """The line of ``path`` or of its nearest enclosing key or table that the text declares."""
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


@dataclass(frozen=True)
class Origins:
    """Where each setting of one loaded config came from.

    Kept beside the ``Config`` so that checks made after loading (the monitor's key names and theme,
    which need Textual) point at the offending entry exactly as a schema error does.
    """

    file: Path | None = None
    """The file read; ``None`` when the config is the built-in defaults."""
    lines: Mapping[KeyPath, int] = field(default_factory=dict)
    """Key path → the file line that declares it (``key_lines``)."""
    env: Mapping[KeyPath, str] = field(default_factory=dict)
    """Key path → the ``CLAUDETOP_…`` variable that set it or created the table at it (``_apply_env``)."""

    def of(self, path: KeyPath) -> tuple[str, int | None]:
        """``("$VARIABLE", None)`` if an override set ``path`` or a table holding it, else the file
        and the line of ``path`` or of its nearest enclosing key or table that the file declares."""
        for end in range(len(path), 0, -1):
            if (variable := self.env.get(path[:end])) is not None:
                return f"${variable}", None
        return str(self.file or "<defaults>"), line_of(self.lines, path)
