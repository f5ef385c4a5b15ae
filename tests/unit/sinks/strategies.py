"""Hypothesis strategies for any valid ``UsageEvent``, edge values included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from claudetop.model import Endpoint, PolicyDecision, PolicyMode, PrefixFingerprint, UsageEvent

_text = st.text(max_size=30)
_opt_text = st.none() | _text
_floats = st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False)

_aware = st.datetimes(
    min_value=datetime(1971, 1, 1),
    max_value=datetime(9998, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]),
)

_prefixes = st.builds(
    PrefixFingerprint,
    scope=st.sampled_from(["tools", "system", "messages"]),
    sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
    tokens=st.integers(min_value=0, max_value=2**63 - 1),
    breakpoint=st.booleans(),
    ttl=st.sampled_from([None, "5m", "1h"]),
)

_decisions = st.builds(
    PolicyDecision,
    policy=_text,
    mode=st.sampled_from(list(PolicyMode)),
    action=_text,
    changed_request=st.booleans(),
    saving_micros=st.none() | st.integers(min_value=-(2**62), max_value=2**62),
)


def usage_events(max_count: int = 2**63 - 1) -> st.SearchStrategy[UsageEvent]:
    """Any valid event; ``max_count`` bounds token and request counts (rollups sum them in int64)."""
    counts = st.integers(min_value=0, max_value=max_count)
    return st.builds(
        UsageEvent,
        id=st.text(min_size=1, max_size=200),
        ts=_aware,
        source=_text,
        app=_opt_text,
        host=_opt_text,
        pid=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
        api_key_fp=_opt_text,
        project=_opt_text,
        session=_opt_text,
        task=_opt_text,
        endpoint=st.sampled_from(list(Endpoint)),
        requested_model=_opt_text,
        model=_opt_text,
        batch_id=_opt_text,
        custom_id=_opt_text,
        deferred=st.booleans(),
        stream=st.booleans(),
        status=st.none() | st.integers(min_value=100, max_value=599),
        error_type=_opt_text,
        retries=st.integers(min_value=0, max_value=100),
        latency_ms=_floats,
        ttft_ms=_floats,
        input_tokens=counts,
        output_tokens=counts,
        cache_write_5m_tokens=counts,
        cache_write_1h_tokens=counts,
        cache_read_tokens=counts,
        thinking_tokens=counts,
        web_search_requests=counts,
        web_fetch_requests=counts,
        service_tier=_opt_text,
        inference_geo=_opt_text,
        max_tokens=st.none() | counts,
        stop_reason=_opt_text,
        prefixes=st.lists(_prefixes, max_size=4).map(tuple),
        policies=st.lists(_decisions, max_size=4).map(tuple),
        cost_micros=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    )
