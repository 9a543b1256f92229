"""
POST /api/payments/webhook/: signatures, the delivery log, deduplication,
unknown types, processing errors and reprocessing.
"""

import json
import time
from io import StringIO

import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory

from django_torgovo_subscriptions.models import Payment, PaymentEvent, UserSubscription
from django_torgovo_subscriptions.payments.dummy import DummyGateway, webhook_secret
from django_torgovo_subscriptions.services import payments as billing
from tests.db_faults import inserts_fail
from tests.factories import make_plan
from tests.payments_support import DUMMY_WEBHOOK, STRIPE_WEBHOOK, pending, post_event

pytestmark = pytest.mark.django_db


def invoice_paid(subscription, invoice="in_dummy_t_1", event_id="evt_dummy_t_1_paid"):
    gateway = DummyGateway()
    customer = gateway.customer(subscription.user)
    body = gateway._invoice(subscription, customer.customer_id, "t", 1, int(time.time()), paid=True)
    body["id"] = invoice
    return gateway._event(event_id, "invoice.paid", body, int(time.time()))


def post_dummy(
    client, event, *, secret=None, timestamp=None, body=None, path=DUMMY_WEBHOOK, **extra
):
    return post_event(
        client,
        event,
        secret=secret or webhook_secret(),
        path=path,
        header="HTTP_DUMMY_SIGNATURE",
        timestamp=timestamp,
        body=body,
        **extra,
    )


@pytest.fixture
def pending_subscription(user, dummy):
    return pending(user, make_plan(slug="basic"))


def test_a_signed_event_is_stored_and_processed(anon, pending_subscription):
    event = invoice_paid(pending_subscription)
    response = post_dummy(anon, event)
    assert response.status_code == 200
    assert response.json() == {"received": True, "event_id": event["id"], "status": "processed"}
    stored = PaymentEvent.objects.get()
    assert (stored.gateway, stored.event_id, stored.event_type, stored.status) == (
        "dummy",
        event["id"],
        "invoice.paid",
        "processed",
    )
    assert stored.payload == event and json.loads(stored.body) == event
    assert (
        stored.subscription == pending_subscription and stored.processed_at and stored.attempts == 1
    )
    assert stored.remote_ip == "127.0.0.1" and "Dummy-Signature" in stored.headers
    pending_subscription.refresh_from_db()
    assert pending_subscription.status == "active"


@pytest.mark.parametrize(
    "case", ["wrong_secret", "stale", "tampered", "missing", "malformed_header"]
)
def test_bad_signatures_are_400_with_a_code_and_a_rejected_row(anon, pending_subscription, case):
    event = invoice_paid(pending_subscription)
    body = json.dumps(event).encode()
    if case == "wrong_secret":
        response = post_dummy(anon, event, secret="not-the-secret")
        code = "invalid_signature"
    elif case == "stale":
        response = post_dummy(anon, event, timestamp=int(time.time()) - 301)
        code = "stale_signature"
    elif case == "tampered":
        header = DummyGateway().sign(body)
        tampered = body.replace(b'"amount_paid": 2900', b'"amount_paid": 1')
        assert tampered != body
        response = anon.post(
            DUMMY_WEBHOOK, tampered, content_type="application/json", HTTP_DUMMY_SIGNATURE=header
        )
        code = "invalid_signature"
    elif case == "missing":
        response = anon.post(DUMMY_WEBHOOK, body, content_type="application/json")
        code = "missing_signature"
    else:
        response = anon.post(
            DUMMY_WEBHOOK, body, content_type="application/json", HTTP_DUMMY_SIGNATURE="sha256=abc"
        )
        code = "invalid_signature"

    assert response.status_code == 400
    assert response.json()["code"] == code
    row = PaymentEvent.objects.get()
    assert (row.status, row.error_code, row.event_id, row.payload) == ("rejected", code, "", None)
    assert row.body.startswith("{") and row.error
    pending_subscription.refresh_from_db()
    assert pending_subscription.status == "pending_payment" and not Payment.objects.exists()


