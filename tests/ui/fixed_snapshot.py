"""A deterministic ``Snapshot`` (fixed clock, fixed figures) for layout and snapshot tests.

Built field by field so the screen tests do not depend on analysis internals; the pilot tests
that exercise the real pipeline build their snapshots from real events instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from claudetop.model import (
    BatchPollRow,
    BatchView,
    BurnPoint,
    CacheView,
    DailySpend,
    Finding,
    Header,
    LiveRow,
    MixRow,
    ModelMixView,
    PolicyMode,
    PolicyName,
    PolicyRow,
    PrefixRow,
    ProjectionView,
    ScenarioRow,
    Snapshot,
    SourceStatus,
)

NOW = datetime(2024, 11, 20, 14, 30, tzinfo=UTC)


def fixed_snapshot(*, cache_mode: PolicyMode = PolicyMode.OFF) -> Snapshot:
    month_start = NOW.replace(day=1, hour=0, minute=0)
    header = Header(
        generated_at=NOW,
        month_start=month_start,
        month_to_date_micros=2_812_345_678,
        projected_month_micros=4_218_518_517,
        budget_micros=5_000_000_000,
        budget_fraction=0.8437,
        budget_fraction_to_date=0.5625,
        burn_rate_micros_per_hour=5_851_234,
        burn_series=tuple(
            BurnPoint(
                start=NOW - timedelta(minutes=5 * (24 - i)), cost_micros=(i * 37_000) % 500_000, requests=i
            )
            for i in range(24)
        ),
        requests_last_5m=412,
        requests_today=61_204,
        sources=(
            SourceStatus(name="sink", ok=True, events_read=1_204_331),
            SourceStatus(name="claude-code", ok=False, message="permission denied", events_read=0),
        ),
    )
    cache = CacheView(
        hit_ratio=0.0412,
        read_tokens=1_200_000,
        write_tokens=8_400_000,
        uncached_input_tokens=19_500_000,
        reads_per_write=0.3,
        saved_micros=-41_220_000,
        worst_prefixes=(
            PrefixRow(
                hash_short="9f2c1a7b3d4e",
                task="chat",
                scope="system",
                tokens=4_120,
                writes=1_204,
                reads=12,
                wasted_micros=18_230_000,
                last_seen=NOW,
            ),
            PrefixRow(
                hash_short="17aa0b9c22ef",
                task="extraction",
                scope="tools",
                tokens=2_048,
                writes=311,
                reads=40,
                wasted_micros=2_110_000,
                last_seen=NOW,
            ),
        ),
    )
    mix = ModelMixView(
        by_model=(
            MixRow(
                key="claude-opus-4-1",
                calls=48_000,
                tokens=96_000_000,
                cost_micros=2_520_000_000,
                call_share=0.784,
                token_share=0.81,
                cost_share=0.896,
            ),
            MixRow(
                key="claude-sonnet-4-5",
                calls=11_204,
                tokens=20_000_000,
                cost_micros=280_000_000,
                call_share=0.183,
                token_share=0.17,
                cost_share=0.0996,
            ),
            MixRow(
                key="claude-haiku-4-5",
                calls=2_000,
                tokens=2_300_000,
                cost_micros=12_345_678,
                call_share=0.033,
                token_share=0.02,
                cost_share=0.0044,
            ),
        ),
        by_task=(
            MixRow(
                key="chat",
                calls=40_000,
                tokens=80_000_000,
                cost_micros=2_000_000_000,
                call_share=0.65,
                token_share=0.67,
                cost_share=0.71,
                models={"claude-opus-4-1": 40_000},
            ),
            MixRow(
                key="extraction",
                calls=21_204,
                tokens=38_300_000,
                cost_micros=812_345_678,
                call_share=0.35,
                token_share=0.33,
                cost_share=0.29,
            ),
        ),
        output_share_of_cost=0.42,
    )
    batches = BatchView(
        batches_in_progress=3,
        batches_ended=41,
        requests_processing=1_250,
        requests_succeeded=40_100,
        requests_errored=12,
        oldest_in_progress_age_s=2_710.0,
        deferred_queue_depth=37,
        share_of_requests=0.18,
        saved_micros=96_400_000,
        polling=(
            BatchPollRow(
                batch_id="msgbatch_01",
                status="in_progress",
                requests=500,
                age_s=2_710.0,
                retrieve_calls=900,
                retrieves_per_minute=19.9,
                deferred=False,
            ),
        ),
    )
    days = NOW.day
    daily = tuple(
        DailySpend(day=date(2024, 11, d), cost_micros=120_000_000 + d * 3_000_000) for d in range(1, days + 1)
    )
    projection = ProjectionView(
        method="month to date + mean daily spend of the last 7 days x 10 days left",
        window_days=7,
        month_to_date_micros=header.month_to_date_micros,
        projected_month_micros=header.projected_month_micros,
        low_micros=3_900_000_000,
        high_micros=4_500_000_000,
        scenarios=(
            ScenarioRow(
                name="naive",
                label="naive (no cache, all Opus, sync)",
                monthly_cost_micros=4_200_000_000,
                cache_hit_ratio=0.0,
                model_mix="100% opus",
                batch_share=0.0,
            ),
            ScenarioRow(
                name="now",
                label="now",
                monthly_cost_micros=4_218_518_517,
                cache_hit_ratio=0.0412,
                model_mix="78% opus, 18% sonnet, 3% haiku",
                batch_share=0.18,
            ),
            ScenarioRow(
                name="enabled_policies",
                label="with enabled policies",
                monthly_cost_micros=3_100_000_000,
                cache_hit_ratio=0.35,
                model_mix="78% opus, 18% sonnet, 3% haiku",
                batch_share=0.18,
            ),
            ScenarioRow(
                name="all_policies",
                label="with all policies",
                monthly_cost_micros=1_540_000_000,
                cache_hit_ratio=0.62,
                model_mix="20% opus, 50% sonnet, 30% haiku",
                batch_share=0.6,
            ),
        ),
        daily=daily,
        projected_line=tuple(
            DailySpend(day=date(2024, 11, d), cost_micros=2_812_345_678 + (d - days) * 140_617_284)
            for d in range(days + 1, 31)
        ),
    )
    findings = (
        Finding(
            id="cache_fragmentation",
            title="Cache fragmentation: timestamp in the system prompt",
            severity="critical",
            monthly_impact_micros=610_000_000,
            evidence=("1,204 cache writes, 12 reads on prefix 9f2c1a7b", "prefix changes every request"),
            fix="Move the timestamp after the cache breakpoint.",
            subject="chat",
        ),
        Finding(
            id="blind_downshifting",
            title="Blind downshifting risk",
            severity="warning",
            monthly_impact_micros=None,
            evidence=("extraction has no evaluations",),
            fix="Record evals with claudetop.record_eval before enforcing routing.",
        ),
        Finding(
            id="batch_polling_storm",
            title="Batch polling storm",
            severity="warning",
            monthly_impact_micros=1_200_000,
            evidence=("msgbatch_01 polled 19.9 times a minute",),
            fix="Poll with backoff (claudetop's batching policy does).",
        ),
    )
    policies = (
        PolicyRow(name=PolicyName.CACHE, mode=cache_mode, shadow_saving_micros=12_340_000),
        PolicyRow(
            name=PolicyName.ROUTING,
            mode=PolicyMode.SHADOW,
            shadow_saving_micros=402_000_000,
            last_change_at=NOW - timedelta(hours=2),
            last_change_by="ops@web-1",
        ),
        PolicyRow(name=PolicyName.BATCHING, mode=PolicyMode.ENFORCE, enforced_saving_micros=96_400_000),
        PolicyRow(name=PolicyName.OUTPUT_CAPS, mode=PolicyMode.OFF),
    )
    live = tuple(
        LiveRow(
            id=f"ev{i}",
            ts=NOW - timedelta(seconds=3 * i),
            model="claude-opus-4-1" if i % 3 else "claude-haiku-4-5",
            task="chat" if i % 2 else "extraction",
            endpoint="messages",
            app="billing-api" if i % 5 == 0 else "web",
            input_tokens=1_200 + i,
            output_tokens=300 + 7 * i,
            cache_read_tokens=0,
            cache_write_tokens=4_120 if i % 4 == 0 else 0,
            cost_micros=51_000 + 1_000 * i,
            latency_ms=900.0 + 13 * i,
            status=200,
            stop_reason="end_turn",
            flags="W" if i % 4 == 0 else "",
        )
        for i in range(30)
    )
    return Snapshot(
        header=header,
        cache=cache,
        mix=mix,
        batches=batches,
        projection=projection,
        findings=findings,
        policies=policies,
        live=live,
        total_requests=61_204,
        total_cost_micros=2_812_345_678,
    )
