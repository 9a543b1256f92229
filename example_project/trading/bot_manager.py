"""
Torgovo's TradingManager, as the example host has it.

In Demo mode a bot fills at the price it is given (paper trading); live
trading needs an exchange connection the example project does not have.
"""

import uuid
from contextlib import nullcontext
from decimal import Decimal

from django.db import DatabaseError, connection, transaction

from trading.models import Order

# The package's signal sources -> this host's Order.source values.
SOURCES = {"webhook": "WEBHOOK", "managed": "MANAGED"}


class LiveTradingUnavailable(RuntimeError):
    pass


class TradingManager:
    def create_bot(self, user, pair_config):
        return {
            "user_id": user.pk,
            "pair_config_id": pair_config.pk,
            "exchange": pair_config.exchange,
        }

    def start_bot(self, user, pair_config, exchange=None, session_config=None):
        session_config = session_config or {}
        if not user.Demo:
            raise LiveTradingUnavailable("Live trading is not configured in the example project.")
        quantity = Decimal(str(session_config.get("quantity") or pair_config.order_size))
        price = Decimal(str(session_config["price"]))
        try:
            # A savepoint inside a transaction, so a refused row does not spoil it.
            with transaction.atomic() if connection.in_atomic_block else nullcontext():
                return self.fill(user, pair_config, session_config, quantity, price)
        except DatabaseError as exc:
            # A paper fill is its Order row: without the row nothing was traded, so
            # the package may let TradingView send the alert again (a 503).
            return {
                "status": "failed",
                "error_code": "order_not_saved",
                "error_message": f"The paper fill could not be saved: {exc}",
            }

    def fill(self, user, pair_config, session_config, quantity, price):
        return Order.objects.create(
            user=user,
            pair_config=pair_config,
            symbol=session_config.get("symbol") or pair_config.symbol,
            side=session_config.get("side", "buy").upper(),
            quantity=quantity,
            price=price,
            fee=(quantity * price * Decimal("0.001")).quantize(Decimal("0.00000001")),
            status="FILLED",
            source=SOURCES.get(session_config.get("source"), "BOT"),
            exchange_order_id=f"demo-{uuid.uuid4().hex[:16]}",
        )
