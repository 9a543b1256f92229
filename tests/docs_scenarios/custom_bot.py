"""
Scenarios for the custom-bot (TradingView webhook) examples.

The demo user trades "My ETH strategy" (ETH/USDT), a PairConfig seed_demo
creates. Webhook scenarios return ``$WEBHOOK_ID`` and ``$WEBHOOK_SECRET`` (the
secret in clear, as generate returned it).
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

import time_machine
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    SubscriptionStatus,
    UserSubscription,
)
from django_torgovo_subscriptions.services import subscriptions as service
from django_torgovo_subscriptions.services.custom_bot import issuing, ratelimit
from django_torgovo_subscriptions.services.custom_bot.issuing import hash_secret
from tests.docs_scenarios import Context, scenario
from trading.models import PairConfig


def _live(user: Any, plan: Any) -> UserSubscription:
    """An active subscription, whatever payment gateway the host has."""
    subscription = service.subscribe(user, plan)
    if subscription.status == SubscriptionStatus.PENDING_PAYMENT:
        subscription = service.activate(subscription)
    return subscription


def _eth_strategy(ctx: Context) -> PairConfig:
    return PairConfig.objects.get(user=ctx.user, name="My ETH strategy")


def _lapse(subscription: UserSubscription) -> None:
    subscription.end_date = timezone.now() - timedelta(days=1)
    subscription.save(update_fields=["end_date"])


@scenario("custom_bot_unsubscribed")
def custom_bot_unsubscribed(ctx: Context) -> dict:
    """The demo user has no subscription yet."""
    return {"PAIR_CONFIG_ID": _eth_strategy(ctx).pk}


@scenario("custom_bot_subscribed")
def custom_bot_subscribed(ctx: Context) -> dict:
    """The demo user holds an active Custom Bot Basic subscription (one pair)."""
    subscription = _live(ctx.user, ctx.plans["custom-bot-basic"])
    return {"PAIR_CONFIG_ID": _eth_strategy(ctx).pk, "SUBSCRIPTION_ID": subscription.pk}


@scenario("custom_bot_expired")
def custom_bot_expired(ctx: Context) -> dict:
    """The demo user's custom-bot subscription has ended."""
    variables = custom_bot_subscribed(ctx)
    _lapse(UserSubscription.objects.get(pk=variables["SUBSCRIPTION_ID"]))
    return variables


@scenario("custom_bot_webhook")
def custom_bot_webhook(ctx: Context) -> dict:
    """Subscribed, with a webhook on "My ETH strategy"."""
    variables = custom_bot_subscribed(ctx)
    issued = issuing.generate_webhook(ctx.user, _eth_strategy(ctx))
    return {**variables, "WEBHOOK_ID": issued.webhook.pk, "WEBHOOK_SECRET": issued.secret}


@scenario("custom_bot_pair_limit")
def custom_bot_pair_limit(ctx: Context) -> dict:
    """The one pair of Custom Bot Basic is in use; PAIR_CONFIG_ID is a second one."""
    variables = custom_bot_webhook(ctx)
    second = PairConfig.objects.create(
        user=ctx.user, name="My BTC strategy", symbol="BTC/USDT", order_size=Decimal("0.01")
    )
    return {**variables, "PAIR_CONFIG_ID": second.pk}


@scenario("custom_bot_webhook_inactive")
def custom_bot_webhook_inactive(ctx: Context) -> dict:
    """The demo user's webhook has been deactivated."""
    variables = custom_bot_webhook(ctx)
    issuing.deactivate(CustomBotWebhook.objects.get(pk=variables["WEBHOOK_ID"]))
    return variables


@scenario("custom_bot_webhook_lapsed")
def custom_bot_webhook_lapsed(ctx: Context) -> dict:
    """A webhook whose owner's subscription has ended."""
    variables = custom_bot_webhook(ctx)
    _lapse(UserSubscription.objects.get(pk=variables["SUBSCRIPTION_ID"]))
    return variables


@scenario("custom_bot_live_trading")
def custom_bot_live_trading(ctx: Context) -> dict:
    """A webhook whose owner left Demo mode: the example host cannot trade live."""
    variables = custom_bot_webhook(ctx)
    ctx.user.Demo = False
    ctx.user.save(update_fields=["Demo"])
    return variables


@scenario("custom_bot_alert_received")
def custom_bot_alert_received(ctx: Context) -> dict:
    """A webhook that has executed one alert (order_id "Long") and refused another."""
    variables = custom_bot_webhook(ctx)
    secret = variables["WEBHOOK_SECRET"]
    path = f"/api/custom-bot/webhook/receive/{secret}/"
    for quantity in ("0.5", "0"):
        alert = {
            "action": "buy",
            "ticker": "ETHUSDT",
            "price": "3012.40",
            "quantity": quantity,
            "order_id": "Long",
            "secret": secret,
        }
        Client().post(path, data=json.dumps(alert), content_type="application/json")
    return variables


@scenario("custom_bot_rate_limited")
def custom_bot_rate_limited(ctx: Context) -> dict:
    """The webhook used up its rate limit (in this window and the next)."""
    variables = custom_bot_webhook(ctx)
    limit, period = ratelimit.parse_rate(subscriptions_settings.WEBHOOK_RATE_LIMIT_PER_WEBHOOK)
    key = hash_secret(variables["WEBHOOK_SECRET"])
    now = time.time()
    for offset in (0, period):  # the curl may run in the next window
        with time_machine.travel(now + offset, tick=False):
            for _ in range(limit):
                ratelimit.count_request(None, key)
    return variables


@scenario("custom_bot_someone_elses_webhook")
def custom_bot_someone_elses_webhook(ctx: Context) -> dict:
    """Another user's webhook: the demo user gets 404 for it."""
    other = get_user_model().objects.create_user(username="someone-else")
    Token.objects.create(user=other)
    _live(other, ctx.plans["custom-bot-basic"])
    pair_config = PairConfig.objects.create(user=other, name="Theirs", symbol="ETH/USDT")
    return {"WEBHOOK_ID": issuing.generate_webhook(other, pair_config).webhook.pk}
