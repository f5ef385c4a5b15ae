"""A Message Batch as last seen, for the backlog panel and the polling-storm finding."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, NonNegativeInt

from claudetop.model.batch_status import BatchStatus
from claudetop.model.events import UtcDatetime

__all__ = ["BatchState", "BatchStatus"]


class BatchState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    status: BatchStatus
    processing: NonNegativeInt = 0
    succeeded: NonNegativeInt = 0
    errored: NonNegativeInt = 0
    canceled: NonNegativeInt = 0
    expired: NonNegativeInt = 0
    created_at: UtcDatetime
    ended_at: UtcDatetime | None = None
    expires_at: UtcDatetime | None = None
    updated_at: UtcDatetime
    """When claudetop last saw this state (a retrieve, list or create response)."""
    retrieve_calls: NonNegativeInt = 0
    deferred: bool = False
    """Submitted by claudetop's deferral queue rather than by the app."""
    app: str | None = None
    host: str | None = None

    @property
    def total(self) -> int:
        return self.processing + self.succeeded + self.errored + self.canceled + self.expired
