"""Every config error points where the bad value came from: the file line that wrote it, or the
``$CLAUDETOP_…`` variable that overrode it, whatever the file also says around it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from claudetop.config import ConfigError, Origins, load_config, load_config_with_origins


def _errors(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, env=env or {})
    return str(caught.value).replace(str(path), "config.toml").splitlines()


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        pytest.param(
            '[cache]\nttl = "5m"\n',
            {"CLAUDETOP_CACHE__TTL": "2h"},
            "$CLAUDETOP_CACHE__TTL: cache.ttl: Input should be '5m', '1h' or 'auto' (got '2h')",
            id="a key the file also sets",
        ),
        pytest.param(
            "[cache]\nenabled = true\n",
            {"CLAUDETOP_CACHE__MIN_READS_PER_WRITE": "-1"},
            "$CLAUDETOP_CACHE__MIN_READS_PER_WRITE: cache.min_reads_per_write: "
            "Input should be greater than or equal to 0 (got -1)",
            id="a new key in a table the file has",
        ),
        pytest.param(
            '[pricing.models."m"]\ninput_per_mtok = 3\n',
            {"CLAUDETOP_PRICING__MODELS__M__INPUT_PER_MTOK": "-1"},
            "$CLAUDETOP_PRICING__MODELS__M__INPUT_PER_MTOK: pricing.models.m.input_per_mtok: "
            "Input should be greater than or equal to 0 (got -1)",
            id="a nested key",
        ),
        pytest.param(
            "[monitoring]\nalert_thresholds = [0.5, 0.8]\n",
            {"CLAUDETOP_MONITORING__ALERT_THRESHOLDS": "[0.5, 20]"},
            "$CLAUDETOP_MONITORING__ALERT_THRESHOLDS: monitoring.alert_thresholds: "
            "Input should be less than or equal to 10 (got 20)",
            id="an element of a list",
        ),
        pytest.param(
            'theme = "dark"\n',
            {"CLAUDETOP_THEME__NAME": "mono"},
            "$CLAUDETOP_THEME__NAME: theme: Input should be a valid string",
            id="a file value the variable turned into a table",
        ),
        pytest.param(
            "[monitoring]\nalert_thresholds = [0.5, 0.8]\n",
            {"CLAUDETOP_MONITORING__ALERT_THRESHOLDS__0": "0.9"},
            "$CLAUDETOP_MONITORING__ALERT_THRESHOLDS__0: monitoring.alert_thresholds: "
            "Input should be a valid list",
            id="a file list the variable turned into a table",
        ),
        pytest.param(
            "",
            {"CLAUDETOP_THEME": "mono", "CLAUDETOP_THEME__NAME": "mono"},
            "$CLAUDETOP_THEME__NAME: theme: Input should be a valid string",
            id="an alias's value another variable turned into a table",
        ),
    ],
)
def test_a_bad_override_names_its_variable(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    assert _errors(tmp_path, text, env) == [expected]


def test_file_errors_keep_their_lines_beside_overrides(tmp_path: Path) -> None:
    errors = _errors(
        tmp_path,
        """
        theme = "dark"
        [cache]
        ttl = "5m"
        enabled = "maybe"
        """,
        {"CLAUDETOP_CACHE__TTL": "2h", "CLAUDETOP_CACHE__ENABLED__X": "1", "CLAUDETOP_THEME": "mono"},
    )
    assert errors == [
        "$CLAUDETOP_CACHE__ENABLED__X: cache.enabled: Input should be a valid boolean",
        "$CLAUDETOP_CACHE__TTL: cache.ttl: Input should be '5m', '1h' or 'auto' (got '2h')",
    ]
    errors = _errors(tmp_path, '[cache]\nttl = "5m"\nenabled = "maybe"\n', {"CLAUDETOP_CACHE__TTL": "1h"})
    assert errors == [
        "config.toml:3: cache.enabled: Input should be a valid boolean, "
        "unable to interpret input (got 'maybe')"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            '# prices\n[pricng.models."claude-sonnet-4-6"]\ninput_per_mtok = 2.4\n',
            "config.toml:2: unknown key 'pricng' in the top level (did you mean 'pricing'?)",
            id="a misspelt table above a sub-table",
        ),
        pytest.param(
            "[pricing]\nresidency_multiplier = 1.1\n\n[pricing.modls.m]\ninput_per_mtok = 2.4\n",
            "config.toml:4: unknown key 'modls' in [pricing] (did you mean 'models'?)",
            id="a misspelt sub-table of a table the file has",
        ),
        pytest.param(
            "[monitoring]\nrefresh_interval_s = 2\n\n[monitoring.alertz.slack]\nurl = 'x'\n",
            "config.toml:4: unknown key 'alertz' in [monitoring]",
            id="a misspelt table two levels up",
        ),
        pytest.param(
            '[cache]\nttl = "5m"\n\n[monitoring.alertz]\n',
            "config.toml:4: unknown key 'alertz' in [monitoring]",
            id="an empty misspelt table",
        ),
        pytest.param(
            "[pricing.models.m]\ninput_per_mtok = 2.4\noutput = 3\n",
            "config.toml:3: unknown key 'output' in [pricing.models.m]",
            id="an unknown key in a known table",
        ),
    ],
)
def test_a_misspelt_table_header_points_at_its_line(tmp_path: Path, text: str, expected: str) -> None:
    assert _errors(tmp_path, text) == [expected]


def test_origins_place_later_checks_like_schema_errors(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "dark"\n\n[keys]\nhelp = "f1"\n')
    config, origins = load_config_with_origins(path, env={"CLAUDETOP_KEYS__QUIT": "ctrl+q"})
    assert config.keys == {"help": "f1", "quit": "ctrl+q"}
    assert origins.of(("theme",)) == (str(path), 1)
    assert origins.of(("keys", "help")) == (str(path), 4)
    assert origins.of(("keys", "quit")) == ("$CLAUDETOP_KEYS__QUIT", None)
    assert origins.of(("keys", "filter")) == (str(path), 3)
    assert Origins().of(("theme",)) == ("<defaults>", None)
