"""Loading the config: file (TOML) → environment overrides → validated, frozen ``Config``.

Which file: the ``path`` argument, else ``$CLAUDETOP_CONFIG``, else the platform config dir's
``claudetop/config.toml`` if it exists, else built-in defaults. A file named explicitly (argument
or variable) must exist.

Environment overrides (applied on top of the file):

==========================  ==============================================================
``CLAUDETOP_CONFIG``        the config file to read
``CLAUDETOP_SINK``          ``sink.path``: SQLite file, ``.jsonl`` file or ``postgresql://`` URL
``CLAUDETOP_APP``           ``app``: the application name tagged on every event
``CLAUDETOP_TASK``          ``default_task``: task tag for calls the code leaves untagged
``CLAUDETOP_DISABLE``       ``disabled``: ``1``/``true``/``yes`` turns the hook into a no-op
``CLAUDETOP_THEME``         ``theme``
``CLAUDETOP_BUDGET_USD``    ``monitoring.monthly_budget_usd``
``CLAUDETOP_<S>__<K>``      any key: section and key joined by ``__``, e.g. ``CLAUDETOP_CACHE__TTL=1h``,
                            ``CLAUDETOP_OUTPUT_CAPS__CHAT=2048``; the value is read as a TOML value
                            (``true``, ``30``, ``[0.5, 0.9]``) and, failing that, as a plain string
==========================  ==============================================================

A bad override is reported as ``$CLAUDETOP_…: what is wrong``, exactly like a bad file line.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from claudetop.config.errors import ConfigError, from_toml_error, from_validation_error
from claudetop.config.locate import KeyPath, Origins, key_lines
from claudetop.config.schema import Config

if TYPE_CHECKING:
    from pydantic import TypeAdapter

APP_DIR_NAME = "claudetop"
ENV_PREFIX = "CLAUDETOP_"
STATE_DIR_ENV = "CLAUDETOP_STATE_DIR"

ENV_ALIASES: dict[str, KeyPath] = {
    "CLAUDETOP_SINK": ("sink", "path"),
    "CLAUDETOP_APP": ("app",),
    "CLAUDETOP_TASK": ("default_task",),
    "CLAUDETOP_DISABLE": ("disabled",),
    "CLAUDETOP_THEME": ("theme",),
    "CLAUDETOP_BUDGET_USD": ("monitoring", "monthly_budget_usd"),
}
"""Short names for the overrides people reach for most; their values are taken as plain strings."""


def default_config_path() -> Path:
    return platformdirs.user_config_path(APP_DIR_NAME, appauthor=False) / "config.toml"


def default_sink_path() -> Path:
    return platformdirs.user_data_path(APP_DIR_NAME, appauthor=False) / "events.db"


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where claudetop keeps what it learns between runs (source checkpoints, fired budget alerts, the
    Admin API cache): ``$CLAUDETOP_STATE_DIR`` if set, else the platform's user state dir."""
    environ = os.environ if env is None else env
    base = environ.get(STATE_DIR_ENV)
    return Path(base).expanduser() if base else Path(platformdirs.user_state_dir(APP_DIR_NAME))


def sink_target(config: Config) -> str:
    """Where events go: the configured sink, or the platform data dir's ``events.db``."""
    return config.sink.path or str(default_sink_path())


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """The validated config; raises ``ConfigError`` naming the file line or variable at fault."""
    return load_config_with_origins(path, env)[0]


def load_config_with_origins(
    path: Path | None = None, env: Mapping[str, str] | None = None
) -> tuple[Config, Origins]:
    """``load_config``, and where each setting came from: what the monitor checks after loading (key
    names, the theme) needs Textual, so cannot be in the schema, but must point at the same line."""
    env = os.environ if env is None else env
    file = _choose_file(path, env)
    text = _read(file) if file else ""
    data = _parse(file, text) if file else {}
    origins = Origins(file, key_lines(text)[0], _apply_env(data, env))
    return _validate(data, origins), origins


def config_from_text(text: str, name: str = "<config>") -> Config:
    """Validate TOML text without touching the file system or the environment (sample config, tests)."""
    return _validate(_parse(Path(name), text), Origins(Path(name), key_lines(text)[0]))


def config_from_data(data: Mapping[str, Any], name: str = "<config>") -> Config:
    """Validate settings given as data, as a parsed file would hold them (tests, embedding apps)."""
    return _validate(dict(data), Origins(Path(name)))


def _validate(data: dict[str, Any], origins: Origins) -> Config:
    """The ``Config`` that ``data`` describes; no settings at all are the defaults, built without
    loading the validator."""
    if not data:
        return Config()
    from pydantic import ValidationError

    try:
        return _validator().validate_python(data)
    except ValidationError as err:
        raise from_validation_error(err, origins, Config) from None


@cache
def _validator() -> TypeAdapter[Config]:
    from pydantic import TypeAdapter

    return TypeAdapter(Config)


def _choose_file(path: Path | None, env: Mapping[str, str]) -> Path | None:
    if path is not None:
        return Path(path).expanduser()
    if named := env.get("CLAUDETOP_CONFIG"):
        return Path(named).expanduser()
    default = default_config_path()
    return default if default.exists() else None


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError.single(file, None, "config file not found") from None
    except UnicodeDecodeError as err:
        line = file.read_bytes()[: err.start].count(b"\n") + 1
        raise ConfigError.single(file, line, "not valid UTF-8") from None
    except OSError as err:
        raise ConfigError.single(file, None, f"cannot read config file: {err.strerror}") from None


def _parse(file: Path, text: str) -> dict[str, Any]:
    import tomllib  # only when there is a file or an override to read

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise from_toml_error(file, text, err) from None


def _env_value(raw: str) -> Any:
    import tomllib

    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
    return raw if isinstance(value, dt.date | dt.time) else value


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[KeyPath, str]:
    """Write the overrides into ``data``; returns which variable set which key path.

    A variable that has to create a table (one the file lacks, or a value of the file turned into a
    table: ``CLAUDETOP_THEME__X`` over ``theme = "dark"``) is recorded for that table too: the file does
    not say what is there. Of several variables under one such table, the first (sorted) is recorded.
    """
    sources: dict[KeyPath, str] = {}
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or raw == "":
            continue
        if name in ENV_ALIASES:
            key, value = ENV_ALIASES[name], raw
        elif "__" in name:
            key = tuple(part.lower() for part in name.removeprefix(ENV_PREFIX).split("__"))
            value = _env_value(raw)
        else:
            continue
        table = data
        for depth, part in enumerate(key[:-1], start=1):
            if not isinstance(table.get(part), dict):
                table[part] = {}
                sources[key[:depth]] = name
            table = table[part]
        table[key[-1]] = value
        sources[key] = name
    return sources
