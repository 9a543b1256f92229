"""
A differently shaped host: credentials on a profile, platform-wide strategies
(no owner), and trades with a UUID key and their own choice values.
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models


class Trader(AbstractUser):
    pass


class TradingProfile(models.Model):
    trader = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trading_profile"
    )
    api_key = models.CharField(max_length=200, blank=True)
    api_secret = models.CharField(max_length=200, blank=True)
    demo_mode = models.BooleanField(default=True)


class Strategy(models.Model):
    title = models.CharField(max_length=100)
    venue = models.CharField(max_length=50)
    market = models.CharField(max_length=30)
    enabled = models.BooleanField(default=True)

    def __str__(self):
        return self.title


class Trade(models.Model):
    DIRECTIONS = [("buy", "Buy"), ("sell", "Sell")]
    STATES = [("pending", "Pending"), ("executed", "Executed"), ("failed", "Failed")]
    ORIGINS = [("manual", "Manual"), ("webhook", "Webhook"), ("managed", "Managed")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    strategy = models.ForeignKey(Strategy, on_delete=models.PROTECT)
    market = models.CharField(max_length=30)
    direction = models.CharField(max_length=4, choices=DIRECTIONS)
    amount = models.DecimalField(max_digits=24, decimal_places=10)
    fill_price = models.DecimalField(max_digits=24, decimal_places=10)
    state = models.CharField(max_length=10, choices=STATES)
    venue_ref = models.CharField(max_length=100, blank=True)
    commission = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    origin = models.CharField(max_length=10, choices=ORIGINS, default="manual")
    failure_reason = models.CharField(max_length=255, blank=True)
    placed_at = models.DateTimeField(auto_now_add=True)
