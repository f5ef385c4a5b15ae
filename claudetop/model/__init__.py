"""The domain types every layer shares. Depends on nothing in claudetop but itself."""

from claudetop.model.batches import BatchState, BatchStatus
from claudetop.model.events import (
    Endpoint,
    PolicyDecision,
    PrefixFingerprint,
    UsageEvent,
    UtcDatetime,
)
from claudetop.model.money import Micros, format_usd, micros_from_usd, usd, usd_str
from claudetop.model.policies import (
    ParamValue,
    PolicyChange,
    PolicyMode,
    PolicyName,
    PolicySet,
    PolicySetting,
)

__all__ = [
    "BatchState",
    "BatchStatus",
    "Endpoint",
    "Micros",
    "ParamValue",
    "PolicyChange",
    "PolicyDecision",
    "PolicyMode",
    "PolicyName",
    "PolicySet",
    "PolicySetting",
    "PrefixFingerprint",
    "UsageEvent",
    "UtcDatetime",
    "format_usd",
    "micros_from_usd",
    "usd",
    "usd_str",
]
