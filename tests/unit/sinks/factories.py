"""Events and batch states for sink tests: realistic, deterministic, and distinct by index."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from claudetop.model import BatchState, BatchStatus, PolicyDecision, PolicyMode, PrefixFingerprint, UsageEvent

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def make_event(i: int, *, prefix: str = "e", **changes: object) -> UsageEvent:
    fields: dict[str, object] = {
        "id": f"{prefix}-{i}",
        "ts": T0 + timedelta(seconds=i),
        "app": "shop",
        "host": "app-1",
        "pid": 4242,
        "task": ("chat", "extraction", None)[i % 3],
        "requested_model": "claude-opus-4-7",
        "model": ("claude-sonnet-4-6", "claude-haiku-4-5")[i % 2],
        "status": 200,
        "latency_ms": 812.5,
        "ttft_ms": 120.25,
        "input_tokens": 1000 + i % 7,
        "output_tokens": 300 + i % 11,
        "cache_write_5m_tokens": 2048 if i % 5 == 0 else 0,
        "cache_read_tokens": 2048 if i % 5 else 0,
        "max_tokens": 1024,
        "stop_reason": "end_turn",
        "prefixes": (
            PrefixFingerprint(scope="system", sha256="ab" * 32, tokens=2048, breakpoint=True, ttl="5m"),
        ),
        "policies": (
            PolicyDecision(
                policy="routing",
                mode=PolicyMode.SHADOW,
                action="route claude-haiku-4-5",
                changed_request=False,
                saving_micros=1234,
            ),
        ),
        "cost_micros": 5000 + i,
    }
    fields.update(changes)
    return UsageEvent.model_validate(fields)


def make_batch(batch_id: str, *, minutes: int, status: BatchStatus = BatchStatus.IN_PROGRESS) -> BatchState:
    return BatchState(
        id=batch_id,
        status=status,
        processing=10 if status is BatchStatus.IN_PROGRESS else 0,
        succeeded=0 if status is BatchStatus.IN_PROGRESS else 10,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
        retrieve_calls=minutes,
    )
