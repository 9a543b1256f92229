"""
Helpers shared by the custom-bot webhook tests (both hosts). The fixtures built
on them (``fresh_rate_limits``, ``pair_config``, ``hook``...) are in conftest.py.
"""

from __future__ import annotations

import json
import uuid
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


def unreachable_redis() -> dict:
    """A Redis cache on a port nothing listens on, at a location of its own: the
    rate limits skip a failed cache for a few seconds by its location, so no test
    sees another's failure."""
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:9/0?client_name=down-{uuid.uuid4().hex[:12]}",
    }


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


# --- figures the host's Order fields hold (both hosts) ---------------------------

# The other figure of a generated alert: small enough that nothing the host
# derives from the two (the example engine's fee) overflows its own fields.
PLAIN_FIGURES = {"quantity": "0.01", "price": "1"}


def without_rate_limits():
    """The receiver's settings with neither rate limit (for many alerts in one test)."""
    from django.test import override_settings

    return override_settings(
        TORGOVO_SUBSCRIPTIONS={
            **settings.TORGOVO_SUBSCRIPTIONS,
            "WEBHOOK_RATE_LIMIT_PER_WEBHOOK": None,
            "WEBHOOK_RATE_LIMIT_PER_IP": None,
        }
    )


def host_figures(whole_digits: int, places: int):
    """A Hypothesis strategy of positive decimals around a numeric(whole + places,
    places) field's limits: up to two digits more on either side, trailing zeros too."""
    from hypothesis import strategies as st

    return st.builds(
        lambda digits, exponent: Decimal(digits).scaleb(exponent),
        st.integers(1, 10 ** (whole_digits + places + 2) - 1),
        st.integers(-(places + 2), 2),
    ).filter(lambda value: value < Decimal("1e15"))  # beyond: invalid_quantity/price


def assert_figure_fits_or_is_refused(
    client, secret, name: str, value: Decimal, whole_digits: int, places: int, order_model
):
    """One alert with ``name`` = ``value``, rolled back after: traded, with an Order
    holding exactly that value, if a numeric(whole + places, places) field holds it;
    else a 400 ``<name>_out_of_range`` with a rejected event and no trade."""
    from django.db import connection, transaction

    from django_torgovo_subscriptions.models import WebhookEvent

    fits = value == value.quantize(Decimal(1).scaleb(-places)) and value < 10**whole_digits
    body = alert_body(secret, **{**PLAIN_FIGURES, name: format(value, "f")})
    with transaction.atomic():
        response = post_alert(client, secret, body)
        event = WebhookEvent.objects.get()
        if fits:
            assert response.status_code == 200, (value, response.content)
            assert response.json()["status"] == "executed", (value, response.json())
            orders = order_model.objects.filter(pk=event.order_id)
            if connection.vendor == "postgresql":  # SQLite keeps ~15 digits of a numeric
                saved = orders.values_list(host_order_field(name), flat=True).get()
                assert saved == value, (value, saved)
            else:
                assert orders.exists()
        else:
            assert response.status_code == 400, (value, response.content)
            assert response.json()["code"] == f"{name}_out_of_range", (value, response.json())
            assert (event.outcome, event.code) == ("rejected", f"{name}_out_of_range")
            assert not order_model.objects.exists()
        transaction.set_rollback(True)


def host_order_field(logical: str) -> str:
    from django_torgovo_subscriptions.host import get_host_adapter

    return get_host_adapter().order_field(logical)
