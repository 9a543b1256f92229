"""Paper trading: fills every signal at its price, touches no exchange."""

from __future__ import annotations

import uuid
from typing import Any

from django_torgovo_subscriptions.trading.base import (
    EXECUTED,
    BaseTradingManager,
    TradeResult,
    TradeSignal,
)


class PaperTradingManager(BaseTradingManager):
    """The default manager: an immediate full fill at the signal price, no fee."""

    def start_bot(self, user: Any, pair_config: Any, *, signal: TradeSignal) -> TradeResult:
        if signal.price is None:
            return TradeResult.failure(
                "price_required", "Paper trading fills at the signal price; none was given."
            )
        return TradeResult(
            status=EXECUTED,
            quantity=signal.quantity,
            price=signal.price,
            external_id=f"paper-{uuid.uuid4().hex}",
        )
