"""Writes trades into the host's Order model through the configured field map."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models

from django_torgovo_subscriptions.host import get_host_adapter, get_order_model
from django_torgovo_subscriptions.trading.base import TradeResult, TradeSignal


def first_not_none(*values: Any) -> Any:
    return next(v for v in values if v is not None)


@dataclass(frozen=True)
class DecimalLimit:
    """What a host Order's DecimalField holds: ``max_digits``, ``decimal_places``."""

    max_digits: int
    decimal_places: int

    @property
    def whole_digits(self) -> int:
        return self.max_digits - self.decimal_places

    def fits(self, value: Decimal) -> bool:
        """Whether the field stores ``value`` exactly: no more decimal places than it
        keeps (trailing zeros aside; a database would round them away) and no more
        digits before the point (a database refuses those)."""
        _sign, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int):  # NaN, Infinity
            return False
        digits = list(digits)
        while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
            digits.pop()
            exponent += 1
        places = max(-exponent, 0)
        whole = len(digits) + exponent if any(digits) else 0
        return places <= self.decimal_places and max(whole, 0) <= self.whole_digits

    def describe(self) -> str:
        return (
            f"at most {self.whole_digits} digits before the decimal point and "
            f"{self.decimal_places} after it"
        )


def order_decimal_limit(logical: str) -> DecimalLimit | None:
    """The limit of the host Order field mapped to ``logical`` (``quantity``, ``price``),
    or None when it is unmapped or no DecimalField."""
    name = get_host_adapter().order_field(logical)
    if not name:
        return None
    try:
        field = get_order_model()._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not isinstance(field, models.DecimalField):
        return None
    return DecimalLimit(field.max_digits, field.decimal_places)


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
