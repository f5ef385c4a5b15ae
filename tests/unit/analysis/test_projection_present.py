"""The report's "now" when events are dated ahead of this host's clock (skew, simulated time)."""

from datetime import UTC, datetime, timedelta

from claudetop.analysis.projection import present, project_month

WALL = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_present_is_the_wall_clock_unless_an_event_is_later() -> None:
    assert present(WALL, None) == WALL
    assert present(WALL, (WALL - timedelta(hours=3)).timestamp()) == WALL
    ahead = WALL + timedelta(seconds=42)
    assert present(WALL, ahead.timestamp()) == ahead


def test_spend_dated_ahead_of_the_wall_stays_in_month_to_date_and_the_rate() -> None:
    """20 h of traffic starting at the wall clock, recorded on a clock running ahead: $10 on each day."""
    first, newest = WALL, WALL + timedelta(hours=20)
    daily = {WALL.date(): 10_000_000, WALL.date() + timedelta(days=1): 10_000_000}
    p = project_month(daily, present(WALL, newest.timestamp()), first)
    assert p.month_to_date_micros == 20_000_000
    assert p.daily_rate_micros == round(20_000_000 * 24 / 20)  # $20 over the 20 h it took
    at_wall = project_month(daily, WALL, first)
    assert at_wall.month_to_date_micros == 10_000_000  # what the wall clock alone would report
