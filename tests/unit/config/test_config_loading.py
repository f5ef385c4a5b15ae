"""Loading config files and overrides, and the exact ``path:line: message`` of every kind of mistake."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import get_args, get_origin, get_type_hints

import pytest

from claudetop.config import (
    EXIT_CONFIG,
    Config,
    ConfigError,
    config_error_exit,
    default_config_path,
    default_sink_path,
    load_config,
    sample_config_text,
    sink_target,
    state_dir,
)

SAMPLE = Path(__file__).resolve().parents[3] / "sample_config.toml"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def _error(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> ConfigError:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return caught.value


def test_sample_config_loads_and_equals_the_defaults() -> None:
    assert load_config(SAMPLE, env={}) == Config()
    assert SAMPLE.read_text() == sample_config_text()


def _keys(section: type, prefix: str = "") -> list[str]:
    """Every key path of the schema, descending into sections and into tables of sections."""
    names = []
    for name, annotation in get_type_hints(section).items():
        names.append(prefix + name)
        if get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
            name += ".*"
        if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
            names += _keys(annotation, f"{prefix}{name}.")
    return names


def test_sample_config_documents_every_key() -> None:
    text = sample_config_text()
    missing = []
    for dotted in _keys(Config):
        key = dotted.rsplit(".", 1)[-1]
        as_key = re.search(rf"^(# )?{key} = ", text, re.MULTILINE)
        as_table = re.search(rf"^\[{re.escape(dotted)}\]$", text, re.MULTILINE)
        if not (as_key or as_table):
            missing.append(dotted)
    assert missing == []
    assert "pricing.models.*.cache_read_per_mtok" in _keys(Config)


def test_no_file_gives_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "nowhere"))
    assert load_config(env={}) == Config()


def test_default_paths_follow_the_platform_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_config_path() == tmp_path / "cfg" / "claudetop" / "config.toml"
    assert default_sink_path() == tmp_path / "data" / "claudetop" / "events.db"
    assert sink_target(Config()) == str(tmp_path / "data" / "claudetop" / "events.db")
    default_config_path().parent.mkdir(parents=True)
    default_config_path().write_text('theme = "mono"\n')
    assert load_config(env={}).theme == "mono"


def test_state_dir_is_the_variable_else_the_platform_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir({}) == tmp_path / "xdg" / "claudetop"
    assert state_dir({"CLAUDETOP_STATE_DIR": ""}) == tmp_path / "xdg" / "claudetop"
    assert state_dir({"CLAUDETOP_STATE_DIR": str(tmp_path / "s")}) == tmp_path / "s"
    monkeypatch.setenv("CLAUDETOP_STATE_DIR", str(tmp_path / "from-env"))
    assert state_dir() == tmp_path / "from-env"


def test_values_from_a_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        app = "billing"
        [cache]
        ttl = "auto"
        [monitoring]
        monthly_budget_usd = 1540.25
        [pricing.models."claude-sonnet-4-6"]
        input_per_mtok = "2.4"
        multiplier = 0.8
        [output_caps]
        extraction = 512
        """,
    )
    config = load_config(path, env={})
    assert config.app == "billing"
    assert config.cache.ttl == "auto"
    assert config.monitoring.monthly_budget_usd == Decimal("1540.25")
    assert config.pricing.models["claude-sonnet-4-6"].input_per_mtok == Decimal("2.4")
    assert config.pricing.models["claude-sonnet-4-6"].multiplier == Decimal("0.8")
    assert config.output_caps == {"extraction": 512}
    assert config.routing.tiers["reasoning"] == "claude-opus-4-7"


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    err = _error(tmp_path, '[cache]\nenabled = true\nttl = "5m\n')
    assert (err.line, str(err)) == (3, f"{tmp_path}/config.toml:3: TOML syntax error: {err.message[19:]}")
    assert "column" in err.message


def test_key_set_twice_points_at_the_repeat(tmp_path: Path) -> None:
    err = _error(tmp_path, '[cache]\nttl = "5m"\n\nenabled = true\nttl = "1h"\n')
    assert str(err) == f"{tmp_path}/config.toml:5: TOML syntax error: cache.ttl is set twice"


def test_unknown_key_names_line_and_suggests(tmp_path: Path) -> None:
    err = _error(
        tmp_path,
        """
        theme = "dark"

        [batching]
        enabled = true
        poll_intervl_s = 30
        """,
    )
    assert str(err) == (
        f"{tmp_path}/config.toml:5: unknown key 'poll_intervl_s' in [batching] "
        "(did you mean 'poll_interval_s'?)"
    )


def test_unknown_section(tmp_path: Path) -> None:
    err = _error(tmp_path, 'theme = "dark"\n[cahce]\nttl = "1h"\n')
    assert (err.line, err.message) == (2, "unknown key 'cahce' in the top level (did you mean 'cache'?)")


def test_wrong_type(tmp_path: Path) -> None:
    err = _error(tmp_path, '[batching]\nenabled = true\nbatch_size = "lots"\n')
    assert err.line == 3
    assert err.message.startswith("batching.batch_size: Input should be a valid integer")
    assert err.message.endswith("(got 'lots')")


