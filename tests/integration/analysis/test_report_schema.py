"""``claudetop report --format json`` carries every field ``docs/report-schema.md`` documents."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from claudetop.analysis.report import SCHEMA_VERSION
from claudetop.cli import main
from claudetop.model import Endpoint, UsageEvent
from claudetop.pricing import price_event
from claudetop.sinks import open_sink

DOC = Path(__file__).resolve().parents[3] / "docs" / "report-schema.md"


def _documented_fields() -> list[str]:
    block = re.search(r"```fields\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None, "docs/report-schema.md lost its fields block"
    return block.group(1).split()


def _get(data: dict[str, Any], dotted: str) -> object:
    node: Any = data
    for part in dotted.split("."):
        assert isinstance(node, dict) and part in node, f"{dotted}: missing {part!r}"
        node = node[part]
    return node


def test_every_documented_field_is_in_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    now = datetime.now(UTC)
    db = tmp_path / "usage.db"
    sink = open_sink(db)
    at = max(now - timedelta(minutes=30), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    sink.write_events(
        [
            price_event(UsageEvent(id="a", ts=at, model="claude-sonnet-4-6", task="chat", host="h1",
                                   app="web", input_tokens=1000, output_tokens=10)),
            price_event(UsageEvent(id="b", ts=at, model="claude-haiku-4-5", endpoint=Endpoint.BATCH_RESULT,
                                   host="h2", input_tokens=500, output_tokens=10, batch_id="x")),
        ]
    )  # fmt: skip
    sink.close()
    config = tmp_path / "c.toml"
    config.write_text("[monitoring]\nmonthly_budget_usd = 1000\n")
    assert main(["report", "--sink", str(db), "--format", "json", "--config", str(config)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["schema_version"] == SCHEMA_VERSION
    assert f'"schema_version": {SCHEMA_VERSION}' in DOC.read_text()
    for dotted in _documented_fields():
        _get(data, dotted)
    assert set(data["by_host"]) == {"h1", "h2"} and set(data["by_app"]) == {"web", "(none)"}
    assert data["batch"]["deferred_queue_depth"] == 0  # the sink has the queue's table, empty
