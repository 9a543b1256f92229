"""
GET orders/ on the differently shaped host: Trades with a UUID key, their own
field names (direction, amount, fill_price, state, placed_at) and lower-case
choices, placed by this trader's alert and by an operator's signal webhook.
"""

import uuid

import pytest
from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions.models import ManagedTrade, WebhookEvent
from django_torgovo_subscriptions.services.managed_bot.signal_webhooks import (
    generate_signal_webhook,
)
from tests.brokerage.models import Strategy, Trade
from tests.factories import one_page
from tests.fanout_support import invest, make_offer
from tests.profit_support import make_trader
from tests.webhook_support import alert_body, issue, post_alert, subscribe

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def traded(user, anon):
    """An alert of the trader's webhook, then an operator signal for their investment."""
    subscribe(user)
    strategy = baker.make(Strategy, market="BTC/USDT", venue="kraken")
    _webhook, secret = issue(user, strategy)
    assert post_alert(anon, secret, alert_body(secret, action="sell")).status_code == 200
    offer = make_offer()
    invest(offer, "1000", user=user)
    operator = make_trader(is_staff=True)
    issued = generate_signal_webhook(operator, offer.managed_bot)
    signal = {"action": "buy", "ticker": "BTCUSDT", "price": "40000", "fraction": "1"}
    response = post_alert(anon, issued.secret, {**signal, "secret": issued.secret})
    assert response.json()["managed_signal"]["executed"] == 1
    return {
        "alert": WebhookEvent.objects.get(webhook__user=user),
        "managed": Trade.objects.get(pk=ManagedTrade.objects.get().order_id),
        "operator": operator,
    }


def test_lists_the_uuid_keyed_trades_through_the_field_map(api, user, traded):
    event, managed = traded["alert"], traded["managed"]
    alerted = Trade.objects.get(pk=event.order_id)
    baker.make(Trade, account=user, origin="manual")  # the host's own

    response = api.get("/api/orders/")

    assert response.status_code == 200
    body = response.json()
    assert uuid.UUID(body["results"][0]["id"]) == managed.pk
    assert body == one_page(
        [
            {
                "id": str(managed.pk),
                "pair_config": managed.strategy_id,
                "side": "buy",
                "quantity": "0.0250000000",
                "price": "40000.0000000000",
                "fee": "0.0000000000",
                "status": "executed",
                "source": "managed_bot",
                "error": None,
                "time": timezone.localtime(managed.placed_at).isoformat(),
                "webhook_event": None,  # the operator's event, not this trader's
            },
            {
                "id": str(alerted.pk),
                "pair_config": alerted.strategy_id,
                "side": "sell",
                "quantity": "0.0100000000",
                "price": "64250.5000000000",
                "fee": "0.0000000000",
                "status": "executed",
                "source": "custom_bot",
                "error": None,
                "time": timezone.localtime(alerted.placed_at).isoformat(),
                "webhook_event": event.pk,
            },
        ],
    )


def test_filters_and_nobody_elses_trades(api, user, traded):
    managed = str(traded["managed"].pk)
    assert [o["id"] for o in api.get("/api/orders/?source=managed_bot").json()["results"]] == [
        managed
    ]
    assert api.get("/api/orders/?status=failed").json()["count"] == 0
    strategy = traded["managed"].strategy_id
    assert [o["id"] for o in api.get(f"/api/orders/?pair_config={strategy}").json()["results"]] == [
        managed
    ]
    # The operator's signal webhook placed no Order of the operator's own.
    from rest_framework.test import APIClient

    operator = APIClient()
    operator.force_authenticate(traded["operator"])
    assert operator.get("/api/orders/").json()["count"] == 0


def test_pages_with_a_constant_query_count(api, user, anon, django_assert_num_queries):
    subscribe(user)
    _webhook, secret = issue(user, baker.make(Strategy, market="BTC/USDT"))
    post_alert(anon, secret)
    with django_assert_num_queries(4):
        assert api.get("/api/orders/").json()["count"] == 1
    for i in range(5):
        post_alert(anon, secret, alert_body(secret, order_id=f"o-{i}"))
    with django_assert_num_queries(4):
        assert api.get("/api/orders/?page_size=3").json()["count"] == 6
