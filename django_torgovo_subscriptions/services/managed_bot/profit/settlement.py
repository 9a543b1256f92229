"""
Settlement: the profit share charged at a settlement point, and its payment.

A settlement point is a month's end in the project's TIME_ZONE
(``settle_period``) or the moment a subscriber leaves (``settle_on_exit``).
The ledger is first recalculated to exactly that point; then the
high-water-mark rule (``share.settle_share``) is applied to the cumulative
realized net profit there, and the share is added to ``profit_share_due``.
Settling a point at or before ``settled_until``, or a closed performance,
changes nothing (``already_settled=True``). Each settlement made is recorded
as a ``ManagedBotSettledPeriod`` with the guarantee's shortfall
(``settled.record_period``). A share above zero is recorded, in the same
transaction, as a pending profit-share ``Payment`` for exactly that amount
(``services.managed_bot.charges`` charges it through the gateway).
``record_profit_share_payment``, called only by the handler of a verified
paid event, moves an amount paid from ``profit_share_due`` to
``profit_share_paid``, and
``performance_summary`` shows what settling now would charge. Rows are changed
under ``locking.locked``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from django_torgovo_subscriptions.models import ManagedBotPerformance, Payment, PaymentKind
from django_torgovo_subscriptions.periods import is_month_start, month_bounds, month_key
from django_torgovo_subscriptions.services.gateways import gateway_name_for
from django_torgovo_subscriptions.services.managed_bot.profit.config import order_delay
from django_torgovo_subscriptions.services.managed_bot.profit.fifo import ZERO
from django_torgovo_subscriptions.services.managed_bot.profit.locking import locked
from django_torgovo_subscriptions.services.managed_bot.profit.recalculation import (
    ledger_of,
    recalculate_locked,
)
from django_torgovo_subscriptions.services.managed_bot.profit.results import (
    PerformanceSummary,
    PeriodNotOver,
    ProfitError,
    Settlement,
)
from django_torgovo_subscriptions.services.managed_bot.profit.settled import record_period
from django_torgovo_subscriptions.services.managed_bot.profit.share import (
    quantize_money,
    rate_from_percentage,
    settle_share,
)


def plan_rate(performance: ManagedBotPerformance) -> Decimal:
    """The profit share rate of the performance's plan (20.00 % -> 0.2)."""
    return rate_from_percentage(performance.subscription.plan.profit_share_percentage)


def _settle(
    performance: ManagedBotPerformance,
    point: datetime,
    *,
    rate: Decimal | None,
    final: bool,
) -> Settlement:
    now = timezone.now()
    with locked(performance) as row:
        if rate is None:
            rate = plan_rate(row)
        if row.closed_at is not None or (
            row.settled_until is not None and point <= row.settled_until
        ):
            return _already_settled(row, point, rate, final)
        return _settle_locked(row, point, rate=rate, final=final, now=now)


def _already_settled(
    row: ManagedBotPerformance, point: datetime, rate: Decimal, final: bool
) -> Settlement:
    return Settlement(
        performance_id=row.pk,
        period_start=row.settled_until,
        period_end=point,
        net_profit=row.settled_net_profit,
        period_net_profit=ZERO,
        rate=rate,
        high_water_mark_before=row.high_water_mark,
        high_water_mark=row.high_water_mark,
        amount=ZERO,
        final=final,
        already_settled=True,
    )


def _settle_locked(
    row: ManagedBotPerformance, point: datetime, *, rate: Decimal, final: bool, now: datetime
) -> Settlement:
    # Bring the ledger exactly to the settlement point.
    if row.calculated_until is None or row.calculated_until < point:
        recalculate_locked(row, full=False, until=point, now=now)
    elif final and row.calculated_until > point:
        recalculate_locked(row, full=True, until=point, now=now)
    ledger = ledger_of(row)
    # The ledger now reaches the point exactly, or (a month end) reaches past it
    # and the monthly figures tell what was realized before it.
    net = ledger.net_before(month_key(point)) if is_month_start(point) else ledger.net

    step = settle_share(
        net,
        rate=rate,
        high_water_mark=row.high_water_mark,
        accrued=row.profit_share_accrued,
        charged=row.profit_share_charged,
    )
    settlement = Settlement.from_step(
        row, row.settled_until, point, step, row.settled_net_profit, final
    )
    row.high_water_mark = step.high_water_mark
    row.profit_share_accrued = step.accrued
    row.profit_share_due += step.amount
    row.settled_until = point
    row.settled_net_profit = step.net_profit
    update = [
        "high_water_mark",
        "profit_share_accrued",
        "profit_share_due",
        "settled_until",
        "settled_net_profit",
    ]
    if final:
        row.closed_at = point
        update.append("closed_at")
    row.save(update_fields=update)
    record_period(row, settlement)
    if step.amount > 0:
        _record_charge(row, settlement)
    return settlement


