"""
Profit of managed-bot subscribers: recalculation from host Orders and settlement.

Every function that changes a ``ManagedBotPerformance`` row does so inside a
transaction holding ``select_for_update`` on it, and re-reads the row under
the lock, so two concurrent runs never count an order twice or charge a share
twice. The instance passed in is updated in place with the saved values.

See docs/MANAGED_BOTS.md for the method and worked examples.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.services.managed_bot.profit.fifo import (
    BUY,
    SELL,
    ZERO,
    ProfitLedger,
)
from django_torgovo_subscriptions.services.managed_bot.profit.orders import Cursor, OrderColumns
from django_torgovo_subscriptions.services.managed_bot.profit.share import (
    ShareStep,
    quantize_money,
    rate_from_percentage,
    settle_share,
)

logger = logging.getLogger(__name__)


class ProfitError(Exception):
    """A profit operation that cannot be done as asked."""


class PeriodNotOver(ProfitError):
    """The period to settle has not ended yet (or ended less than PROFIT_ORDER_DELAY ago)."""


# --- results -------------------------------------------------------------------


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


# --- settings and time -------------------------------------------------------


def order_delay() -> timedelta:
    value = subscriptions_settings.PROFIT_ORDER_DELAY
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ImproperlyConfigured("PROFIT_ORDER_DELAY must be a number of seconds >= 0.")
    return timedelta(seconds=value)


def pending_window() -> timedelta:
    value = subscriptions_settings.PROFIT_PENDING_ORDER_DAYS
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ImproperlyConfigured("PROFIT_PENDING_ORDER_DAYS must be a number of days >= 0.")
    return timedelta(days=value)


def chunk_size() -> int:
    value = subscriptions_settings.PROFIT_CHUNK_SIZE
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ImproperlyConfigured("PROFIT_CHUNK_SIZE must be a positive integer.")
    return value


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """A calendar month in the project's TIME_ZONE: [start, end) as aware datetimes."""
    tz = timezone.get_default_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start, end


def month_key(moment: datetime) -> str:
    """ "YYYY-MM" of an aware datetime in the project's TIME_ZONE."""
    local = moment.astimezone(timezone.get_default_timezone())
    return f"{local.year:04d}-{local.month:02d}"


def is_month_start(moment: datetime) -> bool:
    local = moment.astimezone(timezone.get_default_timezone())
    return month_bounds(local.year, local.month)[0] == moment


class MonthKeys:
    """month_key() with the current month's bounds cached (one call per order)."""

    def __init__(self) -> None:
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.key = ""

    def __call__(self, moment: datetime) -> str:
        if self.start is not None and self.start <= moment < self.end:
            return self.key
        local = moment.astimezone(timezone.get_default_timezone())
        self.start, self.end = month_bounds(local.year, local.month)
        self.key = f"{local.year:04d}-{local.month:02d}"
        return self.key


# --- locking ---------------------------------------------------------------------


def _lock(performance: ManagedBotPerformance | int) -> ManagedBotPerformance:
    """Re-read the row FOR UPDATE (inside the caller's transaction)."""
    pk = performance.pk if isinstance(performance, ManagedBotPerformance) else performance
    return ManagedBotPerformance.objects.select_for_update().get(pk=pk)


def _copy_to(target: Any, row: ManagedBotPerformance) -> None:
    if isinstance(target, ManagedBotPerformance) and target is not row:
        for model_field in row._meta.concrete_fields:
            setattr(target, model_field.attname, getattr(row, model_field.attname))


# --- the ledger --------------------------------------------------------------------

LEDGER_FIELDS = (
    "open_lots",
    "pnl_state",
    "last_order_at",
    "last_order_pk",
    "calculated_until",
    "last_calculated",
    "total_profit",
    "total_loss",
    "realized_pnl",
    "fees_paid",
    "current_balance",
)


def ledger_of(performance: ManagedBotPerformance) -> ProfitLedger:
    """The exact ledger stored on a performance row."""
    return ProfitLedger.from_state(performance.open_lots, performance.pnl_state)


