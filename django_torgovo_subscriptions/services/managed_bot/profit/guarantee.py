"""
The plan's guaranteed monthly return, and its shortfall.

The guarantee is simple, not compounded: ``guaranteed_monthly_return`` percent
of the initial investment for each whole calendar month since the investment
started (``orders_since``, else the row's creation), rounded to 0.01. The
shortfall is what the cumulative realized net profit lacks of it, never
negative, and 0 before the first whole month.

The package measures and records the shortfall, and signals it
(``managed_guarantee_shortfall``, sent by ``settled``); it never pays it:
compensating the investor is the host's decision and the host's money.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.periods import months_between
from django_torgovo_subscriptions.services.managed_bot.profit.share import ZERO, quantize_money


@dataclass(frozen=True)
class Guarantee:
    """The guarantee at one moment: what it promised so far and what is missing."""

    months: int  # whole calendar months since the investment started
    guaranteed: Decimal  # 0.01
    shortfall: Decimal  # 0.01, never negative


def guarantee_at(
    performance: ManagedBotPerformance, moment: datetime, net_profit: Decimal
) -> Guarantee | None:
    """The guarantee at ``moment`` given the cumulative net profit then; None without one."""
    monthly = performance.subscription.plan.guaranteed_monthly_return
    if not monthly:
        return None
    started = performance.orders_since or performance.created_at
    months = max(months_between(started, moment), 0)
    guaranteed = quantize_money(performance.initial_investment * monthly / 100 * months)
    shortfall = max(guaranteed - net_profit, ZERO) if months > 0 else ZERO
    return Guarantee(months=months, guaranteed=guaranteed, shortfall=quantize_money(shortfall))
