"""
The dummy gateway (the example project's): its checkout page, the signed
events it sends through the webhook, payment history, and late payments.
"""

import json
import urllib.request
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.models import (
    CheckoutSession,
    Payment,
    PaymentEvent,
    UserSubscription,
)
from django_torgovo_subscriptions.payments import DUMMY_GATEWAY
from django_torgovo_subscriptions.payments.dummy import DummyGateway
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from django_torgovo_subscriptions.services import subscriptions as service
from tests.db_faults import inserts_fail
from tests.factories import make_plan, make_subscription
from tests.payments_support import pending

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(api, user, plan, dummy):
    subscription = pending(user, plan)
    body = api.post(
        "/api/payments/create-checkout/", {"subscription_id": subscription.pk}, format="json"
    ).json()
    return subscription, body


def test_the_example_project_uses_the_dummy_gateway():
    from example_project import settings as example

    assert example.TORGOVO_SUBSCRIPTIONS["PAYMENT_GATEWAY_CLASS"] == DUMMY_GATEWAY


def test_checkout_points_at_the_dummy_page(started):
    subscription, body = started
    assert body["gateway"] == "dummy" and body["status"] == "open"
    assert (
        body["checkout_url"]
        == f"http://testserver/api/payments/dummy/checkout/{body['checkout_id']}/"
    )
    subscription.refresh_from_db()
    assert subscription.payment_method == "dummy" and subscription.status == "pending_payment"


def test_the_page_is_json_for_programs_and_html_for_browsers(anon, started):
    _, body = started
    url = f"/api/payments/dummy/checkout/{body['checkout_id']}/"
    page = anon.get(url).json()
    assert (page["status"], page["plan"], page["amount"], page["currency"]) == (
        "open",
        "Basic",
        "29.00",
        "USD",
    )
    html = anon.get(url, HTTP_ACCEPT="text/html")
    assert html["Content-Type"].startswith("text/html")
    assert b'name="card"' in html.content and b"29.00 USD" in html.content


def test_paying_sends_signed_events_through_the_webhook(anon, user, started, dummy):
    subscription, body = started
    activated = []
    signals.subscription_activated.connect(
        lambda subscription, **kw: activated.append(subscription.pk),
        weak=False,
        dispatch_uid="test-dummy-activated",
    )
    try:
        response = anon.post(
            f"/api/payments/dummy/checkout/{body['checkout_id']}/",
            {"card": "4242424242424242"},
            HTTP_HOST=dummy.host,
        )
    finally:
        signals.subscription_activated.disconnect(dispatch_uid="test-dummy-activated")

    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["subscription_status"] == "active" and answer["status"] == "complete"
    assert [(e["type"], e["webhook_status"]) for e in answer["events"]] == [
        ("checkout.session.completed", 200),
        ("invoice.paid", 200),
    ]
    # Delivered over the webhook URL, signed, and logged like Stripe's events.
    assert [d["url"] for d in dummy.deliveries] == [f"{dummy.url}/api/payments/webhook/dummy/"] * 2
    assert list(PaymentEvent.objects.order_by("id").values_list("event_type", "status")) == [
        ("checkout.session.completed", "processed"),
        ("invoice.paid", "processed"),
    ]
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.gateway_subscription_id.startswith(
        "sub_dummy_"
    )
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert activated == [subscription.pk]
    payment = Payment.objects.get()
    assert (payment.status, payment.amount, payment.currency, payment.user) == (
        "paid",
        Decimal("29.00"),
        "USD",
        user,
    )

    again = anon.post(
        f"/api/payments/dummy/checkout/{body['checkout_id']}/",
        {"card": "4242424242424242"},
        HTTP_HOST=dummy.host,
    )
    assert (again.status_code, again.json()["code"]) == (409, "checkout_closed")