def test_stripe_signatures_are_checked_the_same_way(anon, fake_stripe):
    event = fake_stripe.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert post_event(anon, event, secret="whsec_wrong").json()["code"] == "invalid_signature"
    assert (
        post_event(
            anon, event, secret=fake_stripe.webhook_secret, timestamp=int(time.time()) - 3600
        ).json()["code"]
        == "stale_signature"
    )
    missing = anon.post(STRIPE_WEBHOOK, json.dumps(event), content_type="application/json")
    assert (missing.status_code, missing.json()["code"]) == (400, "missing_signature")
    assert post_event(anon, event, secret=fake_stripe.webhook_secret).json()["status"] == "ignored"
    assert sorted(PaymentEvent.objects.values_list("status", "error_code")) == [
        ("ignored", ""),
        ("rejected", "invalid_signature"),
        ("rejected", "missing_signature"),
        ("rejected", "stale_signature"),
    ]


def test_a_signed_body_that_is_not_an_event_is_rejected(anon, dummy):
    for body in (b"not json", b"[1, 2]", b'{"id": "evt_1"}', b'{"id": "", "type": "x"}'):
        response = post_dummy(anon, None, body=body)
        assert (response.status_code, response.json()["code"]) == (400, "malformed_event")
    assert PaymentEvent.objects.filter(status="rejected", error_code="malformed_event").count() == 4


def test_secrets_in_headers_are_not_stored_and_rejected_bodies_are_capped(anon, dummy):
    anon.post(
        DUMMY_WEBHOOK,
        b"x" * 100_000,
        content_type="application/json",
        HTTP_AUTHORIZATION="Token secret",
        HTTP_COOKIE="sessionid=secret",
    )
    row = PaymentEvent.objects.get()
    assert len(row.body) == 64 * 1024
    assert not {"Authorization", "Cookie"} & set(row.headers)


def test_the_plain_url_uses_the_configured_gateway_and_others_are_404(anon, pending_subscription):
    event = invoice_paid(pending_subscription)
    assert post_dummy(anon, event, path="/api/payments/webhook/").json()["status"] == "processed"
    response = post_dummy(anon, event, path="/api/payments/webhook/stripe/")
    assert (response.status_code, response.json()["code"]) == (404, "unknown_gateway")


