"""Torgovo's trading models: bot configurations, their bots, indicators and orders."""

from django.conf import settings
from django.db import models


class PairConfig(models.Model):
    """One bot configuration: an exchange, a symbol and how much to trade."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pair_configs"
    )
    name = models.CharField(max_length=100)
    exchange = models.CharField(max_length=50, default="binance")
    symbol = models.CharField(max_length=30)
    timeframe = models.CharField(max_length=10, default="1h")
    order_size = models.DecimalField(max_digits=20, decimal_places=8, default=0)
    is_managed = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.name} ({self.exchange} {self.symbol})"


class Bot(models.Model):
    """A bot the user created on one of their configurations (POST /api/bots/).
    Each counts against the plan's pair quota (trading.quota.pairs_in_use)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bots"
    )
    pair_config = models.ForeignKey(PairConfig, on_delete=models.CASCADE, related_name="bots")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "pair_config"), name="one_bot_per_pair_config")
        ]

    def __str__(self):
        return f"Bot on {self.pair_config}"


class Indicator(models.Model):
    pair_config = models.ForeignKey(PairConfig, on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(max_length=50)
    params = models.JSONField(default=dict, blank=True)

    def __str__(self):
        return self.name


class Order(models.Model):
    SIDES = [("BUY", "Buy"), ("SELL", "Sell")]
    STATUSES = [("PENDING", "Pending"), ("FILLED", "Filled"), ("FAILED", "Failed")]
    SOURCES = [("MANUAL", "Manual"), ("BOT", "Bot"), ("WEBHOOK", "Webhook"), ("MANAGED", "Managed")]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="orders"
    )
    pair_config = models.ForeignKey(
        PairConfig, on_delete=models.SET_NULL, null=True, blank=True, related_name="orders"
    )
    symbol = models.CharField(max_length=30)
    side = models.CharField(max_length=4, choices=SIDES)
    quantity = models.DecimalField(max_digits=20, decimal_places=8)
    price = models.DecimalField(max_digits=20, decimal_places=8)
    fee = models.DecimalField(max_digits=20, decimal_places=8, default=0)
    status = models.CharField(max_length=10, choices=STATUSES, default="PENDING")
    source = models.CharField(max_length=10, choices=SOURCES, default="MANUAL")
    exchange_order_id = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at",)

    def __str__(self):
        return f"{self.side} {self.quantity} {self.symbol} @ {self.price} ({self.status})"
