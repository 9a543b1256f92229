"""
Billing periods by calendar month, in the host's time zone.

A period ends on the same local day and time as it started, clamped to the end
of shorter months (31 Jan + 1 month = 28/29 Feb), and always counted from the
anchor (the subscription's start), so Jan 31 -> Feb 28 -> Mar 31, never Mar 28.
"""

from __future__ import annotations

from datetime import datetime

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
