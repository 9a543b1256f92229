"""Runs a trade signal through the configured TradingManager and records the Order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from django_torgovo_subscriptions.trading.base import TradeResult, TradeSignal, get_trading_manager
from django_torgovo_subscriptions.trading.orders import OrderWriter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Execution:
    """The outcome of one signal: the manager's result and the host Order saved for it."""

    result: TradeResult
    order: Any


def execute_signal(user: Any, pair_config: Any, signal: TradeSignal) -> Execution:
    """
    Place ``signal`` for ``user`` on ``pair_config`` and save a host Order.

    Never raises for a trading failure: an exception from the manager becomes a
    failed result (code ``execution_error``) and a failed Order, so the trade is
    on record either way.
    """
    manager = get_trading_manager()
    try:
        manager.create_bot(user, pair_config)
        result = manager.start_bot(user, pair_config, signal=signal)
    except Exception as exc:  # the host's code: any failure is a failed trade
        logger.exception("Trading manager failed for %s %s", signal.side, signal.symbol)
        result = TradeResult.failure("execution_error", f"{exc.__class__.__name__}: {exc}")
    with transaction.atomic():
        order = OrderWriter().write(user, pair_config, signal, result)
    return Execution(result=result, order=order)
