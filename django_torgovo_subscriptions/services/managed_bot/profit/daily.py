"""
Daily points: the ledger's closing figures per calendar day, kept for charts.

A recalculation notes the cumulative realized net profit at the close of each
day (the project's TIME_ZONE) it reads orders of, then ``write_points`` stores
one ``ManagedBotDailyPoint`` per day from the first day it covers to the day
its horizon falls in, carrying the last figure over days without orders. The
first day covered is the last day written before (its close may have
changed), or the day of the first order read if that is earlier (an order
that landed late) or nothing was written yet. So an incremental run upserts
one or two rows; a rebuild computes every point again, deletes the stored
ones outside its days and writes those that differ (none, when nothing
changed), and so gives the very points any sequence of incremental runs gave. The last day
written is kept in ``pnl_state["points_through"]``. Points start on the day
of the first counted order; before it the balance is the initial investment.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from django_torgovo_subscriptions.models import ManagedBotDailyPoint, ManagedBotPerformance
from django_torgovo_subscriptions.periods import local_day
from django_torgovo_subscriptions.services.managed_bot.profit.share import quantize_money

STATE_KEY = "points_through"
BATCH_SIZE = 1000
ONE_DAY = timedelta(days=1)


def points_through(state: dict) -> date | None:
    """The last day a point was written for, from a row's ``pnl_state``."""
    value = (state or {}).get(STATE_KEY)
    return date.fromisoformat(value) if value else None


def last_day_of(horizon: datetime) -> date:
    """The day figures up to ``horizon`` (exclusive) close: midnight ends the day before."""
    return local_day(horizon - timedelta(microseconds=1))


def write_points(
    row: ManagedBotPerformance,
    closes: dict[date, Decimal],
    *,
    opening_net: Decimal,
    through: date | None,
    horizon: datetime,
    rebuilt: bool,
) -> date | None:
    """Store the points of the days this run covers; returns the new ``points_through``.

    ``closes`` maps the days orders were read of to the exact cumulative net at
    their close; ``opening_net`` is the cumulative net before this run's orders;
    ``through`` the last day written before (ignored when ``rebuilt``).
    """
    stored = ManagedBotDailyPoint.objects.filter(performance_id=row.pk)
    if rebuilt:
        through = None
    # From the last day written, or from an earlier day when orders of that day
    # arrived late (after the cursor, as every order read is, yet before the
    # previous horizon): the orders read are all later than those counted before.
    starts = [day for day in (through, min(closes, default=None)) if day is not None]
    if not starts:
        if rebuilt:
            stored.delete()
        return None
    first = min(starts)
    last = max(last_day_of(horizon), max(closes, default=first), first)
    points, net, day = [], opening_net, first
    while day <= last:
        net = closes.get(day, net)
        cumulative = quantize_money(net)
        points.append(
            ManagedBotDailyPoint(
                performance_id=row.pk,
                date=day,
                cumulative_net=cumulative,
                balance=Decimal(row.initial_investment) + cumulative,
            )
        )
        day += ONE_DAY
    if rebuilt:
        # Keep what a rebuild finds unchanged (usually all of it): write only the rest.
        kept = set(stored.values_list("date", "cumulative_net", "balance"))
        if any(not first <= day <= last for day, _net, _balance in kept):
            stored.exclude(date__range=(first, last)).delete()
        points = [p for p in points if (p.date, p.cumulative_net, p.balance) not in kept]
    if points:
        ManagedBotDailyPoint.objects.bulk_create(
            points,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=("performance", "date"),
            update_fields=("cumulative_net", "balance"),
        )
    return last
