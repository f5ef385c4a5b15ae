"""A ``Snapshot`` built the way the monitor builds one: fixed events (fixed clock, seeded shapes)
priced by the real price book and folded through the real ``Aggregator`` and ``build_snapshot``.

The traffic has the shapes the panels exist for: a cached chat system prompt (reads after a write),
an uncached Opus extraction task, nightly batch results and one prefix written over and over."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

from claudetop.analysis.aggregate import Aggregator
from claudetop.analysis.rates import RateTable
from claudetop.analysis.report import pricebook_for
from claudetop.analysis.snapshot import build_snapshot
from claudetop.config import Config
from claudetop.model import (
    BatchState,
    BatchStatus,
    Endpoint,
    PolicySet,
    PrefixFingerprint,
    Snapshot,
    UsageEvent,
)
from claudetop.pricing import price_event

NOW = datetime(2024, 11, 20, 14, 30, tzinfo=UTC)
_SYSTEM = PrefixFingerprint(scope="system", sha256="a1" * 32, tokens=4_000, breakpoint=True, ttl="5m")


def folded_events() -> list[UsageEvent]:
    rng = random.Random(20241120)
    events: list[UsageEvent] = []
    start = NOW - timedelta(days=10)
    for i in range(600):
        ts = start + timedelta(minutes=24 * i)
        kind = i % 4
        if kind == 0:  # chat on Sonnet, cached system prompt: the first of each hour writes, the rest read
            write = (i // 4) % 3 == 0
            event = UsageEvent(
                id=f"chat{i}", ts=ts, task="chat", app="web", model="claude-sonnet-4-6",
                input_tokens=300 + rng.randrange(200), output_tokens=250 + rng.randrange(100),
                cache_write_5m_tokens=4_000 if write else 0, cache_read_tokens=0 if write else 4_000,
                prefixes=(_SYSTEM,), latency_ms=900.0 + i, status=200, stop_reason="end_turn",
                max_tokens=1_024,
            )  # fmt: skip
        elif kind == 1:  # extraction left on Opus, no caching
            event = UsageEvent(
                id=f"ext{i}", ts=ts, task="extraction", app="billing-api", model="claude-opus-4-7",
                input_tokens=5_000, output_tokens=150 + rng.randrange(50), latency_ms=1_500.0, status=200,
                stop_reason="end_turn", max_tokens=4_096,
            )  # fmt: skip
        elif kind == 2:  # nightly summaries through the Batches API
            event = UsageEvent(
                id=f"sum{i}", ts=ts, task="summarisation", app="nightly", model="claude-sonnet-4-6",
                endpoint=Endpoint.BATCH_RESULT, service_tier="batch", batch_id=f"msgbatch_{i // 40:02d}",
                input_tokens=12_000, output_tokens=800, status=200, stop_reason="end_turn", max_tokens=2_048,
            )  # fmt: skip
        else:  # a report prefix with a timestamp in it: written every time, never read
            sha = hashlib.sha256(f"Report generated at {ts.isoformat()}".encode()).hexdigest()
            prefix = PrefixFingerprint(scope="system", sha256=sha, tokens=2_500, breakpoint=True)
            event = UsageEvent(
                id=f"rep{i}", ts=ts, task="report", app="web", model="claude-haiku-4-5",
                input_tokens=200, output_tokens=400, cache_write_5m_tokens=2_500, prefixes=(prefix,),
                latency_ms=700.0, status=200, stop_reason="max_tokens", max_tokens=400,
            )  # fmt: skip
        events.append(price_event(event))
    return events


def folded_snapshot() -> Snapshot:
    config = Config()
    agg = Aggregator()
    agg.add(folded_events())
    agg.add_batches(
        [
            BatchState(
                id="msgbatch_14", status=BatchStatus.IN_PROGRESS, created_at=NOW - timedelta(minutes=50),
                updated_at=NOW - timedelta(minutes=1), processing=40, retrieve_calls=12,
            )
        ]
    )  # fmt: skip
    return build_snapshot(agg, NOW, PolicySet(), config, RateTable(pricebook_for(config)))
