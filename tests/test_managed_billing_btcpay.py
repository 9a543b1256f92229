"""
A managed bot's profit share charged through BTCPay (the fake over real HTTP):
an invoice for the share, paid only when BTCPay's signed delivery (re-read
from the API) says it settled; an expired one is a failed share, and a retry
opens a fresh invoice.
"""

import json
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from django_torgovo_subscriptions.models import ManagedBotPerformance, Payment, UserSubscription
from django_torgovo_subscriptions.services.managed_bot import charges
from tests.fake_btcpay import sign
from tests.managed_billing_support import client_for, command, invest, make_offer, trade
from tests.profit_support import at, make_trader

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("february")]


@pytest.fixture
def february():
    with time_machine.travel(at("2027-02-03 10:00"), tick=True):
        yield


def deliver(fake, *deliveries):
    for delivery in deliveries:
        body = json.dumps(delivery).encode()
        response = Client().post(
            "/api/payments/webhook/btcpay/",
            body,
            content_type="application/json",
            HTTP_BTCPAY_SIG=sign(body, fake.webhook_secret),
        )
        assert response.status_code == 200, response.content


def settled_share():
    user = make_trader(email="investor@example.com")
    with time_machine.travel(at("2027-01-02 10:00")):
        performance = ManagedBotPerformance.objects.get(pk=invest(client_for(user), make_offer()))
    trade(performance, "2027-01", Decimal("500"))
    command("settle_profit_shares", "--month", "2027-01")
    payment = Payment.objects.get(managed_bot_performance=performance)
    return user, performance, payment


def test_the_share_is_an_invoice_paid_only_by_the_settled_delivery(fake_btcpay):
    user, performance, payment = settled_share()
    assert (payment.status, payment.gateway) == ("pending", "btcpay")
    invoice = fake_btcpay.invoices[payment.gateway_invoice_id]
    assert (invoice["amount"], invoice["currency"]) == (Decimal("100.00"), "USD")
    assert invoice["metadata"]["profit_share_payment_id"] == str(payment.pk)
    assert invoice["metadata"]["torgovo_kind"] == "profit_share"
    assert payment.payment_url == invoice["checkoutLink"]

    deliver(fake_btcpay, *fake_btcpay.pay(payment.gateway_invoice_id, "60.00"))
    payment.refresh_from_db()
    assert (payment.status, payment.amount_received) == ("pending", Decimal("60.00"))

    deliver(fake_btcpay, *fake_btcpay.pay(payment.gateway_invoice_id, "40.00"))
    deliver(fake_btcpay, *fake_btcpay.confirm(payment.gateway_invoice_id))
    payment.refresh_from_db()
    performance.refresh_from_db()
    assert payment.status == "paid" and payment.amount_received == Decimal("100.00")
    assert performance.profit_share_paid == Decimal("100.00")
    charges.charge_pending()
    assert len(fake_btcpay.invoices) == 1


def test_an_expired_share_is_past_due_and_a_retry_opens_a_new_invoice(fake_btcpay):
    user, performance, payment = settled_share()
    first = payment.gateway_invoice_id
    deliver(fake_btcpay, *fake_btcpay.expire(first))
    payment.refresh_from_db()
    assert payment.status == "failed"
    assert UserSubscription.objects.get(user=user).status == "past_due"

    assert [p.pk for p in charges.retry(payment).charged] == [payment.pk]
    payment.refresh_from_db()
    assert payment.gateway_invoice_id != first and len(fake_btcpay.invoices) == 2
    deliver(
        fake_btcpay,
        *fake_btcpay.pay(payment.gateway_invoice_id),
        *fake_btcpay.confirm(payment.gateway_invoice_id),
    )

    payment.refresh_from_db()
    assert payment.status == "paid"
    assert UserSubscription.objects.get(user=user).status == "active"
