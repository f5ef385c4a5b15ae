"""The schema's constraint vocabulary (``Rule``, ``Check``): what pydantic makes of it when it validates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pytest
from pydantic import TypeAdapter, ValidationError

from claudetop.config.schema import Check, Rule


def _never_above_ten(value: float, _earlier: Mapping[str, Any]) -> None:
    if value > 10:
        raise ValueError("must be at most 10")


@dataclass(frozen=True)
class _Section:
    limit: Annotated[float, Rule(gt=0), Check(_never_above_ten)] = 1.0


@dataclass(frozen=True)
class _Misordered:
    limit: Annotated[float, Check(_never_above_ten), Rule(gt=0)] = 1.0


@pytest.mark.parametrize(
    ("value", "error"), [(-5.0, "greater_than"), (11.0, "value_error"), (0.0, "greater_than")]
)
def test_rules_and_checks_both_apply(value: float, error: str) -> None:
    with pytest.raises(ValidationError) as caught:
        TypeAdapter(_Section).validate_python({"limit": value})
    assert [e["type"] for e in caught.value.errors()] == [error]
    assert TypeAdapter(_Section).validate_python({"limit": 2}) == _Section(limit=2.0)


def test_a_rule_after_a_check_is_refused_rather_than_silently_ignored() -> None:
    with pytest.raises(TypeError, match="before any Check"):
        TypeAdapter(_Misordered)
