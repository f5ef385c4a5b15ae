"""Every action of the monitor, its default key and its binding id.

The binding id is the name users write in the config's ``[keys]`` table (``toggle_cache = "f2"``);
``keymap_from_config`` checks those names and ``App.set_keymap`` applies them, so the footer, the
help screen and the command palette always show the key that really works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from textual.binding import Binding

from claudetop.config import ConfigError


@dataclass(frozen=True)
class Action:
    id: str
    """Binding id, also the config ``[keys]`` name."""
    keys: str
    """Default key(s), comma separated, in Textual key names."""
    action: str
    """The Textual action string the key runs."""
    description: str
    footer: bool = True
    help: str = ""


ZOOMABLE = ("cache", "models", "batches", "projection", "findings", "requests")
"""Panels the number keys 1-6 zoom, in key order."""

ACTIONS: tuple[Action, ...] = (
    Action(
        "toggle_cache", "c", "toggle_policy('cache')", "Cache", help="prompt caching: off → shadow → enforce"
    ),
    Action(
        "toggle_routing",
        "m",
        "toggle_policy('routing')",
        "Route",
        help="model routing: off → shadow → enforce",
    ),
    Action(
        "toggle_batching",
        "b",
        "toggle_policy('batching')",
        "Batch",
        help="batch deferral: off → shadow → enforce",
    ),
    Action(
        "toggle_output_caps",
        "o",
        "toggle_policy('output_caps')",
        "Caps",
        help="output caps: off → shadow → enforce",
    ),
    *(
        Action(
            f"zoom_{name}",
            str(n),
            f"zoom('{name}')",
            f"Zoom {name}",
            footer=False,
            help=f"zoom the {name} panel",
        )
        for n, name in enumerate(ZOOMABLE, start=1)
    ),
    Action("filter", "slash", "filter", "Filter", help="filter live requests by model, task or app"),
    Action("pause", "p,space", "pause", "Pause", help="freeze the screen (data keeps being read)"),
    Action("refresh", "r", "refresh_now", "Refresh", footer=False, help="read the sources now"),
    Action("faster", "plus", "change_delay(-1)", "Faster", footer=False, help="shorter refresh interval"),
    Action("slower", "minus", "change_delay(1)", "Slower", footer=False, help="longer refresh interval"),
    Action("cycle_theme", "t", "cycle_theme", "Theme", footer=False, help="next colour theme"),
    Action("help", "question_mark", "help", "Help", help="every key and what it does"),
    Action(
        "command_palette", "ctrl+p", "command_palette", "Palette", footer=False, help="search every action"
    ),
    Action("quit", "q", "quit", "Quit", help="leave claudetop"),
)

ACTION_IDS = frozenset(a.id for a in ACTIONS)


def bindings() -> list[Binding]:
    return [
        Binding(a.keys, a.action, a.description, show=a.footer, id=a.id, priority=a.id == "command_palette")
        for a in ACTIONS
    ]


def keymap_from_config(keys: Mapping[str, str], origin: str = "config") -> dict[str, str]:
    """The ``[keys]`` table as a Textual keymap; an unknown action name is a ``ConfigError``."""
    unknown = sorted(set(keys) - ACTION_IDS)
    if unknown:
        known = ", ".join(sorted(ACTION_IDS))
        raise ConfigError.single(origin, None, f"[keys]: unknown action {unknown[0]!r} (known: {known})")
    return dict(keys)
