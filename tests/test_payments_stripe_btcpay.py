"""
Stripe and BTCPay configured side by side (PAYMENT_GATEWAY_CLASSES = [stripe,
btcpay]), both fakes over real HTTP: a user who checks out with BTCPay is
activated by BTCPay's signed delivery and renewed by a BTCPay invoice without
Stripe being asked anything, while a Stripe subscriber beside them is left to
Stripe; recovery reads both, and BTCPay being down does not keep Stripe's back.
"""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_torgovo_subscriptions.models import Payment, UserSubscription
from django_torgovo_subscriptions.payments import BTCPAY_GATEWAY, STRIPE_GATEWAY
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from tests.fake_btcpay import sign
from tests.managed_billing_support import client_for
from tests.payments_support import deliver, offer_gateways, pending

pytestmark = pytest.mark.django_db
INVOICES = r"/api/v1/stores/[^/]+/invoices"


@pytest.fixture
def gateways(settings, fake_stripe, fake_btcpay):
    """Stripe (the default) and BTCPay; returns both fakes."""
    offer_gateways(settings, STRIPE_GATEWAY, BTCPAY_GATEWAY)
    return fake_stripe, fake_btcpay


def deliver_btcpay(client, fake, deliveries):
    for delivery in deliveries:
        body = json.dumps(delivery).encode()
        response = client.post(
            "/api/payments/webhook/btcpay/",
            body,
            content_type="application/json",
            HTTP_BTCPAY_SIG=sign(body, fake.webhook_secret),
        )
        assert response.status_code == 200, response.content


def history(client):
    return [
        (p["gateway"], p["status"]) for p in client.get("/api/payments/history/").json()["results"]
    ]


def test_a_btcpay_user_pays_and_renews_through_btcpay_beside_a_stripe_user(
    anon, api, user, other_user, stripe_plan, gateways
):
    stripe, btcpay = gateways
    assert [
        (g["name"], g["display_name"], g["default"])
        for g in anon.get("/api/payments/gateways/").json()
    ] == [("stripe", "Card (Stripe)", True), ("btcpay", "Crypto (BTCPay Server)", False)]
    other = client_for(other_user)
    stripe_checkout = other.post(
        "/api/payments/create-checkout/",
        {"subscription_id": pending(other_user, stripe_plan).pk},
        format="json",
    ).json()
    deliver(other, stripe, *stripe.complete_checkout(stripe_checkout["checkout_id"]))
    by_stripe = UserSubscription.objects.get(user=other_user)
    assert (by_stripe.status, by_stripe.payment_method) == ("active", "stripe")
    asked_stripe = len(stripe.requests)

    subscription = pending(user, stripe_plan)
    response = api.post(
        "/api/payments/create-checkout/",
        {"subscription_id": subscription.pk, "gateway": "btcpay"},
        format="json",
    )
    assert response.status_code == 201, response.content
    invoice_id = response.json()["checkout_id"]
    assert response.json()["checkout_url"] == btcpay.invoices[invoice_id]["checkoutLink"]
    deliver_btcpay(api, btcpay, btcpay.pay(invoice_id))
    assert UserSubscription.objects.get(user=user).status == "pending_payment"
    deliver_btcpay(api, btcpay, btcpay.confirm(invoice_id))
    subscription.refresh_from_db()
    assert (subscription.status, subscription.payment_method) == ("active", "btcpay")
    assert subscription.gateway_subscription_id == f"btcpay-{subscription.pk}"

    # Both periods end within the lead time: only BTCPay's subscriber gets an
    # invoice, once however often the run goes, and Stripe is asked nothing.
    runs = [
        billing.run_billing(now=subscription.end_date - timedelta(minutes=minutes))
        for minutes in (10, 5)
    ]
    assert [r.renewals_charged for r in runs] == [1, 1] and not runs[0].errors
    renewal = Payment.objects.get(subscription=subscription, status="pending")
    assert len(btcpay.requests_to("POST", INVOICES)) == 2  # the checkout's and the renewal's
    assert btcpay.invoices[renewal.gateway_invoice_id]["metadata"]["torgovo_kind"] == (
        "subscription_cycle"
    )
    assert len(stripe.requests) == asked_stripe
    assert history(api) == [("btcpay", "pending"), ("btcpay", "paid")]

    deliver_btcpay(
        api,
        btcpay,
        btcpay.pay(renewal.gateway_invoice_id) + btcpay.confirm(renewal.gateway_invoice_id),
    )
    subscription.refresh_from_db()
    assert subscription.end_date == add_months(subscription.start_date, 2)
    assert history(api) == [("btcpay", "paid"), ("btcpay", "paid")]
    assert len(stripe.requests) == asked_stripe

    untouched = UserSubscription.objects.get(pk=by_stripe.pk)
    assert (untouched.status, untouched.payment_method, untouched.end_date) == (
        "active",
        "stripe",
        by_stripe.end_date,
    )
    assert history(other) == [("stripe", "paid")]


def test_recovery_with_btcpay_down_still_recovers_stripe_then_fails(gateways):
    _, btcpay = gateways
    btcpay.fail_status = 503
    out = StringIO()

    with pytest.raises(CommandError, match=r"^btcpay: BTCPay could not list the invoices"):
        call_command("process_payment_events", "--from-gateway", stdout=out)

    assert out.getvalue() == "stripe: fetched 0 events (0 new): processed 0, failed 0.\n"
