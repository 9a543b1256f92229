"""
A managed signal, traded for every investor of the bot.

The operator (a host strategy through ``fan_out()``, or the operator webhook)
sends one signal: a side, a symbol, a reference ``price`` and a ``fraction``
(0 < fraction <= 1). Each investor of the bot then gets one trade through the
configured TradingManager, as themselves (so with their own exchange
credentials), of::

    quantity = allocation x fraction / price     (rounded down to 8 decimals)

where the allocation is the investor's ``current_balance`` once the profit
ledger has been calculated, else their ``initial_investment``. The manager
applies the exchange's precision and minimums; the host Order is written with
source "managed".

Every investor of the bot (each performance row not closed) gets exactly one
``ManagedTrade`` per signal, unique per (signal, investor): executed (with the
Order's id), failed (with the manager's reason code) or skipped (the reason
from ``eligibility.investor_skip_reason``). A chunk's rows are claimed in one
insert before any of its trades is placed, so a retried signal, a second
delivery of its Celery task or a concurrent copy never trades twice for
anyone; each trade's Order and outcome are then saved in one transaction. A
row left ``pending`` by a crash is never retried (the trade may have been
placed). One investor's failure, whatever it is, is recorded on their row and
the others go on.

Investors are read in primary-key order, MANAGED_CHUNK_SIZE at a time, so
memory does not grow with their number. MANAGED_EXECUTION chooses where the
chunks are traded: in the caller's process ("inline") or by the Celery task
``fan_out_managed_chunk``, one task per chunk ("celery", see ``fanout_celery``);
when the broker cannot be reached the chunks are traded inline instead.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import InvalidManagedSignal, ManagedSignalConflict
from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import (
    ManagedBotPerformance,
    ManagedSignal,
    ManagedSignalSource,
    ManagedTrade,
    ManagedTradeOutcome,
    WebhookEvent,
    WebhookOutcome,
)
from django_torgovo_subscriptions.services.execution import OrderNotSaved, place_trade, save_order
from django_torgovo_subscriptions.services.managed_bot.eligibility import investor_skip_reason
from django_torgovo_subscriptions.services.transactions import savepoint_if_in_transaction
from django_torgovo_subscriptions.trading.base import TradeSignal

logger = logging.getLogger(__name__)

SIDES = ("buy", "sell")
QUANTITY_STEP = Decimal("0.00000001")
NO_ALLOCATION = "no_allocation"
FANOUT_ERROR = "fanout_error"
MAX_SIGNAL_ID_LENGTH = 100


@dataclass(frozen=True)
class FanOut:
    """A signal and where its trades stand: counts by outcome, and whether they are queued."""

    signal: ManagedSignal
    counts: dict[str, int]
    queued: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"managed_signal_id": self.signal.pk, "queued": self.queued, **self.counts}


# --- the sizing rule ---------------------------------------------------------


def allocation_of(performance: ManagedBotPerformance) -> Decimal:
    """What a signal's fraction is taken of: the balance once calculated, else the investment."""
    if performance.last_calculated is not None:
        return performance.current_balance
    return performance.initial_investment


def quantity_for(allocation: Decimal, fraction: Decimal, price: Decimal) -> Decimal:
    """allocation x fraction / price, rounded down so no investor spends more than that."""
    return (allocation * fraction / price).quantize(QUANTITY_STEP, rounding=ROUND_DOWN)


def checked_size(side: str, fraction: Any, price: Any) -> tuple[str, Decimal, Decimal]:
    side = str(side).strip().lower()
    if side not in SIDES:
        raise InvalidManagedSignal(
            f"'side' must be buy or sell, not {side!r}.", code="invalid_side"
        )
    try:
        fraction, price = Decimal(str(fraction)), Decimal(str(price))
    except ArithmeticError:
        raise InvalidManagedSignal("'fraction' and 'price' must be numbers.") from None
    if not (fraction.is_finite() and 0 < fraction <= 1):
        raise InvalidManagedSignal(
            f"'fraction' must be greater than 0 and at most 1, not {fraction}.",
            code="invalid_fraction",
        )
    if not (price.is_finite() and price > 0):
        raise InvalidManagedSignal(
            f"'price' must be greater than zero, not {price}.", code="invalid_price"
        )
    return side, fraction, price


# --- recording the signal ----------------------------------------------------


