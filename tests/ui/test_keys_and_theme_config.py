"""The monitor's own settings, ``[keys]`` and ``theme``, are checked before the screen opens, and a
mistake is reported like any config error: the file line that wrote it, the ``$CLAUDETOP_…``
variable that overrode it, or ``--theme``; exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from claudetop.config import Origins
from claudetop.ui.keys import ACTIONS, keymap_problems
from claudetop.ui.options import MonitorOptions
from claudetop.ui.run import run_monitor


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _stderr_of_monitor(
    tmp_path: Path,
    text: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str] | None = None,
    theme: str | None = None,
) -> list[str]:
    """What ``run_monitor`` prints for this config (it must exit 2 before opening any source)."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    path = _config(tmp_path, text)
    sink = str(tmp_path / "events.db")
    assert run_monitor(MonitorOptions(sinks=(sink,), no_claude_code=True, theme=theme, config=path)) == 2
    assert not (tmp_path / "events.db").exists(), "the sink is opened only after the config is checked"
    return capsys.readouterr().err.replace(str(path), "bad.toml").splitlines()


def test_bad_key_bindings_point_at_their_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = _stderr_of_monitor(
        tmp_path,
        """
        theme = "dark"

        [keys]
        toggle_cach = "x"
        help = "F1"
        toggle_cache = "m"
        filter = "c,"
        pause = "shift+ctrl+p"
        """,
        capsys,
        monkeypatch,
    )
    assert errors == [
        "bad.toml:4: unknown action 'toggle_cach' in [keys] (did you mean 'toggle_cache'?)",
        "bad.toml:5: keys.help: unknown key 'F1' (did you mean 'f1'?)",
        "bad.toml:6: keys.toggle_cache: 'm' is also bound to 'toggle_routing' (its default key)",
        "bad.toml:7: keys.filter: empty key in 'c,' (a comma separates keys; the , key is 'comma')",
        "bad.toml:8: keys.pause: 'shift+ctrl+p' never matches: write it 'ctrl+shift+p'",
    ]


def test_bad_key_bindings_from_the_environment_name_the_variable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    errors = _stderr_of_monitor(
        tmp_path,
        """
        [keys]
        toggle_cache = "f2"
        """,
        capsys,
        monkeypatch,
        env={"CLAUDETOP_KEYS__TOGGLE_ROUTING": "f2", "CLAUDETOP_KEYS__TOGGLE_CACH": "x"},
    )
    assert errors == [
        "bad.toml:2: keys.toggle_cache: 'f2' is also bound to 'toggle_routing'",
        "$CLAUDETOP_KEYS__TOGGLE_CACH: unknown action 'toggle_cach' in [keys] (did you mean 'toggle_cache'?)",
        "$CLAUDETOP_KEYS__TOGGLE_ROUTING: keys.toggle_routing: 'f2' is also bound to 'toggle_cache'",
    ]


@pytest.mark.parametrize(
    ("env", "theme", "where"),
    [
        pytest.param({}, None, "bad.toml:2", id="file"),
        pytest.param({"CLAUDETOP_THEME": "sepia"}, None, "$CLAUDETOP_THEME", id="variable"),
        pytest.param({"CLAUDETOP_THEME": "mono"}, "sepia", "--theme", id="option"),
    ],
)
def test_an_unknown_theme_names_where_it_was_chosen(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    theme: str | None,
    where: str,
) -> None:
    text = 'app = "billing"\ntheme = "sepia"\n'
    errors = _stderr_of_monitor(tmp_path, text, capsys, monkeypatch, env, theme)
    assert errors == [f"{where}: unknown theme 'sepia' (available: dark, light, ansi, high-contrast)"]


def test_every_default_key_and_keys_people_write_are_accepted() -> None:
    assert keymap_problems({}, Origins()) == []
    assert keymap_problems({action.id: action.keys for action in ACTIONS}, Origins()) == []
    written = {
        "pause": "pause",
        "filter": "comma",
        "help": "question_mark,f1",
        "quit": "ctrl+q",
        "refresh": "ctrl+shift+r",
        "faster": "alt+plus",
        "slower": "é",
        "cycle_theme": "full_stop",
    }
    assert keymap_problems(written, Origins()) == []


def test_the_monitor_command_exits_2_before_taking_the_terminal(tmp_path: Path) -> None:
    path = _config(tmp_path, '[keys]\nhelp = "ctrl+shfit+h"\n')
    done = subprocess.run(
        [sys.executable, "-m", "claudetop", "--config", str(path), "--sink", str(tmp_path / "events.db")],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TERM": "dumb"},
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        f"{path}:2: keys.help: unknown modifier 'shfit' in 'ctrl+shfit+h' "
        "(modifiers: alt, ctrl, hyper, meta, shift, super)\n"
    )
