"""
Reading the host's Orders for the profit ledger, through the field map.

Nothing here names a host field: ORDER_FIELDS and ORDER_VALUES say which
columns hold the user, bot, time, side, quantity, price, fee, status and
source, and which stored values mean buy/sell and executed/failed.
PROFIT_ORDER_SOURCES (default None: any) limits the sources that count. Rows are streamed in
(created_at, pk) order with ``values_list`` and ``iterator(chunk_size=...)``;
the pk may be an integer or a UUID, the database orders and compares it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q

from django_torgovo_subscriptions.host import get_host_adapter, get_order_model
from django_torgovo_subscriptions.services.managed_bot.profit.config import order_sources


@dataclass(frozen=True)
class Cursor:
    """The last order read: its created_at and its pk (as a string)."""

    created_at: datetime
    pk: str


@dataclass(frozen=True)
class OrderColumns:
    """The host Order columns and stored values the profit ledger needs."""

    model: type[models.Model]
    user: str
    pair_config: str | None
    symbol: str | None
    created_at: str
    side: str
    quantity: str
    filled_quantity: str | None
    price: str
    fee: str | None
    status: str
    source: str | None
    sources: list | None  # stored source values that count; None: any
    buy: Any
    sell: Any
    executed: Any
    failed: Any

    @classmethod
    def from_settings(cls) -> OrderColumns:
        adapter = get_host_adapter()
        created_at = adapter.order_field("created_at")
        if not created_at:
            raise ImproperlyConfigured(
                "Managed-bot profit needs the time of each order: set "
                "TORGOVO_SUBSCRIPTIONS['ORDER_FIELDS']['created_at'] to the Order "
                "model's creation-time field."
            )
        pair_config = adapter.order_field("pair_config")
        symbol = adapter.order_field("symbol")
        if not pair_config and not symbol:
            raise ImproperlyConfigured(
                "Managed-bot profit needs ORDER_FIELDS['pair_config'] (or at least "
                "ORDER_FIELDS['symbol']) to find a bot's orders."
            )
        return cls(
            model=get_order_model(),
            user=adapter.order_field("user"),
            pair_config=pair_config,
            symbol=symbol,
            created_at=created_at,
            side=adapter.order_field("side"),
            quantity=adapter.order_field("quantity"),
            filled_quantity=adapter.order_field("filled_quantity"),
            price=adapter.order_field("price"),
            fee=adapter.order_field("fee"),
            status=adapter.order_field("status"),
            source=adapter.order_field("source"),
            sources=order_sources(),
            buy=adapter.order_value("side", "buy"),
            sell=adapter.order_value("side", "sell"),
            executed=adapter.order_value("status", "executed"),
            failed=adapter.order_value("status", "failed"),
        )

    # --- querysets -----------------------------------------------------------

    def bot_orders(self, performance: Any) -> models.QuerySet:
        """All of a performance's user's orders on its bot (a host PairConfig), of the
        counted sources (PROFIT_ORDER_SOURCES) when those are limited."""
        queryset = self.model._default_manager.filter(**{self.user: performance.user_id})
        if self.sources is not None:
            queryset = queryset.filter(**{f"{self.source}__in": self.sources})
        if self.pair_config:
            return queryset.filter(**{self.pair_config: performance.managed_bot_id})
        # No pair_config column on the host's Order: match the bot's symbol.
        symbol = get_host_adapter().pair_config_value(performance.managed_bot, "symbol")
        return queryset.filter(**{self.symbol: symbol})

    def window(
        self,
        queryset: models.QuerySet,
        *,
        after: Cursor | None,
        since: datetime | None,
        until: datetime,
    ) -> models.QuerySet:
        """Orders after the cursor (or at/after ``since``) and before ``until``.

        ``until`` is exclusive, like a month's end: an order at exactly the
        boundary belongs to the next window.
        """
        created = self.created_at
        queryset = queryset.filter(**{f"{created}__lt": until})
        if since is not None:
            queryset = queryset.filter(**{f"{created}__gte": since})
        if after is not None:
            # created_at >= t AND (created_at > t OR pk > p): index friendly.
            queryset = queryset.filter(**{f"{created}__gte": after.created_at}).filter(
                Q(**{f"{created}__gt": after.created_at}) | Q(pk__gt=after.pk)
            )
        return queryset

    def only_executed(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.filter(**{self.status: self.executed})

    def not_final(self, queryset: models.QuerySet) -> models.QuerySet:
        """Orders neither executed nor failed yet (pending, open, unknown status)."""
        return queryset.exclude(**{f"{self.status}__in": [self.executed, self.failed]})

    def ordered(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset.order_by(self.created_at, "pk")

    # --- rows ------------------------------------------------------------------

    def fill_columns(self) -> list[str]:
        """pk, created_at, side, quantity, price, then fee and filled quantity if mapped."""
        columns = ["pk", self.created_at, self.side, self.quantity, self.price]
        if self.fee:
            columns.append(self.fee)
        if self.filled_quantity:
            columns.append(self.filled_quantity)
        return columns

    def stream_fills(self, queryset: models.QuerySet, chunk_size: int) -> Iterator[tuple]:
        """Executed orders as ``fill_columns()`` tuples, oldest first, streamed."""
        return (
            self.ordered(self.only_executed(queryset))
            .values_list(*self.fill_columns())
            .iterator(chunk_size=chunk_size)
        )
