"""
Helpers shared by the custom-bot webhook tests (both hosts). The fixtures built
on them (``fresh_rate_limits``, ``pair_config``, ``hook``...) are in conftest.py.
"""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from django.core.cache import caches
from model_bakery import baker

from django_torgovo_subscriptions.models import PlanType
from django_torgovo_subscriptions.services.custom_bot import issuing
from tests.factories import make_plan, make_subscription

RECEIVE = "/api/custom-bot/webhook/receive/{}/"


def clear_rate_limits() -> None:
    """Forget this test run's rate-limit counters (only keys under its own prefix)."""
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    cache = caches[alias]
    if hasattr(cache, "_cache") and hasattr(cache._cache, "get_client"):
        client = cache._cache.get_client(write=True)
        prefix = settings.CACHES[alias].get("KEY_PREFIX", "")
        assert prefix, "refusing to clear an unprefixed shared cache"
        for key in client.scan_iter(match=f"{prefix}:*", count=500):
            client.delete(key)
    elif "locmem" in settings.CACHES[alias]["BACKEND"].lower():
        cache.clear()
    else:
        raise RuntimeError(f"Cannot clear only this run's keys from the {alias!r} cache.")


def subscribe(user, max_pairs=1, **kwargs):
    """An active custom-bot subscription (whatever payment gateway is configured)."""
    plan = make_plan(
        PlanType.CUSTOM_BOT, max_trading_pairs=max_pairs, slug=f"custom-{user.pk}-{max_pairs}"
    )
    return make_subscription(user, plan=plan, **kwargs)


def alert_body(secret, **overrides):
    """The generated alert JSON as TradingView sends it, placeholders filled."""
    body = {
        "action": "buy",
        "ticker": "BTCUSDT",
        "price": "64250.50",
        "quantity": "0.01",
        "secret": secret,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def post_alert(client, secret, body=None, *, content_type="application/json", raw=None, **extra):
    data = raw if raw is not None else json.dumps(body if body is not None else alert_body(secret))
    return client.post(RECEIVE.format(secret), data=data, content_type=content_type, **extra)


def issue(user, pair_config):
    """Generate a webhook through the service; returns (webhook, secret)."""
    issued = issuing.generate_webhook(user, pair_config)
    return issued.webhook, issued.secret


def btc_pair_config(user):
    """The example host's PairConfig that ``alert_body()``'s ticker (BTCUSDT) is for."""
    return baker.make(
        "trading.PairConfig", user=user, symbol="BTC/USDT", order_size=Decimal("0.01")
    )


def subscribed_webhook(user):
    """A custom-bot subscription for ``user`` and a webhook for ``btc_pair_config``:
    returns (webhook, secret)."""
    subscribe(user)
    return issue(user, btc_pair_config(user))


def listed_pair(pair_config, name, symbol, exchange, webhook=None):
    """A ``custom-bot/pairs/`` item as the API answers it; with the package's own
    counting, a pair is in use exactly when a webhook is active on it."""
    return {
        "id": pair_config.pk,
        "name": name,
        "symbol": symbol,
        "exchange": exchange,
        "webhook_active": webhook is not None,
        "webhook_id": None if webhook is None else webhook.pk,
        "in_use": webhook is not None,
    }
