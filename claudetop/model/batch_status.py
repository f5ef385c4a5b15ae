"""Where a Message Batch is in its processing (the API's ``processing_status``)."""

from enum import StrEnum


class BatchStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    CANCELING = "canceling"
    ENDED = "ended"
