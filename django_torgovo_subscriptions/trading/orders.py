"""Writes trades into the host's Order model through the configured field map."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django_torgovo_subscriptions.host import get_host_adapter, get_order_model
from django_torgovo_subscriptions.trading.base import TradeResult, TradeSignal


def first_not_none(*values: Any) -> Any:
    return next(v for v in values if v is not None)


class OrderWriter:
    """Builds and saves one host Order per executed or failed trade."""

    def values(
        self, user: Any, pair_config: Any, signal: TradeSignal, result: TradeResult
    ) -> dict[str, Any]:
        """Logical field -> value for this trade, before mapping to host names."""
        adapter = get_host_adapter()
        return {
            "user": user,
            "pair_config": pair_config,
            "symbol": signal.symbol,
            "side": adapter.order_value("side", signal.side),
            "quantity": result.quantity if result.executed else signal.quantity,
            "price": first_not_none(result.price, signal.price, Decimal("0")),
            "status": adapter.order_value("status", result.status),
            "external_id": result.external_id,
            "client_order_id": result.client_order_id or signal.client_order_id,
            "fee": result.fee,
            "source": adapter.order_value("source", signal.source),
            "error": result.error_message or result.error_code,
        }

    def build(self, user: Any, pair_config: Any, signal: TradeSignal, result: TradeResult) -> Any:
        model = get_order_model()
        adapter = get_host_adapter()
        kwargs = {}
        for logical, value in self.values(user, pair_config, signal, result).items():
            field = adapter.order_field(logical)
            if field:
                kwargs[field] = value
        return model(**kwargs)

    def write(self, user: Any, pair_config: Any, signal: TradeSignal, result: TradeResult) -> Any:
        """Save the trade as a host Order (or return the one the manager saved)."""
        if result.host_order is not None:
            return result.host_order
        order = self.build(user, pair_config, signal, result)
        order.save()
        return order
