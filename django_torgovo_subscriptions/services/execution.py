"""Runs a trade signal through the configured TradingManager and records the Order."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import OperationalError

from django_torgovo_subscriptions.services.transactions import savepoint_if_in_transaction
from django_torgovo_subscriptions.trading.base import TradeResult, TradeSignal, get_trading_manager
from django_torgovo_subscriptions.trading.orders import OrderWriter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Execution:
    """The outcome of one signal: the manager's result and the host Order saved for it."""

    result: TradeResult
    order: Any


class OrderNotSaved(Exception):
    """The trade ran but its host Order could not be saved; ``result`` says what happened
    (the exchange order id, the fill), so the caller can still record it. ``transient``:
    the database refused for now (a lock or statement timeout, a lost connection, a
    serialization failure), so the same write can succeed later."""

    def __init__(self, result: TradeResult, *, transient: bool = False) -> None:
        super().__init__("The trade's Order could not be saved.")
        self.result = result
        self.transient = transient


# TradeResult.raw of a failure made from the manager's exception: whether its order
# reached the exchange before it raised is unknown (see ``nothing_placed``).
MANAGER_RAISED = "manager_raised"


def nothing_placed(result: TradeResult) -> bool:
    """Whether ``result`` says for sure that no order reached the exchange: a failure
    the manager returned (an exception may come after the exchange filled)."""
    raised = isinstance(result.raw, dict) and result.raw.get(MANAGER_RAISED)
    return not result.executed and not raised


def execute_signal(user: Any, pair_config: Any, signal: TradeSignal) -> Execution:
    """
    Place ``signal`` for ``user`` on ``pair_config`` and save a host Order.

    Never raises for a trading failure: an exception from the manager becomes a
    failed result (code ``execution_error``) and a failed Order, so the trade is
    on record either way. If the host's Order table refuses the row, raises
    ``OrderNotSaved`` carrying the result, so a real fill is never forgotten.
    """
    result = place_trade(user, pair_config, signal)
    return Execution(result=result, order=save_order(user, pair_config, signal, result))


def place_trade(user: Any, pair_config: Any, signal: TradeSignal) -> TradeResult:
    """The configured manager's result for ``signal``; an exception from it is a failed
    result with code ``execution_error``."""
    manager = get_trading_manager()
    try:
        manager.create_bot(user, pair_config)
        return manager.start_bot(user, pair_config, signal=signal)
    except Exception as exc:  # the host's code: any failure is a failed trade
        logger.exception("Trading manager failed for %s %s", signal.side, signal.symbol)
        return TradeResult.failure(
            "execution_error", f"{exc.__class__.__name__}: {exc}", raw={MANAGER_RAISED: True}
        )


def save_order(user: Any, pair_config: Any, signal: TradeSignal, result: TradeResult) -> Any:
    """The trade's host Order, saved (or the one the manager saved); ``OrderNotSaved``
    when the host's table refuses it."""
    try:
        with savepoint_if_in_transaction():
            return OrderWriter().write(user, pair_config, signal, result)
    except Exception as exc:
        raise OrderNotSaved(result, transient=isinstance(exc, OperationalError)) from exc
