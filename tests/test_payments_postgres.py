"""
Concurrent gateway deliveries on PostgreSQL (skipped on SQLite, which
serialises writers and has no SELECT ... FOR UPDATE).

50 deliveries of the same invoice.paid at once must leave one Payment and one
month of extension, whether they carry the same event id (retries) or
different ones (the same invoice reported by several events).
"""

import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client

from django_torgovo_subscriptions.models import Payment, PaymentEvent, UserSubscription
from django_torgovo_subscriptions.payments.dummy import DummyGateway
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from tests.concurrency import run_concurrently
from tests.db_faults import lock_held
from tests.factories import make_plan
from tests.fake_stripe import sign
from tests.payments_support import STRIPE_WEBHOOK, deliver, pending

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]
DELIVERIES = 50


def post_signed(event, secret):
    body = json.dumps(event).encode()
    response = Client().post(
        STRIPE_WEBHOOK,
        body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(body, secret),
    )
    return response.status_code, response.json().get("status") or response.json().get("code")


@pytest.fixture
def active(user, stripe_plan, fake_stripe):
    subscription = pending(user, stripe_plan)
    session, _ = billing.create_checkout(subscription)
    deliver(Client(), fake_stripe, *fake_stripe.complete_checkout(session.session_id))
    subscription.refresh_from_db()
    assert subscription.status == "active"
    return subscription


def test_50_deliveries_of_the_same_invoice_paid_event_extend_once(active, fake_stripe):
    [renewal] = fake_stripe.renew(active.gateway_subscription_id)

    results = run_concurrently(
        DELIVERIES, lambda i: post_signed(renewal, fake_stripe.webhook_secret)
    )

    assert {status for status, _ in results} == {200}
    assert sorted(outcome for _, outcome in results) == ["duplicate"] * (DELIVERIES - 1) + [
        "processed"
    ]
    active.refresh_from_db()
    assert active.end_date == add_months(active.start_date, 2)
    assert Payment.objects.filter(gateway_invoice_id=renewal["data"]["object"]["id"]).count() == 1
    assert PaymentEvent.objects.filter(event_id=renewal["id"]).count() == 1


def test_50_different_events_for_one_invoice_extend_once(active, fake_stripe):
    [renewal] = fake_stripe.renew(active.gateway_subscription_id)
    events = [{**renewal, "id": f"{renewal['id']}_{i}"} for i in range(DELIVERIES)]

    results = run_concurrently(
        DELIVERIES, lambda i: post_signed(events[i], fake_stripe.webhook_secret)
    )

    assert results == [(200, "processed")] * DELIVERIES
    active.refresh_from_db()
    assert active.end_date == add_months(active.start_date, 2)
    assert Payment.objects.count() == 2  # the first payment and this renewal
    assert PaymentEvent.objects.filter(status="processed").count() == DELIVERIES + 2


def test_checkout_completed_and_invoice_paid_racing_activate_once(user, stripe_plan, fake_stripe):
    subscription = pending(user, stripe_plan)
    session, _ = billing.create_checkout(subscription)
    events = fake_stripe.complete_checkout(session.session_id) * 10

    run_concurrently(len(events), lambda i: post_signed(events[i], fake_stripe.webhook_secret))

    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert Payment.objects.count() == 1 and PaymentEvent.objects.count() == 2


def test_concurrent_billing_runs_charge_a_renewal_once(user, dummy):
    subscription = pending(user, make_plan(slug="basic", monthly_price=Decimal("29.00")))
    session, _ = billing.create_checkout(subscription)
    DummyGateway().pay(session)
    subscription.refresh_from_db()
    now = subscription.end_date - __import__("datetime").timedelta(minutes=30)

    run_concurrently(10, lambda i: billing.run_billing(now=now))

    subscription.refresh_from_db()
    assert subscription.end_date == add_months(subscription.start_date, 2)
    assert Payment.objects.count() == 2
    assert UserSubscription.objects.get().status == "active"


def test_a_replay_while_the_first_delivery_is_still_processing_waits_for_it(active, fake_stripe):
    [renewal] = fake_stripe.renew(active.gateway_subscription_id)
    # Payments cannot be written for a while, so the first delivery to take the
    # event row's lock holds it while the replay arrives.
    payments = connection.ops.quote_name(Payment._meta.db_table)
    with lock_held(f"LOCK TABLE {payments} IN EXCLUSIVE MODE", seconds=0.5):
        results = run_concurrently(2, lambda i: post_signed(renewal, fake_stripe.webhook_secret))
    assert sorted(outcome for _, outcome in results) == ["duplicate", "processed"]
    assert Payment.objects.filter(gateway_invoice_id=renewal["data"]["object"]["id"]).count() == 1