def _stream(
    ledger: ProfitLedger, columns: OrderColumns, queryset: models.QuerySet
) -> tuple[int, Cursor | None]:
    """Apply the executed orders of ``queryset`` to ``ledger``; (count, last cursor)."""
    buy, sell = columns.buy, columns.sell
    fee_at = 5 if columns.fee else None
    filled_at = (6 if columns.fee else 5) if columns.filled_quantity else None
    months = MonthKeys()
    last: list[Any] = [None]
    count = [0]

    def rows() -> Iterator[tuple[str | None, Decimal, Decimal, Decimal | None, str]]:
        row = None
        for row in columns.stream_fills(queryset, chunk_size()):
            stored_side = row[2]
            side = BUY if stored_side == buy else SELL if stored_side == sell else None
            quantity = row[3]
            if filled_at is not None and row[filled_at] is not None:
                quantity = row[filled_at]
            count[0] += 1
            yield side, quantity, row[4], row[fee_at] if fee_at else None, months(row[1])
        last[0] = row

    ledger.apply_rows(rows())
    cursor = Cursor(last[0][1], str(last[0][0])) if last[0] is not None else None
    return count[0], cursor


def _check_pending(
    columns: OrderColumns,
    orders: models.QuerySet,
    pending: dict[str, str],
    cursor: Cursor | None,
    until: datetime,
) -> tuple[dict[str, str], bool]:
    """Re-check orders seen pending; (still pending, True if one filled behind the cursor)."""
    if not pending:
        return {}, False
    keep: dict[str, str] = {}
    late = False
    oldest = until - pending_window()
    rows = orders.filter(pk__in=list(pending)).values_list("pk", columns.created_at, columns.status)
    for pk, created_at, status in rows.iterator(chunk_size=chunk_size()):
        if status == columns.executed:
            if cursor is not None and created_at <= cursor.created_at:
                late = True  # filled after the cursor passed it: replay
        elif status != columns.failed and created_at >= oldest:
            keep[str(pk)] = created_at.isoformat()
    return keep, late


def _scan_pending(
    columns: OrderColumns, window: models.QuerySet, pending: dict[str, str], until: datetime
) -> dict[str, str]:
    """Add the window's orders that are neither executed nor failed to ``pending``."""
    oldest = until - pending_window()
    rows = columns.not_final(window).values_list("pk", columns.created_at)
    for pk, created_at in rows.iterator(chunk_size=chunk_size()):
        if created_at >= oldest:
            pending[str(pk)] = created_at.isoformat()
    return pending


def _recalculate_locked(
    row: ManagedBotPerformance, *, full: bool, until: datetime | None, now: datetime
) -> Recalculation:
    started = time.perf_counter()
    columns = OrderColumns.from_settings()
    horizon = until if until is not None else now - order_delay()
    if row.closed_at is not None and horizon > row.closed_at:
        horizon = row.closed_at
    orders = columns.bot_orders(row)

    reason = "full" if full else "incremental"
    if full:
        ledger, cursor, pending = ProfitLedger(), None, {}
    else:
        if row.calculated_until is not None and horizon < row.calculated_until:
            horizon = row.calculated_until  # an incremental run never moves the ledger back
        ledger = ledger_of(row)
        cursor = Cursor(row.last_order_at, row.last_order_pk) if row.last_order_at else None
        pending, late = _check_pending(
            columns, orders, dict(row.pnl_state.get("pending", {})), cursor, horizon
        )
        if late:
            logger.info("Order filled behind the cursor of performance %s: rebuilding", row.pk)
            ledger, cursor, pending, reason = ProfitLedger(), None, {}, "late fill"

    window = columns.window(orders, after=cursor, since=row.orders_since, until=horizon)
    count, last = _stream(ledger, columns, window)
    pending = _scan_pending(columns, window, pending, horizon)

    if last is not None:
        row.last_order_at, row.last_order_pk = last.created_at, last.pk
    elif cursor is None:
        row.last_order_at, row.last_order_pk = None, ""
    row.open_lots = ledger.lots_state()
    row.pnl_state = {**ledger.totals_state(), "pending": dict(sorted(pending.items()))}
    row.calculated_until = horizon
    row.last_calculated = now
    _set_display_figures(row, ledger)
    row.save(update_fields=LEDGER_FIELDS)
    if ledger.excess_sell_quantity and count:
        logger.warning(
            "Performance %s: sells exceeded the open position by %s in total (excess ignored).",
            row.pk,
            ledger.excess_sell_quantity,
        )
    return Recalculation(
        performance_id=row.pk,
        orders_read=count,
        rebuilt=reason != "incremental",
        reason=reason,
        until=horizon,
        seconds=time.perf_counter() - started,
    )


def _set_display_figures(row: ManagedBotPerformance, ledger: ProfitLedger) -> None:
    row.total_profit = quantize_money(ledger.profit)
    row.total_loss = quantize_money(ledger.loss)
    row.realized_pnl = quantize_money(ledger.net)
    row.fees_paid = quantize_money(ledger.fees)
    row.current_balance = Decimal(row.initial_investment) + row.realized_pnl


