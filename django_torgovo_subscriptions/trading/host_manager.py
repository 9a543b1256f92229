"""
Adapter that lets a host's own TradingManager class be named directly.

A host manager keeps its own signatures (``start_bot(user, pair_config,
exchange=None, session_config=None)``) and may return an Order, a session id
or nothing. The adapter hands it the signal as a dict under the keyword the
host adapter's ``trading_manager_signal_argument()`` names
(``TRADING_MANAGER_SIGNAL_ARGUMENT`` by default), when ``start_bot`` accepts
it, and turns whatever comes back into a ``TradeResult``.
"""

from __future__ import annotations

import inspect
from decimal import Decimal
from typing import Any

from django_torgovo_subscriptions.host import get_host_adapter, get_order_model
from django_torgovo_subscriptions.trading.base import (
    EXECUTED,
    FAILED,
    BaseTradingManager,
    TradeResult,
    TradeSignal,
)


def accepts_keyword(func: Any, name: str) -> bool:
    """True when ``func`` can be called with the keyword argument ``name``."""
    try:
        parameters = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD
        or (p.name == name and p.kind is not inspect.Parameter.POSITIONAL_ONLY)
        for p in parameters
    )


class HostTradingManagerAdapter(BaseTradingManager):
    """Wraps an instance of the host's TradingManager."""

    def __init__(self, manager: Any) -> None:
        self.manager = manager

    def create_bot(self, user: Any, pair_config: Any) -> Any:
        return self.manager.create_bot(user, pair_config)

    def start_bot(self, user: Any, pair_config: Any, *, signal: TradeSignal) -> TradeResult:
        argument = get_host_adapter().trading_manager_signal_argument()
        kwargs = {}
        if argument and accepts_keyword(self.manager.start_bot, argument):
            kwargs[argument] = signal.as_dict()
        returned = self.manager.start_bot(user, pair_config, **kwargs)
        return self.to_result(returned, signal)

    def to_result(self, returned: Any, signal: TradeSignal) -> TradeResult:
        """Interpret what the host's ``start_bot`` returned."""
        if isinstance(returned, TradeResult):
            return returned
        if isinstance(returned, get_order_model()):
            return result_from_host_order(returned)
        if isinstance(returned, dict) and "status" in returned:
            known = TradeResult.__dataclass_fields__
            return TradeResult(**{k: v for k, v in returned.items() if k in known})
        # A session id or nothing: the host started the bot without telling us
        # the fill, so the trade is recorded at the signal's own figures.
        return TradeResult(
            status=EXECUTED,
            quantity=signal.quantity,
            price=signal.price,
            external_id="" if returned is None else str(returned),
        )


def result_from_host_order(order: Any) -> TradeResult:
    """A TradeResult describing an Order row the host manager saved itself."""
    adapter = get_host_adapter()

    def read(name: str, default: Any = None) -> Any:
        field = adapter.order_field(name)
        return getattr(order, field) if field else default

    status = adapter.logical_order_value("status", read("status"))
    return TradeResult(
        status=EXECUTED if status == EXECUTED else FAILED,
        quantity=read("quantity", Decimal("0")),
        price=read("price"),
        fee=read("fee", Decimal("0")) or Decimal("0"),
        external_id=str(read("external_id", "") or ""),
        error_code="" if status == EXECUTED else "host_order_failed",
        error_message=str(read("error", "") or ""),
        host_order=order,
    )
