"""Every action of the monitor, its default key and its binding id.

The binding id is the name users write in the config's ``[keys]`` table (``toggle_cache = "f2"``);
``keymap_problems`` checks those names, the keys and their clashes, and ``App.set_keymap`` applies
them, so the footer, the help screen and the command palette always show the key that really works.
"""

from __future__ import annotations

import difflib
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass

from textual._keyboard_protocol import FUNCTIONAL_KEYS
from textual.binding import Binding, InvalidBinding
from textual.keys import KEY_NAME_REPLACEMENTS, Keys, _character_to_key

from claudetop.config import ConfigProblem, Origins


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


MODIFIERS = ("alt", "ctrl", "hyper", "meta", "shift", "super")
"""The modifiers Textual writes in a key's name, in the (alphabetical) order it writes them."""

NAMED_KEYS = frozenset(
    {key.value.rsplit("+", 1)[-1] for key in Keys}
    | set(FUNCTIONAL_KEYS.values())
    | set(KEY_NAME_REPLACEMENTS.values())
)
"""Keys Textual reports by name (``f2``, ``pageup``, ``pause``...), besides the characters.

``FUNCTIONAL_KEYS`` and ``_character_to_key`` are private to Textual, but they are what its input
parser names keys with; tests pin the names users are likely to write, and every default key."""


def _normalised(keys: str) -> list[str]:
    """A binding's keys as Textual matches them (``?`` → ``question_mark``); raises ``InvalidBinding``
    for an empty one (``"c,"``)."""
    return [binding.key for binding in Binding.make_bindings([Binding(keys, "")])]


def _names_a_character(name: str) -> bool:
    """Whether ``name`` is what Textual calls the key of a character (``full_stop``, ``comma``)."""
    try:
        character = unicodedata.lookup(name.replace("_", " "))
    except KeyError:
        return False
    return _character_to_key(character) == name


def _key_fault(key: str) -> str | None:
    """What is wrong with one normalised key (``ctrl+f2``), or ``None``: a key Textual never reports
    would leave the action silently unbound."""
    *modifiers, name = key.split("+")
    if unknown := [m for m in modifiers if m not in MODIFIERS]:
        return f"unknown modifier {unknown[0]!r} in {key!r} (modifiers: {', '.join(MODIFIERS)})"
    if modifiers != sorted(set(modifiers)):
        return f"{key!r} never matches: write it {'+'.join([*sorted(set(modifiers)), name])!r}"
    if len(name) == 1 or name in NAMED_KEYS or _names_a_character(name):
        return None
    close = [KEY_NAME_REPLACEMENTS[name]] if name in KEY_NAME_REPLACEMENTS else []
    close = close or difflib.get_close_matches(name.lower(), NAMED_KEYS, n=1)
    where = f" in {key!r}" if modifiers else ""
    return f"unknown key {name!r}{where}" + (f" (did you mean {close[0]!r}?)" if close else "")


def _faults(keys: str) -> Iterator[str]:
    """What is wrong with one binding (``"ctrl+f2,f3"``)."""
    try:
        normalised = _normalised(keys)
    except InvalidBinding:
        comma = " (a comma separates keys; the , key is 'comma')" if "," in keys else ""
        yield f"empty key in {keys!r}{comma}"
        return
    yield from filter(None, map(_key_fault, normalised))


def _clashes(keymap: Mapping[str, str]) -> Iterator[tuple[str, str, list[str]]]:
    """``(action, key, other actions)`` for every action ``keymap`` binds to a key that other
    actions have too, whether the keymap gave it to them or it is their default."""
    bound: dict[str, list[str]] = defaultdict(list)
    for action in ACTIONS:
        with suppress(InvalidBinding):  # reported by _faults
            for key in dict.fromkeys(_normalised(keymap.get(action.id, action.keys))):
                bound[key].append(action.id)
    for key, ids in bound.items():
        for action_id in ids:
            if action_id in keymap and len(ids) > 1:
                yield action_id, key, [other for other in ids if other != action_id]


def keymap_problems(keymap: Mapping[str, str], origins: Origins) -> list[ConfigProblem]:
    """What is wrong with the config's ``[keys]`` table, each placed at the entry at fault (its file
    line or ``$CLAUDETOP_KEYS__…``): unknown actions, keys Textual never reports, a key bound twice."""

    def at(name: str, message: str) -> ConfigProblem:
        return ConfigProblem.at(origins, ("keys", name), message)

    problems = [at(name, _unknown_action(name)) for name in sorted(keymap.keys() - ACTION_IDS)]
    for name in sorted(keymap.keys() & ACTION_IDS):
        problems += [at(name, f"keys.{name}: {fault}") for fault in _faults(keymap[name])]
    for name, key, others in _clashes(keymap):
        also = ", ".join(repr(o) if o in keymap else f"{o!r} (its default key)" for o in others)
        problems.append(at(name, f"keys.{name}: {key!r} is also bound to {also}"))
    return problems


def _unknown_action(name: str) -> str:
    close = difflib.get_close_matches(name, ACTION_IDS, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(ACTION_IDS))}"
    return f"unknown action {name!r} in [keys] ({hint})"