# --- public API ----------------------------------------------------------------------


def open_performance(
    user: Any,
    subscription: Any,
    managed_bot: Any,
    *,
    initial_investment: Decimal = ZERO,
    orders_since: datetime | None = None,
) -> ManagedBotPerformance:
    """Start tracking a subscriber's investment in a managed bot.

    Only orders at or after ``orders_since`` count (default: the subscription's
    start date, else now), so a position held before subscribing is not charged.
    """
    if orders_since is None:
        orders_since = getattr(subscription, "start_date", None) or timezone.now()
    return ManagedBotPerformance.objects.create(
        user=user,
        subscription=subscription,
        managed_bot=managed_bot,
        initial_investment=initial_investment,
        current_balance=initial_investment,
        orders_since=orders_since,
    )


def recalculate(
    performance: ManagedBotPerformance,
    *,
    full: bool = False,
    until: datetime | None = None,
) -> Recalculation:
    """Bring the performance's realized P&L up to date from the host's Orders.

    Reads only the executed orders after the stored cursor (all of them with
    ``full=True``) and before ``until`` (default: now less PROFIT_ORDER_DELAY,
    never past ``closed_at``). Idempotent: a second run finds nothing new.
    A full rebuild gives the same figures as any sequence of incremental runs.
    An incremental run never moves the ledger backwards; ``full=True`` with an
    earlier ``until`` does. Settlement state (high-water mark, shares) is never
    touched.
    """
    with transaction.atomic():
        row = _lock(performance)
        result = _recalculate_locked(row, full=full, until=until, now=timezone.now())
    _copy_to(performance, row)
    return result


def recalculate_all(
    queryset: Iterable[ManagedBotPerformance] | None = None,
    *,
    full: bool = False,
    include_closed: bool = False,
    progress: Callable[[int, int, ManagedBotPerformance, Recalculation | Exception], None]
    | None = None,
) -> RecalculationSummary:
    """Recalculate many performances, each in its own transaction.

    A failure is logged, recorded in the summary and does not stop the others.
    ``progress(index, total, performance, result_or_exception)`` is called after each.
    """
    started = time.perf_counter()
    if queryset is None:
        queryset = ManagedBotPerformance.objects.all()
    if isinstance(queryset, models.QuerySet):
        if not include_closed:
            queryset = queryset.filter(closed_at__isnull=True)
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
    else:
        ids = [p.pk for p in queryset if include_closed or p.closed_at is None]
    summary = RecalculationSummary()
    for index, pk in enumerate(ids, start=1):
        performance = ManagedBotPerformance(pk=pk)
        outcome: Recalculation | Exception
        try:
            outcome = recalculate(performance, full=full)
        except Exception as exc:  # report and go on with the others
            logger.exception("Recalculating managed-bot performance %s failed", pk)
            summary.failed.append((pk, f"{exc.__class__.__name__}: {exc}"))
            outcome = exc
        else:
            summary.performances += 1
            summary.rebuilt += outcome.rebuilt
            summary.orders_read += outcome.orders_read
        if progress is not None:
            progress(index, len(ids), performance, outcome)
    summary.seconds = time.perf_counter() - started
    return summary


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
    with transaction.atomic():
        row = _lock(performance)
        if rate is None:
            rate = plan_rate(row)
        if row.closed_at is not None or (
            row.settled_until is not None and point <= row.settled_until
        ):
            settlement = _already_settled(row, point, rate, final)
        else:
            settlement = _settle_locked(row, point, rate=rate, final=final, now=now)
    _copy_to(performance, row)
    return settlement


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
        _recalculate_locked(row, full=False, until=point, now=now)
    elif final and row.calculated_until > point:
        _recalculate_locked(row, full=True, until=point, now=now)
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
    return settlement


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
    """Move ``amount`` from profit_share_due to profit_share_paid (billing calls this)."""
    amount = Decimal(amount)
    with transaction.atomic():
        row = _lock(performance)
        if amount <= 0 or amount != quantize_money(amount):
            raise ValueError("A profit share payment is a positive amount in cents.")
        if amount > row.profit_share_due:
            raise ProfitError(f"{amount} is more than the {row.profit_share_due} due.")
        row.profit_share_due -= amount
        row.profit_share_paid += amount
        row.save(update_fields=["profit_share_due", "profit_share_paid"])
    _copy_to(performance, row)
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
