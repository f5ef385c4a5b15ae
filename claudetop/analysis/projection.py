"""The projected monthly bill: month to date plus the trailing daily rate times the days left.

Method: the rate is the spend of the last ``window_days`` calendar days (today included, and
never earlier than the first event seen) divided by the time they cover up to now. The band is
one standard deviation of the complete days' spend in that window, scaled by sqrt(days left)
(the spread of a sum of independent days); with fewer than two complete days there is no band.
Months are UTC calendar months.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from claudetop.model import Micros

_DAY_S = 86_400.0
_MIN_ELAPSED_S = 3_600.0
"""Never extrapolate from less than an hour of traffic."""


def present(wall: datetime, newest_event: float | None) -> datetime:
    """The "now" figures are computed at: the wall clock, or the newest event when that is later.

    Events can be dated ahead of this host's clock — another host's clock runs fast, or a simulation
    (``claudetop demo --speed``) records on simulated time. Taking the newest event as the present
    keeps every recorded dollar inside month to date and today, and keeps the trailing rate from
    being divided by a span that ends before the spend it covers.
    """
    if newest_event is None:
        return wall
    return max(wall, datetime.fromtimestamp(newest_event, UTC))


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


@dataclass(frozen=True, slots=True)
class Projection:
    method: str
    window_days: float
    """How many days the trailing rate was actually measured over."""
    month_to_date_micros: Micros
    daily_rate_micros: Micros
    days_left: float
    projected_micros: Micros
    low_micros: Micros
    high_micros: Micros
    daily: tuple[tuple[date, Micros], ...]
    """Actual spend per day this month, oldest first."""
    line: tuple[tuple[date, Micros], ...]
    """Projected cumulative spend at the end of each remaining day."""

    def with_rate_factor(self, factor: float) -> Micros:
        """The same projection had the rest of the month cost ``factor`` times the trailing rate."""
        return self.month_to_date_micros + round(self.daily_rate_micros * factor * self.days_left)

    def month_at_rate(self, factor: float, now: datetime) -> Micros:
        """A whole calendar month at ``factor`` times the trailing rate: the audit table's column."""
        start, end = month_bounds(now)
        return round(self.daily_rate_micros * factor * (end - start).total_seconds() / _DAY_S)


def _span(seconds: float) -> str:
    """A trailing window in the unit a reader can picture: ``0.0 days`` says nothing about 3 hours."""
    return f"{seconds / _DAY_S:.1f} days" if seconds >= _DAY_S else f"{seconds / 3_600:.1f} hours"


def project_month(
    daily_spend: Mapping[date, Micros], now: datetime, first_seen: datetime | None, window_days: int = 7
) -> Projection:
    """Project this month's bill from spend per UTC day (any range of days; others are ignored)."""
    now = now.astimezone(UTC)
    start, end = month_bounds(now)
    today = now.date()
    mtd = sum(v for d, v in daily_spend.items() if start.date() <= d <= today)
    days_left = (end - now).total_seconds() / _DAY_S

    window_start = datetime.combine(today - timedelta(days=window_days - 1), datetime.min.time(), UTC)
    if first_seen is not None:
        window_start = max(window_start, first_seen.astimezone(UTC))
    elapsed = max((now - window_start).total_seconds(), _MIN_ELAPSED_S)
    in_window = sum(v for d, v in daily_spend.items() if window_start.date() <= d <= today)
    rate = round(in_window * _DAY_S / elapsed) if first_seen is not None else 0

    first_full = window_start.date()
    if window_start.timetz() != datetime.min.time().replace(tzinfo=UTC):
        first_full += timedelta(days=1)
    complete = [daily_spend.get(first_full + timedelta(days=i), 0) for i in range((today - first_full).days)]
    band = round(statistics.stdev(complete) * math.sqrt(days_left)) if len(complete) >= 2 else 0
    projected = mtd + round(rate * days_left)

    daily = tuple(
        (d, daily_spend.get(d, 0))
        for d in (start.date() + timedelta(days=i) for i in range((today - start.date()).days + 1))
    )
    line: list[tuple[date, Micros]] = []
    cumulative = float(mtd)
    cursor = now
    while cursor < end:
        day_end = min(datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), UTC), end)
        cumulative += rate * (day_end - cursor).total_seconds() / _DAY_S
        line.append((cursor.date(), round(cumulative)))
        cursor = day_end
    window = elapsed / _DAY_S
    method = (
        f"month to date + mean daily spend over the last {_span(elapsed)} x {days_left:.1f} days left; "
        + (
            "band: +/- 1 s.d. of daily spend x sqrt(days left)"
            if band
            else "no band (under 2 full days of data)"
        )
    )
    return Projection(
        method=method,
        window_days=window,
        month_to_date_micros=mtd,
        daily_rate_micros=rate,
        days_left=days_left,
        projected_micros=projected,
        low_micros=max(mtd, projected - band),
        high_micros=projected + band,
        daily=daily,
        line=tuple(line),
    )
