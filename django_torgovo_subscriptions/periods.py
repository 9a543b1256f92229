"""
Periods by calendar month: subscription periods, and the months profit is settled by.

A subscription period ends on the same local day and time as it started,
clamped to the end of shorter months (31 Jan + 1 month = 28/29 Feb), and
always counted from the anchor (the subscription's start), so
Jan 31 -> Feb 28 -> Mar 31, never Mar 28 (``add_months``, ``months_between``,
``next_period_end``, in the current time zone).

The profit share is settled per calendar month of the project's TIME_ZONE
(``month_bounds``, ``month_key``, ``is_month_start``, ``MonthKeys``): a month
runs from the first at midnight to the next first at midnight, and realized
profit is booked to the month of its order's ``created_at``. The ledger's
daily points use the calendar days of the same TIME_ZONE (``local_day``,
``day_bounds``, ``DayKeys``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.utils import timezone


def add_months(anchor: datetime, months: int) -> datetime:
    """``anchor`` plus whole calendar months, computed in the current time zone."""
    local = timezone.localtime(anchor)
    naive = local.replace(tzinfo=None) + relativedelta(months=months)
    return timezone.make_aware(naive, local.tzinfo)


def months_between(anchor: datetime, moment: datetime) -> int:
    """The largest ``k`` with ``add_months(anchor, k) <= moment``."""
    delta = relativedelta(
        timezone.localtime(moment).replace(tzinfo=None),
        timezone.localtime(anchor).replace(tzinfo=None),
    )
    months = delta.years * 12 + delta.months
    # relativedelta says Jan 31 -> Feb 28 is 0 months; the clamped period says 1.
    while add_months(anchor, months + 1) <= moment:
        months += 1
    return months


def next_period_end(anchor: datetime, current_end: datetime) -> datetime:
    """The end of the period after the one ending at ``current_end``."""
    return add_months(anchor, months_between(anchor, current_end) + 1)


# --- calendar months of TIME_ZONE (the profit share's settlement periods) ----
# These use the project's TIME_ZONE, not the time zone activated for a
# request: a month settled once must have the same bounds for everyone.


def _local_month(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(timezone.get_default_timezone())
    return local.year, local.month


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """A calendar month in the project's TIME_ZONE: [start, end) as aware datetimes."""
    tz = timezone.get_default_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start, end


def month_key(moment: datetime) -> str:
    """ "YYYY-MM" of an aware datetime in the project's TIME_ZONE."""
    year, month = _local_month(moment)
    return f"{year:04d}-{month:02d}"


def is_month_start(moment: datetime) -> bool:
    return month_bounds(*_local_month(moment))[0] == moment


class MonthKeys:
    """month_key() with the current month's bounds cached (one call per order)."""

    def __init__(self) -> None:
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.key = ""

    def __call__(self, moment: datetime) -> str:
        if self.start is not None and self.start <= moment < self.end:
            return self.key
        self.start, self.end = month_bounds(*_local_month(moment))
        self.key = month_key(moment)
        return self.key


def local_day(moment: datetime) -> date:
    """The calendar day of an aware datetime in the project's TIME_ZONE."""
    return moment.astimezone(timezone.get_default_timezone()).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A calendar day in the project's TIME_ZONE: [start, end) as aware datetimes."""
    tz = timezone.get_default_timezone()
    return (
        datetime.combine(day, time(), tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=tz),
    )


class DayKeys:
    """(local_day(), month_key()) with the current day's bounds cached (one call per order)."""

    def __init__(self) -> None:
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.keys: tuple[date, str] = (date.min, "")

    def __call__(self, moment: datetime) -> tuple[date, str]:
        if self.start is not None and self.start <= moment < self.end:
            return self.keys
        day = local_day(moment)
        self.start, self.end = day_bounds(day)
        self.keys = (day, f"{day.year:04d}-{day.month:02d}")
        return self.keys
