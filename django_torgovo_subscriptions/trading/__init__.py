"""Trade execution: the TradingManager contract, paper trading and host adapters."""

from django_torgovo_subscriptions.trading.base import (
    BaseTradingManager,
    TradeResult,
    TradeSignal,
    get_trading_manager,
)

__all__ = ["BaseTradingManager", "TradeResult", "TradeSignal", "get_trading_manager"]