def test_paying_twice_at_once_applies_once(started):
    subscription, body = started
    session = CheckoutSession.objects.get(session_id=body["checkout_id"])
    DummyGateway().pay(session)
    DummyGateway().pay(session)  # e.g. two tabs: the same event ids again
    subscription.refresh_from_db()
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert Payment.objects.count() == 1 and PaymentEvent.objects.count() == 2


@pytest.mark.parametrize(
    "card, message",
    [
        ("4000000000000002", "Your card was declined."),
        ("4000000000009995", "Your card has insufficient funds."),
    ],
)
def test_declined_cards_change_nothing_and_the_checkout_stays_open(
    anon, started, dummy, card, message
):
    subscription, body = started
    url = f"/api/payments/dummy/checkout/{body['checkout_id']}/"
    response = anon.post(url, {"card": card})
    assert response.status_code == 402
    assert response.json() == {"code": "card_declined", "detail": message}
    assert not PaymentEvent.objects.exists() and not Payment.objects.exists()
    assert anon.post(url, {"card": "4242424242424242"}, HTTP_HOST=dummy.host).status_code == 200


def test_an_open_checkout_past_its_expiry_reads_expired_and_refuses_payment(anon, started):
    _, body = started
    CheckoutSession.objects.filter(session_id=body["checkout_id"]).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    url = f"/api/payments/dummy/checkout/{body['checkout_id']}/"
    assert anon.get(url).json()["status"] == "expired"
    response = anon.post(url, {"card": "4242424242424242"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "checkout_closed")


def test_bad_requests_to_the_page(anon, started, dummy, settings):
    subscription, body = started
    url = f"/api/payments/dummy/checkout/{body['checkout_id']}/"
    response = anon.post(url, {"card": "1234"})
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert anon.get("/api/payments/dummy/checkout/cs_dummy_nope/").status_code == 404
    service.cancel(subscription)
    response = anon.post(url, {"card": "4242424242424242"}, format="json", HTTP_HOST=dummy.host)
    assert (response.status_code, response.json()["code"]) == (409, "not_pending_payment")
    assert dummy.deliveries == []
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": None,
    }
    assert anon.get(url).status_code == 404


def test_the_html_page_shows_the_result_and_errors(anon, started, dummy):
    _, body = started
    url = f"/api/payments/dummy/checkout/{body['checkout_id']}/"
    declined = anon.post(url, {"card": "4000000000000002"}, HTTP_ACCEPT="text/html")
    assert declined.status_code == 402 and b"Your card was declined." in declined.content
    paid = anon.post(
        url, {"card": "4242424242424242"}, HTTP_ACCEPT="text/html", HTTP_HOST=dummy.host
    )
    assert paid.status_code == 200 and b"<strong>active</strong>" in paid.content


def test_a_delivery_failure_is_a_502(anon, started, dummy):
    _, body = started
    url = f"/api/payments/dummy/checkout/{body['checkout_id']}/"
    # The webhook cannot store the payment, so it answers 500 processing_error.
    with inserts_fail(Payment, "database hiccup"):
        response = anon.post(url, {"card": "4242424242424242"}, HTTP_HOST=dummy.host)
    assert (response.status_code, response.json()["code"]) == (502, "gateway_error")
    assert [(d["status"], json.loads(d["body"])["code"]) for d in dummy.deliveries] == [
        (500, "processing_error")
    ]
    # And when the webhook cannot be reached at all.
    host = dummy.host
    dummy.stop()
    response = anon.post(url, {"card": "4242424242424242"}, HTTP_HOST=host)
    assert (response.status_code, response.json()["code"]) == (502, "gateway_error")


