"""Optimisation policies as data: what is switched on, in which mode, and who changed it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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


class PolicySetting(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PolicyName
    mode: PolicyMode = PolicyMode.OFF
    params: dict[str, ParamValue] = Field(default_factory=dict)
    updated_at: datetime | None = None
    updated_by: str | None = None


class PolicyChange(BaseModel):
    """One line of the append-only audit trail."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: PolicyName
    at: datetime
    by: str
    from_mode: PolicyMode
    to_mode: PolicyMode
    params: dict[str, ParamValue] = Field(default_factory=dict)
    reason: str | None = None


class PolicySet(BaseModel):
    """Every policy's current setting; a missing policy is ``off``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    settings: dict[PolicyName, PolicySetting] = Field(default_factory=dict)

    def get(self, name: PolicyName) -> PolicySetting:
        return self.settings.get(name) or PolicySetting(name=name)

    def active(self) -> bool:
        """Whether any policy is in ``shadow`` or ``enforce`` mode (asked for every request)."""
        return any(setting.mode is not PolicyMode.OFF for setting in self.settings.values())

    def mode(self, name: PolicyName) -> PolicyMode:
        """Asked for every request the hook sees: no ``PolicySetting`` is built for a missing one."""
        setting = self.settings.get(name)
        return setting.mode if setting is not None else PolicyMode.OFF