def test_no_gateway_configured_means_no_webhook(anon, settings):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": None,
    }
    response = anon.post("/api/payments/webhook/", b"{}", content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (404, "unknown_gateway")


def test_a_replay_is_a_200_no_op(anon, pending_subscription):
    event = invoice_paid(pending_subscription)
    post_dummy(anon, event)
    pending_subscription.refresh_from_db()
    end = pending_subscription.end_date
    for _ in range(3):
        response = post_dummy(anon, event)
        assert response.json()["status"] == "duplicate"
    pending_subscription.refresh_from_db()
    assert pending_subscription.end_date == end
    assert PaymentEvent.objects.count() == 1 and Payment.objects.count() == 1


def test_unknown_types_are_stored_and_acknowledged(anon, dummy):
    event = DummyGateway._event(
        "evt_unknown", "charge.dispute.created", {"id": "dp_1"}, int(time.time())
    )
    response = post_dummy(anon, event)
    assert response.json() == {"received": True, "event_id": "evt_unknown", "status": "ignored"}
    row = PaymentEvent.objects.get()
    assert row.status == "ignored" and "not acted on" in row.error and row.payload == event


def test_a_processing_error_is_a_500_kept_for_retry_then_reprocessed(anon, pending_subscription):
    event = invoice_paid(pending_subscription)

    with inserts_fail(Payment, "database hiccup"):
        response = post_dummy(anon, event)
        assert response.status_code == 500
        assert response.json()["code"] == "processing_error"
        row = PaymentEvent.objects.get()
        assert (row.status, row.error_code, row.attempts) == ("failed", "IntegrityError", 1)
        assert "database hiccup" in row.error and "Traceback" in row.error
        pending_subscription.refresh_from_db()
        assert pending_subscription.status == "pending_payment"  # rolled back with the event

        # The gateway retries: still failing, then fixed.
        assert post_dummy(anon, event).status_code == 500
    assert post_dummy(anon, event).json()["status"] == "processed"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == ("processed", 3, "")


def test_failed_events_are_reprocessed_by_the_command(pending_subscription):
    event = invoice_paid(pending_subscription)
    with inserts_fail(Payment, "database hiccup"):
        status, _ = DummyGateway().deliver(event)
    assert status == 500

    out = StringIO()
    call_command("process_payment_events", stdout=out)

    assert f"{event['id']} (invoice.paid): processed" in out.getvalue()
    pending_subscription.refresh_from_db()
    assert pending_subscription.status == "active"
    call_command("process_payment_events", "--id", event["id"], stdout=(again := StringIO()))
    assert (
        "processed" in again.getvalue() and Payment.objects.count() == 1
    )  # forced: still one payment


def test_the_admin_reprocess_action(admin_user, pending_subscription):
    event = invoice_paid(pending_subscription)
    with inserts_fail(Payment, "database hiccup"):
        assert DummyGateway().deliver(event)[0] == 500
    rejected = PaymentEvent.objects.create(
        gateway="dummy", status="rejected", error_code="invalid_signature"
    )
    # The action itself (the alt host mounts no admin URLs), its messages in a real store.
    request = RequestFactory().post("/admin/")
    request.user = admin_user
    request._messages = CookieStorage(request)

    site._registry[PaymentEvent].reprocess(request, PaymentEvent.objects.all())
    messages = [str(m) for m in request._messages]

    pending_subscription.refresh_from_db()
    assert pending_subscription.status == "active"
    assert PaymentEvent.objects.get(event_id=event["id"]).status == "processed"
    assert any("1 event(s) processed" in str(m) for m in messages)
    assert any(str(rejected.pk) in str(m) and "unverified" in str(m) for m in messages)


@pytest.mark.django_db(transaction=True)
def test_the_log_survives_atomic_requests(anon, user, dummy, monkeypatch):
    """A host with ATOMIC_REQUESTS keeps the rejected and failed rows (non_atomic_requests)."""
    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    subscription = pending(user, make_plan(slug="basic"))
    anon.post(DUMMY_WEBHOOK, b"{}", content_type="application/json")
    with inserts_fail(Payment, "database hiccup"):
        assert post_dummy(anon, invoice_paid(subscription)).status_code == 500
    assert sorted(PaymentEvent.objects.values_list("status", flat=True)) == ["failed", "rejected"]
    assert UserSubscription.objects.get().status == "pending_payment"


def test_the_webhook_needs_no_csrf_token_even_with_a_session(user, pending_subscription):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = post_dummy(client, invoice_paid(pending_subscription))
    assert response.status_code == 200 and response.json()["status"] == "processed"


def test_the_admin_pages_render(admin_client, pending_subscription):
    DummyGateway().pay(billing.create_checkout(pending_subscription)[0])
    for model in ("payment", "paymentevent", "gatewaycustomer", "checkoutsession"):
        assert admin_client.get(f"/admin/subscriptions/{model}/").status_code == 200
    event = PaymentEvent.objects.first()
    assert (
        admin_client.get(f"/admin/subscriptions/paymentevent/{event.pk}/change/").status_code == 200
    )
    payment = Payment.objects.get()
    assert admin_client.get(f"/admin/subscriptions/payment/{payment.pk}/change/").status_code == 200


@pytest.mark.parametrize("body", [b"\x00", b'{"id": "evt_\\u0000", "type": "x"}', b"\xed\xa0\x80"])
def test_bytes_no_database_holds_are_a_400_with_a_logged_row_not_a_500(anon, dummy, body):
    response = anon.post(DUMMY_WEBHOOK, body, content_type="application/json")
    assert (response.status_code, response.json()["code"]) == (400, "missing_signature")
    row = PaymentEvent.objects.get()
    assert row.status == "rejected" and "\x00" not in row.body


def test_a_signed_event_carrying_nul_is_stored_escaped_and_processed(anon, dummy):
    body = (
        b'{"id": "evt_nul", "type": "customer.created", "data": {"object": {"note": "a\\u0000b"}}}'
    )
    response = post_dummy(anon, None, body=body)
    assert response.status_code == 200, response.content
    row = PaymentEvent.objects.get()
    assert row.payload["data"]["object"]["note"] == "a\\x00b"