@pytest.mark.django_db(transaction=True)
def test_over_real_http_to_a_live_server(live_server, user, settings):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": DUMMY_GATEWAY,
    }
    subscription = pending(user, make_plan(slug="basic"))
    session, _ = billing.create_checkout(subscription)
    request = urllib.request.Request(
        f"{live_server.url}{session.url}", data=b"card=4242424242424242", method="POST"
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        answer = json.loads(response.read())
    assert answer["subscription_status"] == "active"
    assert all(event["webhook_status"] == 200 for event in answer["events"])
    assert PaymentEvent.objects.filter(remote_ip="127.0.0.1", status="processed").count() == 2


# --- late payments -----------------------------------------------------------------------


def test_a_payment_for_a_cancelled_unpaid_subscription_revives_it(started):
    subscription, body = started
    session = CheckoutSession.objects.get(session_id=body["checkout_id"])
    service.cancel(subscription)  # the user gave up... then paid in the other tab
    DummyGateway().pay(session)
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.is_live()
    assert subscription.cancelled_at is None and subscription.auto_renew is True
    assert Payment.objects.get().note == ""


def test_a_late_payment_that_cannot_apply_is_recorded_for_a_refund(user, plan, started):
    subscription, body = started
    session = CheckoutSession.objects.get(session_id=body["checkout_id"])
    service.cancel(subscription)
    other = pending(user, make_plan(slug="pro"))  # the user took another plan meanwhile
    DummyGateway().pay(session)
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"
    payment = Payment.objects.get()
    assert payment.status == "paid" and "refund" in payment.note
    assert (payment.period_start, payment.period_end) == (None, None)
    other.refresh_from_db()
    assert other.status == "pending_payment"


# --- history ----------------------------------------------------------------------------


def test_history_shows_own_payments_newest_first(api, user, other_user, plan, dummy):
    mine = pending(user, plan)
    DummyGateway().pay(billing.create_checkout(mine)[0])
    DummyGateway().pay(billing.create_checkout(pending(other_user, plan))[0])

    body = api.get("/api/payments/history/").json()

    assert body["count"] == 1 and body["next"] is None
    [row] = body["results"]
    mine.refresh_from_db()
    payment = Payment.objects.get(user=user)
    local = timezone.localtime
    assert row == {
        "id": payment.pk,
        "subscription_id": mine.pk,
        "plan": "Basic",
        "gateway": "dummy",
        "kind": "subscription",
        "profit_share_month": "",
        "managed_bot_performance_id": None,
        "status": "paid",
        "amount": "29.00",
        "currency": "USD",
        "amount_received": None,
        "amount_missing": None,
        "amount_overpaid": None,
        "payment_url": "",
        "expires_at": None,
        "billing_reason": "subscription_create",
        "period_start": local(mine.start_date).isoformat(),
        "period_end": local(mine.end_date).isoformat(),
        "failure_reason": "",
        "attempt_count": 1,
        "invoice_id": payment.gateway_invoice_id,
        "paid_at": local(payment.paid_at).isoformat(),
        "failed_at": None,
        "created_at": local(payment.created_at).isoformat(),
    }


def test_history_needs_a_token_and_runs_constant_queries(api, anon, user, dummy):
    assert anon.get("/api/payments/history/").status_code == 401
    subscription = make_subscription(user, make_plan(slug="a"))
    Payment.objects.create(
        user=user,
        subscription=subscription,
        gateway="dummy",
        status="paid",
        amount=Decimal("1"),
        currency="USD",
        gateway_invoice_id="in_0",
    )
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/payments/history/").status_code == 200
    for i in range(1, 15):
        Payment.objects.create(
            user=user,
            subscription=make_subscription(user, make_plan(slug=f"p{i}"), status="expired"),
            gateway="dummy",
            status="failed",
            amount=Decimal("1"),
            currency="USD",
            gateway_invoice_id=f"in_{i}",
        )
    with CaptureQueriesContext(connection) as many:
        body = api.get("/api/payments/history/?page_size=10").json()
    assert body["count"] == 15 and len(body["results"]) == 10 and body["next"]
    assert len(many) == len(few)


def test_a_payment_outlives_its_subscription(user, plan, dummy):
    subscription = pending(user, plan)
    DummyGateway().pay(billing.create_checkout(subscription)[0])
    UserSubscription.objects.filter(pk=subscription.pk).delete()
    payment = Payment.objects.get()
    assert payment.subscription is None and payment.user == user
