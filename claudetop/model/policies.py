"""Optimisation policies as data: what is switched on, in which mode, and who changed it.

Frozen dataclasses: policies are written by claudetop itself, and read back through ``from_row``,
which checks what a hand-edited or foreign database row could get wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from claudetop.model.times import json_time


class PolicyMode(StrEnum):
    OFF = "off"
    SHADOW = "shadow"
    """Compute and record what the policy would do; never touch the request."""
    ENFORCE = "enforce"

    def next(self) -> PolicyMode:
        """The mode a toggle key moves to: off → shadow → enforce → off."""
        order = list(PolicyMode)
        return order[(order.index(self) + 1) % len(order)]


class PolicyName(StrEnum):
    CACHE = "cache"
    ROUTING = "routing"
    BATCHING = "batching"
    OUTPUT_CAPS = "output_caps"


ParamValue = str | int | float | bool


def _params(value: Any) -> dict[str, ParamValue]:
    """A row's ``params`` (a JSON object of scalars, as text or already decoded)."""
    if value is None or value == "":
        return {}
    params = json.loads(value) if isinstance(value, str | bytes) else value
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float | bool) for k, v in params.items()
    ):
        raise ValueError(f"params must be an object of strings, numbers and booleans, got {value!r}")
    return params


def _time(value: Any) -> datetime | None:
    """A row's timestamp: ISO 8601 text (``Z`` allowed) or a datetime; one without a timezone is UTC,
    as claudetop stores every time."""
    if value is None:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySetting:
    name: PolicyName
    mode: PolicyMode = PolicyMode.OFF
    params: dict[str, ParamValue] = field(default_factory=dict)
    updated_at: datetime | None = None
    updated_by: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PolicySetting:
        """A ``policies`` table row (``name, mode, params, updated_at, updated_by``); ``ValueError``
        saying what is wrong with it."""
        return cls(
            name=PolicyName(row["name"]),
            mode=PolicyMode(row["mode"]),
            params=_params(row["params"]),
            updated_at=_time(row["updated_at"]),
            updated_by=_text(row["updated_by"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name.value,
            "mode": self.mode.value,
            "params": self.params,
            "updated_at": json_time(self.updated_at),
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyChange:
    """One line of the append-only audit trail."""

    name: PolicyName
    at: datetime
    by: str
    from_mode: PolicyMode
    to_mode: PolicyMode
    params: dict[str, ParamValue] = field(default_factory=dict)
    reason: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PolicyChange:
        """A ``policy_audit`` table row; ``ValueError`` saying what is wrong with it."""
        at, by = _time(row["at"]), row["by"]
        if at is None or by is None:
            raise ValueError("audit row without a time or an author")
        return cls(
            name=PolicyName(row["name"]),
            at=at,
            by=str(by),
            from_mode=PolicyMode(row["from_mode"]),
            to_mode=PolicyMode(row["to_mode"]),
            params=_params(row["params"]),
            reason=_text(row["reason"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name.value,
            "at": json_time(self.at),
            "by": self.by,
            "from_mode": self.from_mode.value,
            "to_mode": self.to_mode.value,
            "params": self.params,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicySet:
    """Every policy's current setting; a missing policy is ``off``."""

    settings: dict[PolicyName, PolicySetting] = field(default_factory=dict)

    def get(self, name: PolicyName) -> PolicySetting:
        return self.settings.get(name) or PolicySetting(name=name)

    def active(self) -> bool:
        """Whether any policy is in ``shadow`` or ``enforce`` mode (asked for every request)."""
        return any(setting.mode is not PolicyMode.OFF for setting in self.settings.values())

    def mode(self, name: PolicyName) -> PolicyMode:
        """Asked for every request the hook sees: no ``PolicySetting`` is built for a missing one."""
        setting = self.settings.get(name)
        return setting.mode if setting is not None else PolicyMode.OFF
