"""Files shipped inside the package (sample config, themes), read through ``importlib.resources``
so they work from a wheel, a zip or a source checkout alike."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def data_files() -> Traversable:
    """The root of claudetop's package data (``claudetop/data``)."""
    return files("claudetop").joinpath("data")


def sample_config_text() -> str:
    """The documented sample config; ``claudetop config --sample`` style commands print it."""
    return data_files().joinpath("sample_config.toml").read_text(encoding="utf-8")


def theme_texts() -> dict[str, str]:
    """Every shipped theme's TOML text by theme name (file stem)."""
    themes = data_files().joinpath("themes")
    if not themes.is_dir():
        return {}
    return {
        entry.name.removesuffix(".toml"): entry.read_text(encoding="utf-8")
        for entry in themes.iterdir()
        if entry.name.endswith(".toml")
    }
