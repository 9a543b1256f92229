"""
A managed bot's profit share charged through Stripe (the fake over real HTTP):
a one-off invoice for the customer, charged off session to the saved payment
method; paid or failed only when Stripe's signed event arrives.
"""

from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from django_torgovo_subscriptions.models import ManagedBotPerformance, Payment, UserSubscription
from django_torgovo_subscriptions.payments.stripe import StripeGateway
from django_torgovo_subscriptions.services.managed_bot import charges
from tests.managed_billing_support import client_for, command, invest, make_offer, trade
from tests.payments_support import deliver
from tests.profit_support import at, make_trader

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("february")]


@pytest.fixture
def february():
    """The clock runs from 2027-02-03, after January's settlement point."""
    with time_machine.travel(at("2027-02-03 10:00")):
        yield


def settled_share(fake_stripe, *, declined=False):
    user = make_trader(email="investor@example.com")
    with time_machine.travel(at("2027-01-02 10:00")):
        performance = ManagedBotPerformance.objects.get(pk=invest(client_for(user), make_offer()))
    if declined:
        fake_stripe.declining_customers.add(StripeGateway().customer_id(user))
    trade(performance, "2027-01", Decimal("500"))
    seen = len(fake_stripe.events)
    output = command("settle_profit_shares", "--month", "2027-01")
    payment = Payment.objects.get(managed_bot_performance=performance)
    return user, performance, payment, output, fake_stripe.events[seen:]


def test_the_share_is_an_invoice_charged_to_the_saved_method_and_paid_by_the_event(
    fake_stripe,
):
    user, performance, payment, output, events = settled_share(fake_stripe)
    [invoice_request] = fake_stripe.requests_to("POST", "/v1/invoices")
    assert invoice_request["params"] == {
        "customer": fake_stripe.invoices[payment.gateway_invoice_id]["customer"],
        "collection_method": "charge_automatically",
        "auto_advance": "true",
        "pending_invoice_items_behavior": "exclude",
        "currency": "usd",
        "description": "Profit share 2027-01",
        "metadata": {
            "subscription_id": str(payment.subscription_id),
            "profit_share_payment_id": str(payment.pk),
            "profit_share_month": "2027-01",
        },
    }
    assert invoice_request["headers"]["Idempotency-Key"] == (
        f"torgovo-profit-share-{payment.pk}-invoice"
    )
    [item] = fake_stripe.requests_to("POST", "/v1/invoiceitems")
    assert (item["params"]["amount"], item["params"]["invoice"]) == (
        "10000",
        payment.gateway_invoice_id,
    )
    assert f"#{payment.pk} 100.00 USD 2027-01" in output
    # Charged at Stripe, not paid here until the signed event says so.
    assert (payment.status, payment.gateway, payment.kind) == ("pending", "stripe", "profit_share")
    performance.refresh_from_db()
    assert (performance.profit_share_due, performance.profit_share_paid) == (100, 0)
    assert [event["type"] for event in events] == ["invoice.paid"]

    deliver(Client(), fake_stripe, *events, *events)  # a replay changes nothing

    payment.refresh_from_db()
    performance.refresh_from_db()
    assert payment.status == "paid" and payment.paid_at is not None
    assert (performance.profit_share_due, performance.profit_share_paid) == (0, 100)
    # Settling and charging again asks Stripe for nothing.
    command("settle_profit_shares", "--month", "2027-01")
    charges.charge_pending()
    assert len(fake_stripe.requests_to("POST", "/v1/invoices")) == 1
    assert Payment.objects.filter(kind="profit_share").count() == 1


def test_a_declined_share_is_past_due_and_a_retry_pays_the_same_invoice(fake_stripe):
    user, performance, payment, _output, events = settled_share(fake_stripe, declined=True)
    assert [event["type"] for event in events] == ["invoice.payment_failed"]
    deliver(Client(), fake_stripe, *events)
    payment.refresh_from_db()
    subscription = UserSubscription.objects.get(user=user)
    assert (payment.status, payment.failure_reason) == ("failed", "Your card was declined.")
    assert subscription.status == "past_due"

    fake_stripe.declining_customers.clear()  # the user saved a card that works
    seen = len(fake_stripe.events)
    assert [p.pk for p in charges.retry(payment).charged] == [payment.pk]
    deliver(Client(), fake_stripe, *fake_stripe.events[seen:])

    payment.refresh_from_db()
    performance.refresh_from_db()
    subscription.refresh_from_db()
    assert (payment.status, payment.attempt_count) == ("paid", 2)
    assert subscription.status == "active"
    assert performance.profit_share_paid == Decimal("100.00")
    assert len(fake_stripe.requests_to("POST", "/v1/invoices")) == 1
    pays = fake_stripe.requests_to("POST", f"/v1/invoices/{payment.gateway_invoice_id}/pay")
    assert len(pays) == 2
