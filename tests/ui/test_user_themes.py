"""User theme files that cannot be read are a config error naming the file, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from claudetop.config import ConfigError
from claudetop.ui.themes import load_themes


@pytest.mark.parametrize("kind", ["not-utf-8", "a-directory"])
def test_an_unreadable_user_theme_is_a_config_error_naming_it(tmp_path: Path, kind: str) -> None:
    bad = tmp_path / "mine.toml"
    if kind == "not-utf-8":
        bad.write_bytes('background = "#caf\xe9"\n'.encode("latin-1"))
    else:
        bad.mkdir()
    with pytest.raises(ConfigError) as caught:
        load_themes(tmp_path)
    assert str(bad) in str(caught.value) and "cannot read this theme" in str(caught.value)
