"""
Managed signals on the differently shaped host: the Engine returns a session
id, so the package writes each investor's Trade (a UUID key, "managed" origin)
through the field map; skips and retries work the same.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from django_torgovo_subscriptions.exceptions import NotAnOperator
from django_torgovo_subscriptions.models import ManagedTrade, SubscriptionStatus
from django_torgovo_subscriptions.services.managed_bot import profit
from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out
from django_torgovo_subscriptions.services.managed_bot.signal_webhooks import (
    generate_signal_webhook,
)
from tests.brokerage.models import Trade, TradingProfile
from tests.fanout_support import invest, make_offer
from tests.profit_support import make_trader
from tests.webhook_support import post_alert

pytestmark = pytest.mark.django_db


def test_each_live_investor_gets_a_managed_trade_and_retries_add_none():
    offer = make_offer(make_trader(is_staff=True))
    investor = invest(offer, "2000")
    TradingProfile.objects.create(trader=investor.user, api_key="k", api_secret="s")
    paused = invest(offer, status=SubscriptionStatus.PAST_DUE)

    fanned = fan_out(offer.managed_bot, "buy", "0.25", price="50000", signal_id="s-1")
    fan_out(offer.managed_bot, "buy", "0.25", price="50000", signal_id="s-1")

    trade = Trade.objects.get()
    assert (trade.account, trade.strategy, trade.direction, trade.state, trade.origin) == (
        investor.user,
        offer.managed_bot,
        "buy",
        "executed",
        "managed",
    )
    assert (trade.amount, trade.market) == (Decimal("0.01"), "BTC/USDT")
    record = ManagedTrade.objects.get(performance=investor)
    assert uuid.UUID(record.order_id) == trade.pk
    assert ManagedTrade.objects.get(performance=paused).code == "past_due"
    assert fanned.counts == {"pending": 0, "executed": 1, "failed": 0, "skipped": 1}


def test_the_profit_ledger_counts_the_fanned_out_trades():
    offer = make_offer()
    investor = invest(offer, "1000")
    fan_out(offer.managed_bot, "buy", "1", price="100", signal_id="entry")
    fan_out(offer.managed_bot, "sell", "1", price="110", signal_id="exit")

    profit.recalculate(investor, until=timezone.now() + timedelta(seconds=1))

    investor.refresh_from_db()
    # Bought 10 at 100, sold 9.09090909 at 110: 9.09090909 x 10 realized.
    assert investor.realized_pnl == Decimal("90.91")


@pytest.mark.usefixtures("fresh_rate_limits")
def test_an_operator_webhook_signal_trades_for_the_investors(client):
    offer = make_offer()
    investor = invest(offer, "1000")
    with pytest.raises(NotAnOperator):  # platform-wide strategies have no owner: staff only
        generate_signal_webhook(make_trader(), offer.managed_bot)
    issued = generate_signal_webhook(make_trader(is_staff=True), offer.managed_bot)
    body = {"action": "sell", "ticker": "BTCUSDT", "price": "40000", "fraction": "1"}

    response = post_alert(client, issued.secret, {**body, "secret": issued.secret})

    assert response.status_code == 200, response.content
    assert response.json()["managed_signal"]["executed"] == 1
    trade = Trade.objects.get()
    assert (trade.account, trade.direction, trade.amount, trade.origin) == (
        investor.user,
        "sell",
        Decimal("0.025"),
        "managed",
    )
