"""
Recalculation: a performance's realized FIFO P&L, brought up to date from the host's Orders.

The ledger (``fifo.ProfitLedger``) is stored on the row: open lots, totals,
realized net per month, and a cursor (``created_at``, pk) after the last order
counted. An incremental run streams only the executed orders after the cursor
and before its horizon (now less PROFIT_ORDER_DELAY, never past
``closed_at``); ``full=True`` replays every order since ``orders_since``.
Orders the cursor passed while neither executed nor failed are remembered and
re-checked for PROFIT_PENDING_ORDER_DAYS: one that turns executed has changed
FIFO order, so the run replays from the start (``reason="late fill"``).
The closing figures of each day are written as daily points
(``daily.write_points``). Settlement state (high-water mark, shares) is never
touched here. Rows are changed under ``locking.locked``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone

from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.periods import DayKeys
from django_torgovo_subscriptions.services.managed_bot.profit import daily
from django_torgovo_subscriptions.services.managed_bot.profit.config import (
    chunk_size,
    order_delay,
    pending_window,
)
from django_torgovo_subscriptions.services.managed_bot.profit.fifo import (
    BUY,
    SELL,
    ZERO,
    ProfitLedger,
)
from django_torgovo_subscriptions.services.managed_bot.profit.locking import locked
from django_torgovo_subscriptions.services.managed_bot.profit.orders import Cursor, OrderColumns
from django_torgovo_subscriptions.services.managed_bot.profit.results import (
    Recalculation,
    RecalculationSummary,
)
from django_torgovo_subscriptions.services.managed_bot.profit.share import quantize_money

logger = logging.getLogger(__name__)

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
) -> tuple[int, Cursor | None, dict[date, Decimal]]:
    """Apply the executed orders of ``queryset`` to ``ledger``.

    Returns the count, the last cursor, and the exact cumulative net at the
    close of each day orders were read of (for ``daily.write_points``)."""
    buy, sell = columns.buy, columns.sell
    fee_at = 5 if columns.fee else None
    filled_at = (6 if columns.fee else 5) if columns.filled_quantity else None
    days = DayKeys()
    closes: dict[date, Decimal] = {}
    last: list[Any] = [None]
    today: list[date | None] = [None]  # the day of the order being applied
    count = [0]

    def rows() -> Iterator[tuple[str | None, Decimal, Decimal, Decimal | None, str]]:
        row = None
        for row in columns.stream_fills(queryset, chunk_size()):
            day, month = days(row[1])
            if day != today[0]:
                # Every order before this one has been applied: the day before closed.
                if today[0] is not None:
                    closes[today[0]] = ledger.net
                today[0] = day
            stored_side = row[2]
            side = BUY if stored_side == buy else SELL if stored_side == sell else None
            quantity = row[3]
            if filled_at is not None and row[filled_at] is not None:
                quantity = row[filled_at]
            count[0] += 1
            yield side, quantity, row[4], row[fee_at] if fee_at else None, month
        last[0] = row

    ledger.apply_rows(rows())
    if today[0] is not None:
        closes[today[0]] = ledger.net
    cursor = Cursor(last[0][1], str(last[0][0])) if last[0] is not None else None
    return count[0], cursor, closes


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


def recalculate_locked(
    row: ManagedBotPerformance, *, full: bool, until: datetime | None, now: datetime
) -> Recalculation:
    """``recalculate`` on a row the caller holds locked (settlement calls it too)."""
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

    rebuilt = reason != "incremental"
    opening_net = ledger.net
    window = columns.window(orders, after=cursor, since=row.orders_since, until=horizon)
    count, last, closes = _stream(ledger, columns, window)
    pending = _scan_pending(columns, window, pending, horizon)
    through = daily.write_points(
        row,
        closes,
        opening_net=opening_net,
        through=daily.points_through(row.pnl_state),
        horizon=horizon,
        rebuilt=rebuilt,
    )

    if last is not None:
        row.last_order_at, row.last_order_pk = last.created_at, last.pk
    elif cursor is None:
        row.last_order_at, row.last_order_pk = None, ""
    row.open_lots = ledger.lots_state()
    row.pnl_state = {
        **ledger.totals_state(),
        "pending": dict(sorted(pending.items())),
        daily.STATE_KEY: through.isoformat() if through else None,
    }
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
        rebuilt=rebuilt,
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

    The ledger is the user's and the bot's, not one subscription's: when the
    user has invested in the bot before, their latest row is re-attached to
    ``subscription`` and reopened with the new investment, keeping its lots,
    cursor, high-water mark and shares (``orders_since`` is not moved).
    """
    previous = (
        ManagedBotPerformance.objects.filter(user=user, managed_bot=managed_bot)
        .order_by("-created_at", "-pk")
        .first()
    )
    if previous is not None:
        return _reattach(previous, subscription, initial_investment)
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


def _reattach(
    performance: ManagedBotPerformance, subscription: Any, initial_investment: Decimal
) -> ManagedBotPerformance:
    with locked(performance) as row:
        row.subscription = subscription
        row.closed_at = None
        row.initial_investment = initial_investment
        row.current_balance = Decimal(initial_investment) + row.realized_pnl
        row.save(
            update_fields=["subscription", "closed_at", "initial_investment", "current_balance"]
        )
    return performance


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
    with locked(performance) as row:
        return recalculate_locked(row, full=full, until=until, now=timezone.now())


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
