"""Paid subscriptions (custom TradingView bots and managed bots) for Torgovo hosts."""

__version__ = "0.1.0"
