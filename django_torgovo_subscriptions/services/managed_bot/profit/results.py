"""
What the profit functions return, and the errors they raise.

``Recalculation`` (one ``recalculate``), ``RecalculationSummary``
(``recalculate_all``), ``Settlement`` (``settle_period``, ``settle_on_exit``)
and ``PerformanceSummary`` (``performance_summary``) are plain dataclasses;
``ProfitError`` and its ``PeriodNotOver`` are what those refuse with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.services.managed_bot.profit.share import ShareStep


class ProfitError(Exception):
    """A profit operation that cannot be done as asked."""


class PeriodNotOver(ProfitError):
    """The period to settle has not ended yet (or ended less than PROFIT_ORDER_DELAY ago)."""


@dataclass(frozen=True)
class Recalculation:
    """What one recalculation did."""

    performance_id: int
    orders_read: int  # executed orders read in this run
    rebuilt: bool  # replayed from the first order
    reason: str  # "incremental", "full" or "late fill"
    until: datetime  # every order before this moment is now counted
    seconds: float


@dataclass(frozen=True)
class Settlement:
    """One settlement of the profit share (a month, or the final one on exit)."""

    performance_id: int
    period_start: datetime | None  # the previous settlement point, None for the first
    period_end: datetime  # profit realized before this moment is settled
    net_profit: Decimal  # cumulative realized net profit at period_end (0.01)
    period_net_profit: Decimal  # net_profit less the one at the previous settlement
    rate: Decimal
    high_water_mark_before: Decimal
    high_water_mark: Decimal
    amount: Decimal  # the share charged now (0.01, >= 0), added to profit_share_due
    final: bool = False  # settle_on_exit
    already_settled: bool = False  # nothing to do: this point was settled before

    @classmethod
    def from_step(
        cls,
        row: ManagedBotPerformance,
        start: datetime | None,
        end: datetime,
        step: ShareStep,
        previous_net: Decimal,
        final: bool,
    ) -> Settlement:
        return cls(
            performance_id=row.pk,
            period_start=start,
            period_end=end,
            net_profit=step.net_profit,
            period_net_profit=step.net_profit - previous_net,
            rate=step.rate,
            high_water_mark_before=step.high_water_mark_before,
            high_water_mark=step.high_water_mark,
            amount=step.amount,
            final=final,
        )


@dataclass(frozen=True)
class PerformanceSummary:
    """The figures a subscriber sees (the performance endpoint serializes this)."""

    performance_id: int
    initial_investment: Decimal
    current_balance: Decimal
    realized_pnl: Decimal
    total_profit: Decimal
    total_loss: Decimal
    fees_paid: Decimal
    open_quantity: Decimal
    open_cost: Decimal
    profit_share_rate: Decimal
    high_water_mark: Decimal
    profit_share_accruing: Decimal  # what settling now would charge (an estimate)
    profit_share_due: Decimal
    profit_share_paid: Decimal
    settled_until: datetime | None
    calculated_until: datetime | None
    last_calculated: datetime | None
    closed_at: datetime | None


@dataclass
class RecalculationSummary:
    """The outcome of ``recalculate_all``."""

    performances: int = 0
    rebuilt: int = 0
    orders_read: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
