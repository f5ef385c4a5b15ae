"""Colour themes: ``themes/*.toml`` (shipped) and ``<config dir>/themes/*.toml`` (the user's),
validated on load and turned into Textual ``Theme`` objects.

Colours live in these files, never in Python, so panels style text with theme variables
(``$success``, ``$error``...) and a new theme needs no code. A bad file is a ``ConfigError``
(``path:line: message``), not a half-applied theme.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from textual.color import Color, ColorParseError
from textual.theme import Theme

from claudetop.config import ConfigError, ConfigProblem, theme_texts
from claudetop.config.locate import key_lines, line_of

SHIPPED_ORDER = ("dark", "light", "ansi", "high-contrast")
"""The order ``t`` cycles through shipped themes; user themes follow, by name."""


def _colour(value: str) -> str:
    try:
        Color.parse(value)
    except ColorParseError:
        raise ValueError(
            f"{value!r} is not a colour (use #RRGGBB, a CSS colour name or ansi_<name>)"
        ) from None
    return value


ColourText = Annotated[str, AfterValidator(_colour)]


class _Colours(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    primary: ColourText
    secondary: ColourText | None = None
    accent: ColourText | None = None
    warning: ColourText | None = None
    error: ColourText | None = None
    success: ColourText | None = None
    foreground: ColourText | None = None
    background: ColourText | None = None
    surface: ColourText | None = None
    panel: ColourText | None = None
    boost: ColourText | None = None


class ThemeFile(BaseModel):
    """The schema of one theme file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    dark: bool = True
    ansi: bool = False
    """Use the terminal's own palette (``ansi_*`` colours) instead of converting to true colour."""
    colors: _Colours
    variables: dict[str, ColourText] = Field(default_factory=dict)


def parse_theme(name: str, text: str, origin: str) -> Theme:
    """One theme from its TOML text; ``origin`` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError.single(origin, getattr(err, "lineno", None), f"TOML syntax error: {err}") from None
    try:
        spec = ThemeFile.model_validate(data)
    except ValidationError as err:
        lines, _ = key_lines(text)
        problems = []
        for detail in err.errors():
            loc = tuple(str(p) for p in detail["loc"])
            where = ".".join(loc) or "theme"
            message = (
                "missing" if detail["type"] == "missing" else detail["msg"].removeprefix("Value error, ")
            )
            problems.append(ConfigProblem(origin, line_of(lines, loc) or None, f"{where}: {message}"))
        raise ConfigError(problems) from None
    return Theme(
        name=name,
        dark=spec.dark,
        ansi=spec.ansi,
        variables=dict(spec.variables),
        **spec.colors.model_dump(),
    )


def load_themes(user_dir: Path | None = None) -> dict[str, Theme]:
    """Shipped themes, then the user's (a user theme with a shipped name replaces it).

    Raises ``ConfigError`` for the first directory that holds a bad file, naming the file and line.
    """
    themes = {name: parse_theme(name, text, f"themes/{name}.toml") for name, text in theme_texts().items()}
    if user_dir is not None and user_dir.is_dir():
        for path in sorted(user_dir.glob("*.toml")):
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                raise ConfigError.single(path, None, f"cannot read this theme: {err}") from err
            themes[path.stem] = parse_theme(path.stem, text, str(path))
    return themes


def theme_cycle(themes: Mapping[str, Theme]) -> list[str]:
    """The order the ``t`` key moves through the themes."""
    shipped = [name for name in SHIPPED_ORDER if name in themes]
    return shipped + sorted(name for name in themes if name not in SHIPPED_ORDER)


def next_theme(themes: Mapping[str, Theme], current: str) -> str:
    order = theme_cycle(themes)
    if current not in order:
        return order[0]
    return order[(order.index(current) + 1) % len(order)]
