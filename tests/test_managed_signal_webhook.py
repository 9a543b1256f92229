"""
The operator's TradingView webhook for a managed bot, through the custom-bot
receiver over HTTP: the same checks and event log, an accepted signal fanned
out to the investors, and only operators may have or use one.
"""

import json
from decimal import Decimal

import pytest

from django_torgovo_subscriptions.exceptions import NotAnOperator
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    ManagedSignal,
    ManagedTrade,
    SubscriptionStatus,
    WebhookEvent,
)
from django_torgovo_subscriptions.services.managed_bot.signal_webhooks import (
    generate_signal_webhook,
)
from tests.fanout_support import invest, make_offer
from tests.profit_support import make_bot, make_trader
from tests.webhook_support import post_alert
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.fixture
def operator():
    return make_trader(is_staff=True)


@pytest.fixture
def offer(operator):
    return make_offer(make_trader())  # staff operate any bot; the owner is someone else


@pytest.fixture
def operator_hook(operator, offer):
    issued = generate_signal_webhook(operator, offer.managed_bot)
    return issued.webhook, issued.secret


def signal_body(secret, **overrides):
    body = {"action": "buy", "ticker": "BTCUSDT", "price": "50000", "fraction": "0.5"}
    return {**body, "secret": secret, **overrides}


def test_an_operator_signal_is_fanned_out_to_the_investors(client, offer, operator_hook):
    webhook, secret = operator_hook
    first, second = invest(offer, "1000"), invest(offer, "3000")
    past_due = invest(offer, status=SubscriptionStatus.PAST_DUE)

    response = post_alert(client, secret, signal_body(secret))

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    signal = ManagedSignal.objects.get()
    assert response.json() == {
        "status": "executed",
        "event_id": event.pk,
        "order_id": None,
        "code": None,
        "detail": "The signal was traded for the investors: 2 executed, 0 failed, 1 skipped.",
        "managed_signal": {
            "managed_signal_id": signal.pk,
            "queued": False,
            "pending": 0,
            "executed": 2,
            "failed": 0,
            "skipped": 1,
        },
    }
    assert (signal.signal_id, signal.source, signal.webhook_event) == (
        f"tv-{event.pk}",
        "webhook",
        event,
    )
    assert (event.webhook, event.outcome, event.status_code) == (webhook, "executed", 200)
    assert event.execution["executed"] == 2
    assert event.signal["fraction"] == "0.5"
    assert secret not in event.body
    quantities = {o.user_id: o.quantity for o in Order.objects.filter(source="MANAGED")}
    assert quantities == {first.user_id: Decimal("0.01"), second.user_id: Decimal("0.03")}
    assert ManagedTrade.objects.get(performance=past_due).code == "past_due"

    # TradingView sending it again within the dedupe window trades for nobody.
    again = post_alert(client, secret, signal_body(secret))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert Order.objects.count() == 2 and ManagedSignal.objects.count() == 1


@pytest.mark.parametrize(
    "overrides, code",
    [
        ({"fraction": "1.5"}, "invalid_fraction"),
        ({"fraction": None}, "invalid_fraction"),
        ({"quantity": "0.01"}, "invalid_fraction"),
        ({"price": None}, "invalid_price"),
        ({"ticker": "ETHUSDT"}, "ticker_mismatch"),
    ],
)
def test_a_signal_that_cannot_be_sized_is_refused(client, offer, operator_hook, overrides, code):
    secret = operator_hook[1]
    invest(offer)
    body = {k: v for k, v in signal_body(secret, **overrides).items() if v is not None}

    response = post_alert(client, secret, body)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert WebhookEvent.objects.get().outcome == "rejected"
    assert not ManagedSignal.objects.exists() and not Order.objects.exists()


def test_the_same_receiver_checks_apply(client, offer, operator_hook):
    webhook, secret = operator_hook
    wrong = post_alert(client, secret, signal_body("not-the-secret"))
    assert (wrong.status_code, wrong.json()["code"]) == (403, "invalid_secret")
    webhook.is_active = False
    webhook.save()
    gone = post_alert(client, secret, signal_body(secret))
    assert (gone.status_code, gone.json()["code"]) == (410, "webhook_inactive")
    assert WebhookEvent.objects.filter(webhook=webhook, outcome="rejected").count() == 2


def test_a_user_who_is_no_longer_an_operator_cannot_signal(client, operator, offer, operator_hook):
    invest(offer)
    operator.is_staff = False
    operator.save()

    response = post_alert(client, operator_hook[1], signal_body(operator_hook[1]))

    assert (response.status_code, response.json()["code"]) == (403, "not_an_operator")
    assert not Order.objects.exists()


def test_only_staff_or_the_bots_owner_may_have_a_signal_webhook(offer):
    owner = offer.managed_bot.user
    issued = generate_signal_webhook(owner, offer.managed_bot)
    assert (issued.webhook.purpose, issued.webhook.subscription) == ("managed_signal", None)
    assert issued.message["fraction"] == "0.5"

    with pytest.raises(NotAnOperator):
        generate_signal_webhook(make_trader(), offer.managed_bot)
    with pytest.raises(NotAnOperator):  # staff, but the bot is not on offer
        generate_signal_webhook(make_trader(is_staff=True), make_bot(owner))


def test_signal_webhooks_are_not_the_operators_custom_bot_webhooks(api, user, offer):
    user.is_staff = True
    user.save()
    generate_signal_webhook(user, offer.managed_bot)

    assert api.get("/api/custom-bot/webhooks/").json()["results"] == []


def test_staff_generate_one_with_the_offer_admin_action(admin_client, offer):
    response = admin_client.post(
        "/admin/subscriptions/managedbotoffer/",
        {"action": "generate_signal_webhook", "_selected_action": [offer.pk]},
        follow=True,
    )

    webhook = CustomBotWebhook.objects.get(purpose="managed_signal")
    assert webhook.pair_config == offer.managed_bot
    [message] = [str(m) for m in response.context["messages"]]
    assert f"signal webhook #{webhook.pk}" in message
    assert "/api/custom-bot/webhook/receive/" in message
    assert json.dumps("{{close}}") in message
