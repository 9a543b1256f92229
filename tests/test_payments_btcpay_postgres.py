"""
Concurrent BTCPay deliveries on PostgreSQL (skipped on SQLite, which
serialises writers and has no SELECT ... FOR UPDATE): 50 deliveries of one
settled invoice leave one Payment and one period, and the invoice is re-read
from BTCPay once per distinct delivery, not once per request.
"""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from django_torgovo_subscriptions.models import Payment, PaymentEvent, UserSubscription
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from tests.concurrency import run_concurrently
from tests.factories import make_plan
from tests.fake_btcpay import sign
from tests.payments_support import pending

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
DELIVERIES = 50
WEBHOOK = "/api/payments/webhook/btcpay/"


def post_signed(delivery, secret):
    body = json.dumps(delivery).encode()
    response = Client().post(
        WEBHOOK, body, content_type="application/json", HTTP_BTCPAY_SIG=sign(body, secret)
    )
    return response.status_code, response.json().get("status") or response.json().get("code")


@pytest.fixture
def settled(user, fake_btcpay):
    """A pending subscription whose checkout invoice BTCPay has just settled."""
    subscription = pending(user, make_plan(slug="basic", monthly_price=Decimal("29.00")))
    session, _ = billing.create_checkout(subscription)
    fake_btcpay.pay(session.session_id)
    *_, delivery = fake_btcpay.confirm(session.session_id)
    assert delivery["type"] == "InvoiceSettled"
    return subscription, delivery


def reads(fake, invoice_id):
    return len(fake.requests_to("GET", rf"/api/v1/invoices/{invoice_id}"))


def assert_one_month(subscription):
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert Payment.objects.filter(status="paid").count() == 1


def test_50_deliveries_of_the_same_settled_event_activate_once(settled, fake_btcpay):
    subscription, delivery = settled

    results = run_concurrently(
        DELIVERIES, lambda i: post_signed(delivery, fake_btcpay.webhook_secret)
    )

    assert {status for status, _ in results} == {200}
    assert sorted(outcome for _, outcome in results) == ["duplicate"] * (DELIVERIES - 1) + [
        "processed"
    ]
    assert_one_month(subscription)
    assert PaymentEvent.objects.filter(event_id=delivery["deliveryId"]).count() == 1
    assert reads(fake_btcpay, delivery["invoiceId"]) == 1


def test_50_redeliveries_count_as_the_original(settled, fake_btcpay):
    subscription, delivery = settled
    copies = [fake_btcpay.redeliver(delivery) for _ in range(DELIVERIES)]

    results = run_concurrently(
        DELIVERIES, lambda i: post_signed(copies[i], fake_btcpay.webhook_secret)
    )

    assert sorted(outcome for _, outcome in results) == ["duplicate"] * (DELIVERIES - 1) + [
        "processed"
    ]
    assert_one_month(subscription)
    assert PaymentEvent.objects.count() == 1


def test_50_different_deliveries_for_one_settled_invoice_apply_once(settled, fake_btcpay):
    subscription, delivery = settled
    events = [
        {**delivery, "deliveryId": f"D{i}", "originalDeliveryId": f"D{i}"}
        for i in range(DELIVERIES)
    ]

    results = run_concurrently(
        DELIVERIES, lambda i: post_signed(events[i], fake_btcpay.webhook_secret)
    )

    assert results == [(200, "processed")] * DELIVERIES
    assert_one_month(subscription)
    assert Payment.objects.count() == 1


def test_concurrent_billing_runs_open_one_renewal_invoice(settled, fake_btcpay):
    subscription, delivery = settled
    assert post_signed(delivery, fake_btcpay.webhook_secret) == (200, "processed")
    subscription.refresh_from_db()
    invoices = len(fake_btcpay.invoices)
    now = subscription.end_date - timedelta(minutes=30)

    reports = run_concurrently(10, lambda i: billing.run_billing(now=now))

    assert not any(report.errors for report in reports)
    assert len(fake_btcpay.invoices) == invoices + 1
    assert Payment.objects.filter(status="pending").count() == 1
    assert UserSubscription.objects.get().status == "active"


def test_concurrent_billing_runs_open_one_fresh_invoice_for_a_past_due_subscription(
    settled, fake_btcpay
):
    subscription, delivery = settled
    assert post_signed(delivery, fake_btcpay.webhook_secret) == (200, "processed")
    subscription.refresh_from_db()
    billing.run_billing(now=subscription.end_date - timedelta(minutes=30))
    renewal = Payment.objects.get(status="pending")
    [expired] = fake_btcpay.expire(renewal.gateway_invoice_id)
    assert post_signed(expired, fake_btcpay.webhook_secret) == (200, "processed")
    assert UserSubscription.objects.get().status == "past_due"
    invoices = len(fake_btcpay.invoices)
    now = subscription.end_date + timedelta(hours=1)

    reports = run_concurrently(10, lambda i: billing.run_billing(now=now))

    assert not any(report.errors for report in reports)
    assert len(fake_btcpay.invoices) == invoices + 1
    assert Payment.objects.filter(status="pending").count() == 1
