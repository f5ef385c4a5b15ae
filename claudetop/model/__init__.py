"""The domain types every layer shares. Depends on nothing in claudetop but itself.

The records validated where they come in (``UsageEvent``, ``BatchState`` and what they hold) are
pydantic models and load on first use: a report over Claude Code transcripts never builds one, and
need not import pydantic for them. Everything else here is plain dataclasses and enums.
"""

from typing import TYPE_CHECKING

from claudetop._lazy import attributes
from claudetop.model.batch_status import BatchStatus
from claudetop.model.money import Micros, format_usd, micros_from_usd, usd, usd_str
from claudetop.model.policies import (
    ParamValue,
    PolicyChange,
    PolicyMode,
    PolicyName,
    PolicySet,
    PolicySetting,
)
from claudetop.model.snapshot import (
    BatchPollRow,
    BatchView,
    BudgetAlertRow,
    BurnPoint,
    CacheView,
    DailySpend,
    Finding,
    FindingId,
    Header,
    LiveRow,
    MixRow,
    ModelMixView,
    PolicyRow,
    PrefixRow,
    ProjectionView,
    ScenarioRow,
    Snapshot,
    SourceStatus,
    UnpricedModel,
)

if TYPE_CHECKING:
    from claudetop.model.batches import BatchState
    from claudetop.model.events import Endpoint, PolicyDecision, PrefixFingerprint, UsageEvent, UtcDatetime

__getattr__ = attributes(
    __name__,
    {
        "BatchState": "claudetop.model.batches",
        **dict.fromkeys(
            ("Endpoint", "PolicyDecision", "PrefixFingerprint", "UsageEvent", "UtcDatetime"),
            "claudetop.model.events",
        ),
    },
)

__all__ = [
    "BatchPollRow",
    "BatchState",
    "BatchStatus",
    "BatchView",
    "BudgetAlertRow",
    "BurnPoint",
    "CacheView",
    "DailySpend",
    "Endpoint",
    "Finding",
    "FindingId",
    "Header",
    "LiveRow",
    "Micros",
    "MixRow",
    "ModelMixView",
    "ParamValue",
    "PolicyChange",
    "PolicyDecision",
    "PolicyMode",
    "PolicyName",
    "PolicyRow",
    "PolicySet",
    "PolicySetting",
    "PrefixFingerprint",
    "PrefixRow",
    "ProjectionView",
    "ScenarioRow",
    "Snapshot",
    "SourceStatus",
    "UnpricedModel",
    "UsageEvent",
    "UtcDatetime",
    "format_usd",
    "micros_from_usd",
    "usd",
    "usd_str",
]