def record_signal(
    managed_bot: Any,
    *,
    side: str,
    fraction: Any,
    price: Any,
    signal_id: str,
    symbol: str | None = None,
    source: str = ManagedSignalSource.FUNCTION,
    webhook_event: WebhookEvent | None = None,
) -> ManagedSignal:
    """The bot's signal under ``signal_id``: created, or the earlier one if it is the same trade.

    Raises ``ManagedSignalConflict`` when the id was used for a different side,
    fraction or price."""
    side, fraction, price = checked_size(side, fraction, price)
    signal_id = str(signal_id).strip()
    if not signal_id or len(signal_id) > MAX_SIGNAL_ID_LENGTH:
        raise InvalidManagedSignal(
            f"'signal_id' must be 1 to {MAX_SIGNAL_ID_LENGTH} characters.", code="invalid_signal_id"
        )
    if symbol is None:
        symbol = get_host_adapter().pair_config_value(managed_bot, "symbol") or ""
    signal = ManagedSignal(
        managed_bot=managed_bot,
        signal_id=signal_id,
        side=side,
        symbol=symbol,
        fraction=fraction,
        price=price,
        source=source,
        webhook_event=webhook_event,
    )
    try:
        with savepoint_if_in_transaction():
            signal.save(force_insert=True)
        return signal
    except IntegrityError:
        earlier = ManagedSignal.objects.get(managed_bot=managed_bot, signal_id=signal_id)
    if (earlier.side, earlier.fraction, earlier.price) != (side, fraction, price):
        raise ManagedSignalConflict(
            f"Signal {signal_id!r} was already sent as {earlier.side} {earlier.fraction} "
            f"at {earlier.price}; send a new signal id for a new trade."
        )
    earlier.managed_bot = managed_bot
    return earlier


def fan_out(
    managed_bot: Any,
    side: str,
    fraction: Any,
    *,
    price: Any,
    signal_id: str,
    symbol: str | None = None,
) -> FanOut:
    """
    Trade ``fraction`` of each investor's allocation in ``managed_bot`` (see the
    module docstring). Sending the same ``signal_id`` again trades only for
    investors the signal has no record for yet (none, once it completed).
    """
    signal = record_signal(
        managed_bot, side=side, fraction=fraction, price=price, signal_id=signal_id, symbol=symbol
    )
    return dispatch(signal)


def dispatch(signal: ManagedSignal) -> FanOut:
    """Trade the signal for its investors, inline or as Celery tasks (MANAGED_EXECUTION)."""
    if subscriptions_settings.MANAGED_EXECUTION == "celery" and queued(signal):
        return FanOut(signal, trade_counts(signal), queued=True)
    for chunk in investor_chunks(signal):
        trade_chunk(signal, chunk)
    complete(signal)
    return FanOut(signal, trade_counts(signal))


def queued(signal: ManagedSignal) -> bool:
    from django_torgovo_subscriptions.services.managed_bot.fanout_celery import enqueue_chunks

    return enqueue_chunks(signal)


# --- investors -----------------------------------------------------------------


def investors(signal: ManagedSignal) -> Any:
    """The bot's investors this signal has no record for yet, in primary-key order."""
    return (
        ManagedBotPerformance.objects.filter(managed_bot_id=signal.managed_bot_id, closed_at=None)
        .exclude(managed_trades__signal=signal)
        .order_by("pk")
    )


def investor_chunks(signal: ManagedSignal) -> Iterator[list[ManagedBotPerformance]]:
    """Those investors with their user and subscription, a chunk per query (keyset)."""
    size = subscriptions_settings.MANAGED_CHUNK_SIZE
    queryset = investors(signal).select_related("user", "subscription")
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        chunk = list(page[:size])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk


def trade_chunk(signal: ManagedSignal, performances: list[ManagedBotPerformance]) -> None:
    """Claim the chunk's rows in one insert (skips recorded as they are), then place the
    claimed trades one by one; a row another run holds already is left to it."""
    now = timezone.now()
    token = uuid.uuid4().hex
    rows = [claim_row(signal, performance, now, token) for performance in performances]
    ManagedTrade.objects.bulk_create(rows, ignore_conflicts=True)
    ours = dict(
        ManagedTrade.objects.filter(
            signal=signal, claim_token=token, outcome=ManagedTradeOutcome.PENDING
        ).values_list("performance_id", "pk")
    )
    for performance, row in zip(performances, rows, strict=True):
        if performance.pk not in ours:
            continue
        row.pk = ours[performance.pk]
        try:
            place_for_investor(signal, performance, row)
        except Exception as exc:  # never let one investor stop the others
            logger.exception(
                "Managed signal %s: trading for performance %s failed.", signal.pk, performance.pk
            )
            record_failure(row, exc)


# --- one investor ----------------------------------------------------------------


