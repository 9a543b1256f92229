"""
The record of each settlement point, and the guarantee's shortfall there.

``record_period`` is called by the settlement, under the performance's row
lock, once per settlement point it settles (a settlement already made returns
before it). It stores a ``ManagedBotSettledPeriod``: the cumulative net
profit, the high-water mark, the exact share accrued and the amount charged,
and, when the plan guarantees a monthly return, what the guarantee promised
up to that point, the shortfall, and the part of it that is new (above the
largest shortfall of the earlier periods). A shortfall sends
``signals.managed_guarantee_shortfall`` in the same transaction.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Max

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.models import ManagedBotPerformance, ManagedBotSettledPeriod
from django_torgovo_subscriptions.periods import month_key
from django_torgovo_subscriptions.services.managed_bot.profit.guarantee import guarantee_at
from django_torgovo_subscriptions.services.managed_bot.profit.results import Settlement
from django_torgovo_subscriptions.services.managed_bot.profit.share import ZERO


def record_period(row: ManagedBotPerformance, settlement: Settlement) -> ManagedBotSettledPeriod:
    """Store what ``settlement`` settled on ``row`` (saved), and signal a shortfall."""
    guarantee = guarantee_at(row, settlement.period_end, settlement.net_profit)
    new_shortfall = None
    if guarantee is not None:
        earlier = ManagedBotSettledPeriod.objects.filter(performance=row).aggregate(
            largest=Max("guarantee_shortfall")
        )["largest"]
        new_shortfall = max(guarantee.shortfall - (earlier or ZERO), ZERO)
    period = ManagedBotSettledPeriod.objects.create(
        performance=row,
        # A month's end settles the month before it; an exit, its own month.
        month=month_key(settlement.period_end - timedelta(microseconds=1)),
        period_start=settlement.period_start,
        period_end=settlement.period_end,
        final=settlement.final,
        net_profit=settlement.net_profit,
        period_net_profit=settlement.period_net_profit,
        high_water_mark=settlement.high_water_mark,
        profit_share_accrued=row.profit_share_accrued,
        amount=settlement.amount,
        guaranteed_return=guarantee.guaranteed if guarantee else None,
        guarantee_shortfall=guarantee.shortfall if guarantee else None,
        guarantee_shortfall_new=new_shortfall,
    )
    if guarantee is not None and guarantee.shortfall > 0:
        signals.managed_guarantee_shortfall.send(
            sender=ManagedBotSettledPeriod,
            performance=row,
            settled_period=period,
            shortfall=guarantee.shortfall,
            new_shortfall=new_shortfall,
        )
    return period
