"""Message Batches as the hook sees them: batch states from create/retrieve/list/cancel responses,
and one billable event per result line, at batch rates, linked to its batch and custom id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from claudetop.hook.build import error_type_of, message_fields
from claudetop.model import BatchState, BatchStatus


def _ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def batch_objects(body: Any) -> list[dict[str, Any]]:
    """The ``message_batch`` objects in a response: one (create/retrieve/cancel) or a page (list)."""
    if isinstance(body, dict) and body.get("type") == "message_batch":
        return [body]
    if isinstance(body, dict) and isinstance(body.get("data"), list):
        return [b for b in body["data"] if isinstance(b, dict) and b.get("type") == "message_batch"]
    return []


def batch_state(
    batch: dict[str, Any], seen_at: datetime, retrieve_calls: int, app: str | None, host: str | None
) -> BatchState | None:
    """The state of one batch object, or ``None`` when it lacks the fields a state needs."""
    created = _ts(batch.get("created_at"))
    try:
        status = BatchStatus(str(batch.get("processing_status")))
    except ValueError:
        return None
    if not isinstance(batch.get("id"), str) or created is None:
        return None
    raw_counts = batch.get("request_counts")
    counts: dict[str, Any] = raw_counts if isinstance(raw_counts, dict) else {}
    return BatchState(
        id=batch["id"],
        status=status,
        created_at=created,
        ended_at=_ts(batch.get("ended_at")),
        expires_at=_ts(batch.get("expires_at")),
        updated_at=seen_at,
        retrieve_calls=retrieve_calls,
        app=app,
        host=host,
        **{
            k: v
            for k in ("processing", "succeeded", "errored", "canceled", "expired")
            if isinstance(v := counts.get(k), int) and v >= 0
        },
    )


def result_fields(line: Any) -> dict[str, Any]:
    """Fields of a ``batch_result`` event from one parsed results line.

    Succeeded results carry the message's usage; errored, canceled and expired ones cost nothing
    and say why in ``error_type``. ``service_tier`` is ``batch`` so pricing applies batch rates.
    """
    if not isinstance(line, dict):
        return {}
    out: dict[str, Any] = {"service_tier": "batch"}
    if isinstance(line.get("custom_id"), str):
        out["custom_id"] = line["custom_id"]
    result = line.get("result")
    if not isinstance(result, dict):
        return out
    kind = result.get("type")
    if kind == "succeeded":
        out.update(message_fields(result.get("message")))
        out["service_tier"] = "batch"
        out["status"] = 200
    elif isinstance(kind, str):
        out["error_type"] = error_type_of(result.get("error")) or kind
    return out