def claim_row(
    signal: ManagedSignal, performance: ManagedBotPerformance, now: datetime, token: str
) -> ManagedTrade:
    """The investor's row for this signal: skipped with its reason, or pending (claimed)."""
    reason = investor_skip_reason(performance, now)
    allocation = allocation_of(performance)
    quantity = quantity_for(allocation, signal.fraction, signal.price)
    if reason is None and quantity <= 0:
        reason = NO_ALLOCATION
    return ManagedTrade(
        signal=signal,
        performance=performance,
        outcome=ManagedTradeOutcome.PENDING if reason is None else ManagedTradeOutcome.SKIPPED,
        code=reason or "",
        allocation=allocation,
        quantity=Decimal(0) if reason else quantity,
        finished_at=now if reason else None,
        claim_token=token,
    )


def place_for_investor(
    signal: ManagedSignal, performance: ManagedBotPerformance, trade: ManagedTrade
) -> None:
    """Place the claimed trade as the investor, then save its Order and outcome together."""
    order_signal = TradeSignal(
        side=signal.side,  # type: ignore[arg-type]
        symbol=signal.symbol,
        quantity=trade.quantity,
        price=signal.price,
        client_order_id=f"mb{signal.pk}-{performance.pk}",
        source="managed",
        extra={"managed_signal": signal.signal_id},
    )
    user, bot = performance.user, signal.managed_bot
    result = place_trade(user, bot, order_signal)
    outcome = ManagedTradeOutcome.EXECUTED if result.executed else ManagedTradeOutcome.FAILED
    fields = {
        "outcome": outcome,
        "code": "" if result.executed else (result.error_code or "execution_failed"),
        "error": result.error_message[:2000],
    }
    try:
        with transaction.atomic():  # one commit: the Order and the record that points at it
            order = save_order(user, bot, order_signal, result)
            fields["order_id"] = "" if order is None else str(order.pk)
            finish(trade, **fields)
    except OrderNotSaved as exc:
        cause = exc.__cause__
        logger.exception("Managed signal %s: the trade's Order could not be saved.", signal.pk)
        fields["order_id"] = ""
        finish(
            trade,
            **{
                **fields,
                "outcome": ManagedTradeOutcome.FAILED,
                "code": "order_not_saved",
                "error": f"The trade's Order could not be saved ({result.status} "
                f"{result.external_id}): {cause.__class__.__name__}: {cause}"[:2000],
            },
        )


def finish(trade: ManagedTrade, **fields: Any) -> None:
    fields["finished_at"] = timezone.now()
    ManagedTrade.objects.filter(pk=trade.pk).update(**fields)
    for name, value in fields.items():
        setattr(trade, name, value)


def record_failure(trade: ManagedTrade, exc: Exception) -> None:
    """Record an unexpected error on the investor's claimed row; never raises."""
    try:
        ManagedTrade.objects.filter(pk=trade.pk, outcome=ManagedTradeOutcome.PENDING).update(
            outcome=ManagedTradeOutcome.FAILED,
            code=FANOUT_ERROR,
            error=f"{exc.__class__.__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )
    except Exception:
        logger.exception("Managed signal %s: the failure could not be recorded.", trade.signal_id)


# --- completion ------------------------------------------------------------------


def trade_counts(signal: ManagedSignal) -> dict[str, int]:
    counts = dict.fromkeys(ManagedTradeOutcome.values, 0)
    rows = signal.trades.values_list("outcome").annotate(n=Count("pk")).order_by()
    counts.update(dict(rows))
    return counts


def complete(signal: ManagedSignal) -> None:
    """Mark the signal complete (once) and finish the webhook event that sent it, if any."""
    if signal.completed_at is not None:  # a signal sent again after it completed
        return
    now = timezone.now()
    with transaction.atomic():  # whoever sees the signal complete sees its event finished
        if not ManagedSignal.objects.filter(pk=signal.pk, completed_at=None).update(
            completed_at=now
        ):
            return
        signal.completed_at = now
        if signal.webhook_event_id is not None:
            finish_event(signal, now)


def finish_event(signal: ManagedSignal, now: datetime) -> None:
    event = WebhookEvent.objects.only("received_at", "status_code").get(pk=signal.webhook_event_id)
    WebhookEvent.objects.filter(pk=event.pk).update(
        outcome=WebhookOutcome.EXECUTED,
        execution=FanOut(signal, trade_counts(signal)).as_json(),
        processed_at=now,
        duration_ms=int((now - event.received_at).total_seconds() * 1000),
        status_code=event.status_code or 200,
    )
