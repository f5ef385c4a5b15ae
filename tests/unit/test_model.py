from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from claudetop.model import (
    PolicyChange,
    PolicyDecision,
    PolicyMode,
    PolicyName,
    PolicySet,
    PolicySetting,
    PrefixFingerprint,
    UsageEvent,
    format_usd,
    micros_from_usd,
    usd_str,
)

TS = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


def full_event() -> UsageEvent:
    return UsageEvent(
        id="evt-1",
        ts=TS,
        app="api",
        host="web-1",
        pid=42,
        api_key_fp="ab12cd34",
        task="extraction",
        requested_model="claude-opus-4-7",
        model="claude-haiku-4-5",
        stream=True,
        status=200,
        retries=1,
        latency_ms=812.5,
        ttft_ms=120.0,
        input_tokens=10,
        output_tokens=20,
        cache_write_5m_tokens=30,
        cache_write_1h_tokens=40,
        cache_read_tokens=50,
        thinking_tokens=5,
        web_search_requests=2,
        max_tokens=1024,
        stop_reason="end_turn",
        prefixes=(
            PrefixFingerprint(scope="system", sha256="a" * 64, tokens=2048, breakpoint=True, ttl="1h"),
        ),
        policies=(
            PolicyDecision(
                policy="routing",
                mode=PolicyMode.ENFORCE,
                action="route claude-haiku-4-5",
                changed_request=True,
                saving_micros=1234,
            ),
        ),
        cost_micros=98765,
    )


def test_event_round_trips_through_json() -> None:
    event = full_event()
    assert UsageEvent.model_validate_json(event.model_dump_json()) == event


def test_event_derived_token_counts() -> None:
    event = full_event()
    assert event.cache_write_tokens == 70
    assert event.prompt_tokens == 10 + 70 + 50


def test_timestamps_are_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    event = UsageEvent(id="x", ts=datetime(2026, 11, 3, 13, 0, tzinfo=paris))
    assert event.ts == TS
    assert event.ts.tzinfo == UTC


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ts", datetime(2026, 11, 3, 12, 0), "timezone"),
        ("input_tokens", -1, "greater than or equal to 0"),
        ("id", "", "at least 1 character"),
        ("unknown_field", 1, "Extra inputs are not permitted"),
    ],
)
def test_invalid_events_are_rejected_with_a_clear_reason(field: str, value: object, message: str) -> None:
    data: dict[str, object] = {"id": "x", "ts": TS, field: value}
    with pytest.raises(ValidationError, match=message):
        UsageEvent.model_validate(data)


def test_unpriced_is_none_not_zero() -> None:
    assert UsageEvent(id="x", ts=TS).cost_micros is None


@pytest.mark.parametrize(
    ("usd", "micros"),
    [
        ("0.000001", 1),
        ("4200", 4_200_000_000),
        ("0.0000005", 0),
        ("0.0000015", 2),
        ("1.2345675", 1_234_568),
    ],
)
def test_micros_from_usd_is_exact(usd: str, micros: int) -> None:
    assert micros_from_usd(Decimal(usd)) == micros


@pytest.mark.parametrize(
    ("micros", "text"),
    [(4_199_870_000, "$4,199.87"), (1_200, "$0.0012"), (0, "$0.00"), (-2_500_000, "-$2.50")],
)
def test_format_usd(micros: int, text: str) -> None:
    assert format_usd(micros) == text


def test_usd_str_keeps_six_places() -> None:
    assert usd_str(37_200) == "0.037200"


def test_policy_modes_cycle() -> None:
    assert [PolicyMode.OFF.next(), PolicyMode.SHADOW.next(), PolicyMode.ENFORCE.next()] == [
        PolicyMode.SHADOW,
        PolicyMode.ENFORCE,
        PolicyMode.OFF,
    ]


def test_missing_policy_is_off() -> None:
    assert PolicySet().mode(PolicyName.CACHE) is PolicyMode.OFF
    assert not PolicySet().active()


@pytest.mark.parametrize(
    ("modes", "active"),
    [
        ({}, False),
        ({PolicyName.CACHE: PolicyMode.OFF, PolicyName.ROUTING: PolicyMode.OFF}, False),
        ({PolicyName.CACHE: PolicyMode.OFF, PolicyName.ROUTING: PolicyMode.SHADOW}, True),
        ({PolicyName.BATCHING: PolicyMode.ENFORCE}, True),
    ],
)
def test_a_policy_set_is_active_when_any_policy_is_not_off(
    modes: dict[PolicyName, PolicyMode], active: bool
) -> None:
    policies = PolicySet(settings={n: PolicySetting(name=n, mode=m) for n, m in modes.items()})
    assert policies.active() is active
    assert all(policies.mode(n) is m for n, m in modes.items())


def test_policy_rows_are_read_with_their_types_and_times_in_utc() -> None:
    setting = PolicySetting.from_row(
        {"name": "cache", "mode": "shadow", "params": '{"ttl": "1h", "min": 2}',
         "updated_at": "2026-11-03T12:00:00Z", "updated_by": "ops@host"}
    )  # fmt: skip
    assert setting == PolicySetting(
        name=PolicyName.CACHE, mode=PolicyMode.SHADOW, params={"ttl": "1h", "min": 2}, updated_at=TS,
        updated_by="ops@host",
    )  # fmt: skip
    naive = PolicySetting.from_row({**setting.to_json(), "updated_at": "2026-11-03 12:00:00", "params": ""})
    assert (naive.updated_at, naive.params) == (TS, {})  # claudetop stores UTC; no params is none
    assert setting.to_json()["updated_at"] == "2026-11-03T12:00:00Z"
    change = PolicyChange.from_row(
        {"name": "routing", "at": TS, "by": "me", "from_mode": "off", "to_mode": "enforce", "params": "{}",
         "reason": None}
    )  # fmt: skip
    assert (change.name, change.to_mode, change.at) == (PolicyName.ROUTING, PolicyMode.ENFORCE, TS)


@pytest.mark.parametrize(
    "row",
    [
        {"mode": "sometimes"},
        {"name": "telepathy"},
        {"params": "[1, 2]"},
        {"params": '{"nested": {"x": 1}}'},
        {"params": "{not json"},
        {"updated_at": "yesterday"},
    ],
)
def test_a_bad_policy_row_is_refused_with_a_reason(row: dict[str, object]) -> None:
    good = {"name": "cache", "mode": "off", "params": "{}", "updated_at": None, "updated_by": None}
    with pytest.raises(ValueError):
        PolicySetting.from_row({**good, **row})


def test_an_audit_row_without_an_author_is_refused() -> None:
    row = {"name": "cache", "at": TS, "by": None, "from_mode": "off", "to_mode": "shadow", "params": "{}"}
    with pytest.raises(ValueError, match="author"):
        PolicyChange.from_row({**row, "reason": None})
