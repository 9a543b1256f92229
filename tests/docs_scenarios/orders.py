"""
Scenarios for the tradable pairs and order history examples.

``custom_bot_pairs``: the demo user's two PairConfigs, one with a webhook.
``orders_traded``: the demo user's orders placed through the package: an
alert executed, an alert that failed (out of Demo mode the example host cannot
trade), and a managed bot's trade for their investment.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.test import Client

from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out
from tests.docs_scenarios import Context, scenario
from tests.docs_scenarios.custom_bot import custom_bot_webhook
from tests.docs_scenarios.managed_bot import managed_signal_webhook, seed_offer
from trading.models import PairConfig


@scenario("custom_bot_pairs")
def custom_bot_pairs(ctx: Context) -> dict:
    """A webhook on "My ETH strategy", and a second PairConfig without one."""
    variables = custom_bot_webhook(ctx)
    PairConfig.objects.create(
        user=ctx.user, name="My BTC strategy", symbol="BTC/USDT", order_size=Decimal("0.01")
    )
    return variables


def _alert(secret: str, action: str) -> Any:
    alert = {"action": action, "ticker": "ETHUSDT", "price": "3012.40", "quantity": "0.5"}
    return Client().post(
        f"/api/custom-bot/webhook/receive/{secret}/",
        data=json.dumps({**alert, "secret": secret}),
        content_type="application/json",
    )


@scenario("orders_traded")
def orders_traded(ctx: Context) -> dict:
    """An executed alert, a failed one, then a managed bot's buy for the investment."""
    variables = custom_bot_webhook(ctx)
    _alert(variables["WEBHOOK_SECRET"], "buy")
    ctx.user.Demo = False
    ctx.user.save(update_fields=["Demo"])
    _alert(variables["WEBHOOK_SECRET"], "sell")
    ctx.user.Demo = True
    ctx.user.save(update_fields=["Demo"])
    variables.update(managed_signal_webhook(ctx))
    fan_out(seed_offer().managed_bot, "buy", "0.5", price="64000", signal_id="docs-1")
    return variables
