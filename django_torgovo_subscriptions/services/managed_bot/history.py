"""
Managed bots over time, for charts: one investor's daily history, and each
bot's short return series (sparklines).

``performance_history(row, start=, end=)`` reads the daily points the
recalculation wrote (``ManagedBotDailyPoint``) and the settlements recorded
(``ManagedBotSettledPeriod``): two queries, whatever the range. A point is a
calendar day of the project's TIME_ZONE with its closing figures:

    balance          initial investment + cumulative net (open positions at cost)
    cumulative_net   realized net profit from the first counted order to the close
    high_water_mark  the mark in force at the close: the one set by the last
                     settlement at or before it (0 before the first)
    share_accrued    the share the profit up to the close accounts for: what the
                     settlements so far accrued, plus the plan's rate on the
                     cumulative net above that mark, rounded to 0.01 (what
                     settling at the close would have charged in total)

``sparklines(bot_ids)`` is, per bot, the last ``SPARKLINE_DAYS`` days of its
current investors' aggregate: the sum of their cumulative net over the sum of
their initial investments, in percent, one query for a page of bots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from django_torgovo_subscriptions.models import ManagedBotDailyPoint, ManagedBotPerformance
from django_torgovo_subscriptions.models.subscriptions import ACCESS_STATUSES
from django_torgovo_subscriptions.periods import day_bounds, local_day
from django_torgovo_subscriptions.services.managed_bot.profit import plan_rate, quantize_money
from django_torgovo_subscriptions.services.managed_bot.profit.share import ZERO

SPARKLINE_DAYS = 30


@dataclass(frozen=True)
class HistoryPoint:
    date: date
    balance: Decimal
    cumulative_net: Decimal
    high_water_mark: Decimal
    share_accrued: Decimal


@dataclass(frozen=True)
class _Mark:
    """Settlement state in force from ``since`` on."""

    since: datetime
    high_water_mark: Decimal
    accrued: Decimal


def _marks(row: ManagedBotPerformance) -> list[_Mark]:
    marks = [
        _Mark(end, hwm, accrued)
        for end, hwm, accrued in row.settled_periods.order_by("period_end").values_list(
            "period_end", "high_water_mark", "profit_share_accrued"
        )
    ]
    # Settlements made before periods were recorded: the row's own state.
    if row.settled_until is not None and (not marks or marks[-1].since < row.settled_until):
        marks.append(_Mark(row.settled_until, row.high_water_mark, row.profit_share_accrued))
    return marks


def performance_history(
    row: ManagedBotPerformance, *, start: date | None = None, end: date | None = None
) -> list[HistoryPoint]:
    """The row's daily points from ``start`` to ``end`` (inclusive; None: unbounded)."""
    points = row.daily_points.order_by("date")
    if start is not None:
        points = points.filter(date__gte=start)
    if end is not None:
        points = points.filter(date__lte=end)
    rate = plan_rate(row)
    marks = _marks(row)
    mark_index, hwm, accrued = 0, ZERO, ZERO
    history = []
    for day, cumulative_net, balance in points.values_list("date", "cumulative_net", "balance"):
        close = day_bounds(day)[1]
        while mark_index < len(marks) and marks[mark_index].since <= close:
            hwm, accrued = marks[mark_index].high_water_mark, marks[mark_index].accrued
            mark_index += 1
        history.append(
            HistoryPoint(
                date=day,
                balance=balance,
                cumulative_net=cumulative_net,
                high_water_mark=hwm,
                share_accrued=quantize_money(accrued + rate * max(cumulative_net - hwm, ZERO)),
            )
        )
    return history


def sparklines(bot_ids: Iterable[Any], today: date | None = None) -> dict[Any, list[dict]]:
    """Per bot id: ``[{"date", "return_percentage"}]`` over its last SPARKLINE_DAYS days."""
    bot_ids = list(bot_ids)
    if not bot_ids:
        return {}
    today = today or local_day(timezone.now())
    rows = (
        ManagedBotDailyPoint.objects.filter(
            performance__managed_bot__in=bot_ids,
            performance__subscription__status__in=[s.value for s in ACCESS_STATUSES],
            date__gt=today - timedelta(days=SPARKLINE_DAYS),
            date__lte=today,
        )
        .values_list("performance__managed_bot", "date")
        .annotate(net=Sum("cumulative_net"), invested=Sum("performance__initial_investment"))
        .order_by("performance__managed_bot", "date")
    )
    series: dict[Any, list[dict]] = defaultdict(list)
    for bot_id, day, net, invested in rows:
        if invested:
            percentage = (net * 100 / invested).quantize(Decimal("0.01"))
            series[bot_id].append({"date": day, "return_percentage": percentage})
    return series
