"""
Torgovo's TradingManager, as the example host has it.

In Demo mode a bot fills at the price it is given (paper trading); live
trading needs an exchange connection the example project does not have.
"""

import uuid
from decimal import Decimal

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
