"""``ConfigError``: a bad config file or environment override, said as ``path:line: what is wrong``."""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from claudetop.config.locate import KeyPath, Origins, key_lines

if TYPE_CHECKING:
    import tomllib

    from pydantic import ValidationError
    from pydantic_core import ErrorDetails

EXIT_CONFIG = 2


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    """The file, or ``$CLAUDETOP_…`` for an environment override."""
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"

    @classmethod
    def at(cls, origins: Origins, key: KeyPath, message: str) -> ConfigProblem:
        """``message`` about ``key``, placed where its value came from (file line or variable)."""
        return cls(*origins.of(key), message)


class ConfigError(Exception):
    """Everything wrong with one config, one line per problem in ``str()``: the file's in line order,
    then the variables', so the first problem is the first a reader of the file would meet."""

    def __init__(self, problems: Sequence[ConfigProblem]) -> None:
        if not problems:
            raise ValueError("a ConfigError needs at least one problem")
        self.problems = tuple(sorted(problems, key=lambda p: (p.path.startswith("$"), p.line or 0)))
        super().__init__("\n".join(map(str, self.problems)))

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def message(self) -> str:
        return self.problems[0].message

    @classmethod
    def single(cls, path: str | Path, line: int | None, message: str) -> ConfigError:
        return cls([ConfigProblem(str(path), line, message)])


def config_error_exit(err: ConfigError) -> NoReturn:
    """What every command does with a bad config: print the problems to stderr and exit 2."""
    print(err, file=sys.stderr)
    sys.exit(EXIT_CONFIG)


_AT = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


def from_toml_error(path: Path, text: str, err: tomllib.TOMLDecodeError) -> ConfigError:
    """A TOML syntax error with the line tomllib names (or, for a repeated key, the repeat's line)."""
    message = str(err)
    m = _AT.search(message)
    what = message[: m.start()] if m else message
    line = len(text.splitlines()) or 1
    if m and m.group(1):
        line = int(m.group(1))
        what = f"{what} (column {m.group(2)})"
    if what.startswith("Cannot overwrite"):
        _, repeats = key_lines(text)
        if repeats:
            key, line = repeats[0]
            what = f"{_dotted(key)} is set twice"
    return ConfigError.single(path, line, f"TOML syntax error: {what}")


def from_validation_error(err: ValidationError, origins: Origins, model: type) -> ConfigError:
    """Map each pydantic error to the file line (or environment variable) that set the key."""
    problems: list[ConfigProblem] = []
    for detail in err.errors():
        loc = tuple(str(part) for part in detail["loc"] if not isinstance(part, int))
        problems.append(ConfigProblem.at(origins, loc, _describe(detail, loc, model)))
    return ConfigError(problems)


def _dotted(path: Iterable[str]) -> str:
    return ".".join(p if p.replace("_", "").replace("-", "").isalnum() else f'"{p}"' for p in path)


_UNKNOWN_KEY = frozenset({"extra_forbidden", "unexpected_keyword_argument"})
"""pydantic's error types for a key the section does not have (models, dataclasses)."""


def _describe(detail: ErrorDetails, loc: KeyPath, model: type) -> str:
    if detail["type"] in _UNKNOWN_KEY:
        section, key = loc[:-1], loc[-1]
        where = f"[{_dotted(section)}]" if section else "the top level"
        message = f"unknown key {key!r} in {where}"
        import difflib

        known = _known_keys(model, section)
        if close := difflib.get_close_matches(key, known, n=1):
            message += f" (did you mean {close[0]!r}?)"
        return message
    text = detail["msg"].removeprefix("Value error, ")
    given: Any = detail.get("input")
    if not isinstance(given, dict | list):
        text += f" (got {given!r})"
    return f"{_dotted(loc)}: {text}" if loc else text


def _known_keys(model: type, section: KeyPath) -> list[str]:
    """The keys of the section at ``section`` of the dataclass schema ``model`` (none: not a section)."""
    current: Any = model
    for name in section:
        hints = typing.get_type_hints(current) if dataclasses.is_dataclass(current) else {}
        current = hints.get(name)
    return (
        [f.name for f in dataclasses.fields(current)]
        if isinstance(current, type) and dataclasses.is_dataclass(current)
        else []
    )