def test_bad_value(tmp_path: Path) -> None:
    err = _error(tmp_path, '[cache]\n\n\nttl = "10m"\n')
    assert (
        str(err) == f"{tmp_path}/config.toml:4: cache.ttl: Input should be '5m', '1h' or 'auto' (got '10m')"
    )


def test_error_lines_skip_multiline_values(tmp_path: Path) -> None:
    err = _error(
        tmp_path,
        '''
        [batching]
        async_tasks = [
          "summarisation",
          "nightly = report",
        ]
        [monitoring]
        alert_command = """
        refresh_interval_s = 5
        """
        refresh_interval_s = 0
        ''',
    )
    assert (err.line, err.message) == (
        10,
        "monitoring.refresh_interval_s: Input should be greater than or equal to 0.1 (got 0)",
    )


def test_errors_deep_in_dotted_and_quoted_tables(tmp_path: Path) -> None:
    err = _error(
        tmp_path,
        """
        [pricing.models."claude-sonnet-4-6"]
        input_per_mtok = 3
        cache_read_per_mtok = -0.3
        [pricing.models."claude-3.5-haiku"]
        output_per_mtok = "five"
        """,
    )
    assert err.problems[1].line == 5
    assert err.problems[1].message.startswith('pricing.models."claude-3.5-haiku".output_per_mtok: ')
    assert err.line == 3
    assert err.message.startswith("pricing.models.claude-sonnet-4-6.cache_read_per_mtok: Input should be")


def test_cross_field_rules_point_at_the_key(tmp_path: Path) -> None:
    err = _error(
        tmp_path,
        """
        [monitoring]
        alert_thresholds = [0.8, 0.5]
        [batching]
        poll_interval_s = 120
        backoff_cap_s = 60
        """,
    )
    assert [(p.line, p.message) for p in err.problems] == [
        (2, "monitoring.alert_thresholds: must be strictly ascending, got [0.8, 0.5]"),
        (5, "batching.backoff_cap_s: must be at least poll_interval_s (120) (got 60)"),
    ]


def test_every_problem_is_reported_one_per_line(tmp_path: Path) -> None:
    err = _error(tmp_path, 'theme = ""\n[cache]\nttl = 5\nenabled = "maybe"\n')
    assert [line.split(":")[1] for line in str(err).splitlines()] == ["1", "3", "4"]


def test_inline_table_errors_point_at_its_line(tmp_path: Path) -> None:
    err = _error(
        tmp_path, '[routing]\ndefault_model = "x"\ntiers = { chat = "claude-sonnet-4-6", extraction = 3 }\n'
    )
    assert (err.line, err.message.split(":")[0]) == (3, "routing.tiers.extraction")


def test_environment_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, '[cache]\nttl = "5m"\n')
    env = {
        "CLAUDETOP_CACHE__TTL": "1h",
        "CLAUDETOP_SINK": "/var/lib/app/usage.jsonl",
        "CLAUDETOP_APP": "worker",
        "CLAUDETOP_DISABLE": "yes",
        "CLAUDETOP_BUDGET_USD": "4200",
        "CLAUDETOP_OUTPUT_CAPS__CHAT": "2048",
        "CLAUDETOP_MONITORING__ALERT_THRESHOLDS": "[0.9, 1.2]",
        "CLAUDETOP_ROUTING__TIERS__EXTRACTION": "claude-haiku-4-5",
        "CLAUDETOP_DEBUG": "1",
        "HOME": "/root",
    }
    config = load_config(path, env=env)
    assert config.cache.ttl == "1h"
    assert config.sink.path == "/var/lib/app/usage.jsonl"
    assert (config.app, config.disabled) == ("worker", True)
    assert config.monitoring.monthly_budget_usd == Decimal(4200)
    assert config.output_caps == {"chat": 2048}
    assert config.monitoring.alert_thresholds == [0.9, 1.2]
    assert config.routing.tiers == {"extraction": "claude-haiku-4-5"}  # a table replaces the default one


def test_config_file_from_the_environment(tmp_path: Path) -> None:
    path = _write(tmp_path, 'theme = "mono"\n')
    assert load_config(env={"CLAUDETOP_CONFIG": str(path)}).theme == "mono"
    with pytest.raises(ConfigError) as caught:
        load_config(env={"CLAUDETOP_CONFIG": str(tmp_path / "absent.toml")})
    assert str(caught.value) == f"{tmp_path}/absent.toml: config file not found"


def test_bad_environment_override_names_the_variable(tmp_path: Path) -> None:
    err = _error(tmp_path, "[cache]\nenabled = true\n", env={"CLAUDETOP_CACHE__TTL": "2h"})
    assert str(err) == "$CLAUDETOP_CACHE__TTL: cache.ttl: Input should be '5m', '1h' or 'auto' (got '2h')"
    err = _error(tmp_path, "", env={"CLAUDETOP_CACHE__TLL": "1h"})
    assert str(err) == "$CLAUDETOP_CACHE__TLL: unknown key 'tll' in [cache] (did you mean 'ttl'?)"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'theme = "dark"\napp = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value) == f"{path}:2: not valid UTF-8"


def test_config_error_exit_prints_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = _error(tmp_path, '[cache]\nttl = "10m"\n')
    with pytest.raises(SystemExit) as exited:
        config_error_exit(err)
    assert exited.value.code == EXIT_CONFIG == 2
    assert capsys.readouterr().err == str(err) + "\n"