def _record_charge(row: ManagedBotPerformance, settlement: Settlement) -> Payment:
    """
    The share that became due, as a pending profit-share ``Payment``, written
    with the settlement under the row's lock: one per performance and
    settlement point. ``services.managed_bot.charges`` hands it to the
    gateway once the settlement is committed: the user's own gateway (the one
    the subscription pays through, else the default), named even when it is no
    longer configured, so the share is owed and the charge reports the error.
    """
    point = settlement.period_end
    month_end = is_month_start(point) and not settlement.final
    return Payment.objects.create(
        kind=PaymentKind.PROFIT_SHARE,
        user_id=row.user_id,
        subscription_id=row.subscription_id,
        managed_bot_performance=row,
        gateway=gateway_name_for(row.subscription),
        amount=settlement.amount,
        currency=row.subscription.plan.currency,
        billing_reason="profit_share",
        profit_share_month=month_key(point - timedelta(microseconds=1) if month_end else point),
        period_start=settlement.period_start,
        period_end=point,
    )


def settle_period(
    performance: ManagedBotPerformance,
    year: int,
    month: int,
    *,
    rate: Decimal | None = None,
) -> Settlement:
    """Settle the profit share for a calendar month (in the project's TIME_ZONE).

    Recalculates up to the month's end, applies the high-water-mark rule to
    the cumulative realized net profit at that moment, adds the share to
    ``profit_share_due`` and advances the high-water mark. Settling a month
    that is already settled (or any earlier one) changes nothing and returns
    ``already_settled=True``. A skipped month is covered by the next one
    (the rule works on cumulative profit). ``rate`` defaults to the plan's
    ``profit_share_percentage`` / 100.

    Raises ``PeriodNotOver`` for a month that has not ended PROFIT_ORDER_DELAY ago.
    """
    _start, end = month_bounds(year, month)
    if end > timezone.now() - order_delay():
        raise PeriodNotOver(f"{year:04d}-{month:02d} has not ended yet.")
    return _settle(performance, end, rate=rate, final=False)


def settle_on_exit(
    performance: ManagedBotPerformance,
    *,
    at: datetime | None = None,
    rate: Decimal | None = None,
) -> Settlement:
    """Final settlement when the subscriber leaves; closes the performance.

    Counts every order before ``at`` (default now, no PROFIT_ORDER_DELAY: close
    the bot's position and let its orders land first), settles the share on the
    cumulative net profit above the high-water mark, and sets ``closed_at``:
    later orders never count and later settlements change nothing. Positions
    still open at ``at`` are not charged (only realized profit is). Calling it
    again returns ``already_settled=True``.
    """
    now = timezone.now()
    point = at or now
    if point > now:
        raise ProfitError("A subscriber cannot be settled in the future.")
    return _settle(performance, point, rate=rate, final=True)


def record_profit_share_payment(
    performance: ManagedBotPerformance, amount: Decimal
) -> ManagedBotPerformance:
    """Move ``amount`` from profit_share_due to profit_share_paid (the paid event's handler)."""
    amount = Decimal(amount)
    with locked(performance) as row:
        if amount <= 0 or amount != quantize_money(amount):
            raise ValueError("A profit share payment is a positive amount in cents.")
        if amount > row.profit_share_due:
            raise ProfitError(f"{amount} is more than the {row.profit_share_due} due.")
        row.profit_share_due -= amount
        row.profit_share_paid += amount
        row.save(update_fields=["profit_share_due", "profit_share_paid"])
    return performance


def performance_summary(
    performance: ManagedBotPerformance, *, rate: Decimal | None = None
) -> PerformanceSummary:
    """Read-only figures for display; no query besides the plan (for the rate)."""
    if rate is None:
        rate = plan_rate(performance)
    ledger = ledger_of(performance)
    if performance.closed_at is None:
        accruing = settle_share(
            ledger.net,
            rate=rate,
            high_water_mark=performance.high_water_mark,
            accrued=performance.profit_share_accrued,
            charged=performance.profit_share_charged,
        ).amount
    else:
        accruing = ZERO
    return PerformanceSummary(
        performance_id=performance.pk,
        initial_investment=performance.initial_investment,
        current_balance=performance.current_balance,
        realized_pnl=performance.realized_pnl,
        total_profit=performance.total_profit,
        total_loss=performance.total_loss,
        fees_paid=performance.fees_paid,
        open_quantity=ledger.open_quantity,
        open_cost=quantize_money(ledger.open_cost),
        profit_share_rate=rate,
        high_water_mark=performance.high_water_mark,
        profit_share_accruing=accruing,
        profit_share_due=performance.profit_share_due,
        profit_share_paid=performance.profit_share_paid,
        settled_until=performance.settled_until,
        calculated_until=performance.calculated_until,
        last_calculated=performance.last_calculated,
        closed_at=performance.closed_at,
    )
