"""
BtcPayGateway end to end: the gateway talks HTTP to a local fake of BTCPay's
Greenfield API (tests/fake_btcpay.py), and BTCPay's deliveries come back
signed ``BTCPay-Sig`` through POST /api/payments/webhook/btcpay/.
"""

import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.checks import check_settings
from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import (
    CheckoutSession,
    Payment,
    PaymentEvent,
    UserSubscription,
)
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from tests.factories import make_plan
from tests.fake_btcpay import sign
from tests.payments_support import pending

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/payments/webhook/btcpay/"


def post(client, delivery, secret, *, body=None, signature=None):
    body = json.dumps(delivery).encode() if body is None else body
    headers = {} if signature == "" else {"HTTP_BTCPAY_SIG": signature or sign(body, secret)}
    return client.post(WEBHOOK, body, content_type="application/json", **headers)


def deliver(client, fake, *deliveries):
    answers = [post(client, d, fake.webhook_secret) for d in deliveries]
    for answer in answers:
        assert answer.status_code == 200, answer.content
    return [answer.json() for answer in answers]


def checkout(api, subscription):
    return api.post(
        "/api/payments/create-checkout/", {"subscription_id": subscription.pk}, format="json"
    )


@pytest.fixture
def plan():
    return make_plan(name="Basic", slug="basic", monthly_price=Decimal("29.00"), currency="EUR")


@pytest.fixture
def invoice_id(api, user, plan, fake_btcpay):
    """A pending subscription's checkout invoice."""
    response = checkout(api, pending(user, plan))
    assert response.status_code == 201, response.content
    return response.json()["checkout_id"]


def subscription_of(user):
    return UserSubscription.objects.get(user=user)


def paid(api, user, fake, invoice_id):
    deliver(api, fake, *fake.pay(invoice_id), *fake.confirm(invoice_id))
    return subscription_of(user)


# --- configuration -------------------------------------------------------------------


def test_system_checks_name_each_missing_variable(settings, monkeypatch, fake_btcpay):
    assert not [e for e in check_settings() if e.id.startswith("subscriptions.E08")]
    for env in ("BTCPAY_URL", "BTCPAY_API_KEY", "BTCPAY_STORE_ID", "BTCPAY_WEBHOOK_SECRET"):
        monkeypatch.delenv(env)
    errors = {e.id: e.msg for e in check_settings() if e.id.startswith("subscriptions.E08")}
    assert set(errors) == {f"subscriptions.E08{n}" for n in (6, 7, 8, 9)}
    assert "BTCPAY_API_KEY" in errors["subscriptions.E087"]
    monkeypatch.setenv("BTCPAY_URL", "pay.example.com")
    assert "subscriptions.E086" in {e.id for e in check_settings()}


# --- checkout ------------------------------------------------------------------------


def test_checkout_is_an_invoice_in_the_plans_currency_with_our_metadata(
    api, user, plan, fake_btcpay
):
    subscription = pending(user, plan)
    response = checkout(api, subscription)

    assert response.status_code == 201, response.content
    body = response.json()
    invoice = fake_btcpay.invoices[body["checkout_id"]]
    assert body["gateway"] == "btcpay" and body["checkout_url"] == invoice["checkoutLink"]
    assert body["expires_at"] is not None
    [call] = fake_btcpay.requests_to("POST", r"/api/v1/stores/[^/]+/invoices")
    sent = json.loads(call["raw"])
    assert sent["amount"] == "29.00" and sent["currency"] == "EUR"
    assert sent["metadata"]["subscription_id"] == str(subscription.pk)
    assert sent["metadata"]["torgovo_kind"] == "subscription_create"
    assert sent["checkout"]["redirectURL"].endswith(f"/subscriptions/{subscription.pk}/")
    subscription.refresh_from_db()
    assert subscription.status == "pending_payment" and subscription.payment_method == "btcpay"


@pytest.mark.parametrize(
    ("breakage", "status", "code"),
    [
        ("down", 503, "gateway_unavailable"),
        ("slow", 503, "gateway_unavailable"),
        ("500", 503, "gateway_unavailable"),
        ("403", 502, "gateway_error"),
        ("key", 502, "gateway_error"),
    ],
)
def test_btcpay_failing_at_checkout_is_a_clear_error_and_nothing_is_stored(
    api, user, plan, fake_btcpay, monkeypatch, breakage, status, code
):
    subscription = pending(user, plan)
    if breakage == "down":
        fake_btcpay.stop()
    elif breakage == "slow":
        fake_btcpay.delay = 3
    elif breakage == "key":
        monkeypatch.setenv("BTCPAY_API_KEY", "revoked")
    else:
        fake_btcpay.fail_status = int(breakage)

    response = checkout(api, subscription)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert not CheckoutSession.objects.exists()
    subscription.refresh_from_db()
    assert subscription.status == "pending_payment" and subscription.payment_method == ""


# --- webhook signatures --------------------------------------------------------------


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        ("missing", "missing_signature"),
        ("wrong_secret", "invalid_signature"),
        ("body_changed", "invalid_signature"),
        ("no_prefix", "invalid_signature"),
        ("non_ascii", "invalid_signature"),
    ],
)
def test_a_badly_signed_delivery_is_rejected_and_logged(
    api, user, fake_btcpay, invoice_id, tamper, code
):
    delivery = fake_btcpay.pay(invoice_id)[0]
    body = json.dumps(delivery).encode()
    good = sign(body, fake_btcpay.webhook_secret)
    signature = {
        "missing": "",
        "wrong_secret": sign(body, "another-secret"),
        "body_changed": good,
        "no_prefix": good.removeprefix("sha256="),
        "non_ascii": "sha256=é" + good[8:],
    }[tamper]
    if tamper == "body_changed":
        body = body.replace(b'"afterExpiration": false', b'"afterExpiration": true')
        assert body != json.dumps(delivery).encode()

    response = post(api, None, None, body=body, signature=signature)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    [row] = PaymentEvent.objects.all()
    assert row.status == "rejected" and row.error_code == code and row.gateway == "btcpay"
    assert not Payment.objects.exists()


def test_a_signed_body_that_is_not_a_delivery_is_malformed(api, fake_btcpay):
    body = json.dumps({"hello": "world"}).encode()
    response = post(api, None, fake_btcpay.webhook_secret, body=body)
    assert response.status_code == 400 and response.json()["code"] == "malformed_event"


# --- event paths ---------------------------------------------------------------------


def test_received_and_processing_change_nothing_but_record_the_amount(
    api, user, fake_btcpay, invoice_id
):
    answers = deliver(api, fake_btcpay, *fake_btcpay.pay(invoice_id))

    assert [a["status"] for a in answers] == ["processed", "processed"]
    subscription = subscription_of(user)
    assert subscription.status == "pending_payment"
    payment = Payment.objects.get(gateway_invoice_id=invoice_id)
    assert payment.status == "pending" and payment.amount_received == Decimal("29.00")
    assert payment.amount == Decimal("29.00") and payment.currency == "EUR"


def test_settled_activates_the_subscription_once_for_a_month(api, user, fake_btcpay, invoice_id):
    confirmed = []
    signals.payment_confirmed.connect(lambda **kw: confirmed.append(kw["payment"].pk), weak=False)
    try:
        subscription = paid(api, user, fake_btcpay, invoice_id)
    finally:
        signals.payment_confirmed.receivers.clear()

    assert subscription.status == "active"
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert subscription.gateway_subscription_id == f"btcpay-{subscription.pk}"
    [payment] = Payment.objects.all()
    assert payment.status == "paid" and payment.gateway_invoice_id == invoice_id
    assert payment.period_start == subscription.start_date and payment.note == ""
    assert confirmed == [payment.pk]
    assert CheckoutSession.objects.get(session_id=invoice_id).status == "complete"


def test_the_webhook_is_a_hint_the_api_decides(api, user, fake_btcpay, invoice_id):
    """A correctly signed "settled" for an invoice the API says is part paid changes nothing."""
    fake_btcpay.pay(invoice_id, "10.00")
    forged = fake_btcpay.delivery("InvoiceSettled", invoice_id, manuallyMarked=False)

    [answer] = deliver(api, fake_btcpay, forged)

    assert answer["status"] == "processed"
    assert subscription_of(user).status == "pending_payment"
    payment = Payment.objects.get()
    assert payment.status == "pending" and payment.amount_received == Decimal("10.00")
    assert fake_btcpay.requests_to("GET", rf"/api/v1/invoices/{invoice_id}")
    assert fake_btcpay.requests_to("GET", rf"/api/v1/invoices/{invoice_id}/payment-methods")


def test_duplicate_and_redelivered_deliveries_apply_once(api, user, fake_btcpay, invoice_id):
    deliveries = [*fake_btcpay.pay(invoice_id), *fake_btcpay.confirm(invoice_id)]
    settled = deliveries[-1]
    deliver(api, fake_btcpay, *deliveries)
    reads = len(fake_btcpay.requests)

    again = deliver(api, fake_btcpay, settled, fake_btcpay.redeliver(settled))

    assert [a["status"] for a in again] == ["duplicate", "duplicate"]
    assert len(fake_btcpay.requests) == reads  # a duplicate is not even re-read
    subscription = subscription_of(user)
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert Payment.objects.count() == 1


def test_partial_then_expired_stays_pending_and_says_what_is_missing(
    api, user, fake_btcpay, invoice_id
):
    deliver(api, fake_btcpay, *fake_btcpay.pay(invoice_id, "20.00"))
    [answer] = deliver(api, fake_btcpay, *fake_btcpay.expire(invoice_id))

    assert answer["status"] == "processed"
    assert subscription_of(user).status == "pending_payment"
    payment = Payment.objects.get()
    assert payment.status == "pending" and payment.amount_received == Decimal("20.00")
    row = PaymentEvent.objects.get(event_type="InvoiceExpired")
    assert "9.00 missing" in row.error and "BTC (BTC-CHAIN)" in row.error
    [listed] = api.get("/api/payments/history/").json()["results"]
    assert listed["status"] == "pending" and listed["amount_missing"] == "9.00"
    assert listed["amount_received"] == "20.00"


def test_late_but_full_payment_settles(api, user, fake_btcpay, invoice_id):
    deliver(api, fake_btcpay, *fake_btcpay.expire(invoice_id))
    assert CheckoutSession.objects.get().status == "expired"

    subscription = paid(api, user, fake_btcpay, invoice_id)

    assert fake_btcpay.invoices[invoice_id]["additionalStatus"] == "PaidLate"
    assert subscription.status == "active"
    assert Payment.objects.get().status == "paid"


def test_overpaid_settles_and_records_the_excess(api, user, fake_btcpay, invoice_id):
    deliver(
        api, fake_btcpay, *fake_btcpay.pay(invoice_id, "35.50"), *fake_btcpay.confirm(invoice_id)
    )
    subscription = subscription_of(user)

    assert subscription.status == "active"
    payment = Payment.objects.get()
    assert payment.status == "paid" and payment.amount == Decimal("29.00")
    assert payment.amount_received == Decimal("35.50")
    assert "Overpaid by 6.50 EUR" in payment.note
    [listed] = api.get("/api/payments/history/").json()["results"]
    assert listed["amount_overpaid"] == "6.50" and listed["amount_missing"] == "0.00"


def test_expired_unpaid_checkout_closes_the_checkout(api, user, fake_btcpay, invoice_id):
    deliver(api, fake_btcpay, *fake_btcpay.expire(invoice_id))

    assert CheckoutSession.objects.get().status == "expired"
    assert subscription_of(user).status == "pending_payment"
    assert not Payment.objects.exists()


def test_invalid_is_a_failed_payment(api, user, fake_btcpay, invoice_id):
    deliver(api, fake_btcpay, *fake_btcpay.pay(invoice_id))
    deliver(api, fake_btcpay, *fake_btcpay.invalidate(invoice_id))

    payment = Payment.objects.get()
    assert payment.status == "failed" and "invalid" in payment.failure_reason
    assert subscription_of(user).status == "pending_payment"


def test_an_invoice_not_opened_here_pays_for_nothing(api, user, fake_btcpay, invoice_id):
    """Someone with access to the store copies our metadata onto a cheaper invoice."""
    _, forged = fake_btcpay.create_invoice(
        {
            "amount": "0.01",
            "currency": "EUR",
            "metadata": fake_btcpay.invoices[invoice_id]["metadata"],
        }
    )
    fake_btcpay.pay(forged["id"])

    answers = deliver(api, fake_btcpay, *fake_btcpay.confirm(forged["id"]))

    assert {a["status"] for a in answers} == {"ignored"}
    assert subscription_of(user).status == "pending_payment"
    assert not Payment.objects.exists()


def test_an_invoice_created_delivery_records_nothing(api, user, fake_btcpay, invoice_id):
    [answer] = deliver(api, fake_btcpay, fake_btcpay.delivery("InvoiceCreated", invoice_id))
    assert answer["status"] == "ignored" and not Payment.objects.exists()


def test_another_stores_delivery_is_ignored_without_asking_btcpay(
    api, user, fake_btcpay, invoice_id
):
    delivery = {**fake_btcpay.pay(invoice_id)[0], "storeId": "AnotherStore"}
    before = len(fake_btcpay.requests)

    [answer] = deliver(api, fake_btcpay, delivery)

    assert answer["status"] == "ignored" and len(fake_btcpay.requests) == before


@pytest.mark.parametrize(
    ("breakage", "status", "code"),
    [
        ("down", 503, "gateway_unavailable"),
        ("slow", 503, "gateway_unavailable"),
        ("404", 502, "gateway_error"),
    ],
)
def test_btcpay_failing_during_the_re_read_is_retried_and_nothing_is_half_written(
    api, user, fake_btcpay, invoice_id, breakage, status, code
):
    deliveries = [*fake_btcpay.pay(invoice_id), *fake_btcpay.confirm(invoice_id)]
    settled = deliveries[-1]
    if breakage == "down":
        port = fake_btcpay.server.server_address[1]
        fake_btcpay.stop()
    elif breakage == "slow":
        fake_btcpay.delay = 3
    else:
        fake_btcpay.fail_status = 404

    response = post(api, settled, fake_btcpay.webhook_secret)

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    row = PaymentEvent.objects.get()
    assert row.status == "failed" and row.error_code == code
    assert not Payment.objects.exists()
    assert subscription_of(user).status == "pending_payment"
    # BTCPay retries the delivery once it is back: it applies then, once.
    if breakage == "down":
        fake_btcpay.server = None
        fake_btcpay.start(port)
    fake_btcpay.delay, fake_btcpay.fail_status = 0, None
    [answer] = deliver(api, fake_btcpay, settled)
    assert answer["status"] == "processed"
    assert subscription_of(user).status == "active"


def test_missed_deliveries_are_recovered_from_the_invoices(api, user, fake_btcpay, invoice_id):
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    fake_btcpay.pay(invoice_id)
    fake_btcpay.confirm(invoice_id)  # the webhook endpoint was down: nothing delivered
    fake_btcpay.create_invoice({"amount": "5.00", "metadata": {"orderId": "not-ours"}})

    call_command("process_payment_events", "--from-gateway", "--since", since, stdout=StringIO())
    call_command("process_payment_events", "--from-gateway", "--since", since, stdout=StringIO())

    subscription = subscription_of(user)
    assert subscription.status == "active"
    assert subscription.end_date == add_months(subscription.start_date, 1)
    [event] = PaymentEvent.objects.all()
    assert event.event_id == f"api-{invoice_id}-Settled-None" and event.status == "processed"


def test_recovery_with_btcpay_down_is_a_command_error(fake_btcpay):
    fake_btcpay.fail_status = 503
    with pytest.raises(CommandError, match="BTCPay could not list the invoices"):
        call_command("process_payment_events", "--from-gateway", stdout=StringIO())


# --- renewals ------------------------------------------------------------------------


@pytest.fixture
def active(api, user, fake_btcpay, invoice_id):
    subscription = paid(api, user, fake_btcpay, invoice_id)
    assert subscription.status == "active"
    return subscription


def run_billing_before_the_end(subscription, seconds=600):
    return billing.run_billing(now=subscription.end_date - timedelta(seconds=seconds))


def test_the_billing_run_opens_one_renewal_invoice_and_signals_it(api, user, fake_btcpay, active):
    created = []
    signals.renewal_invoice_created.connect(
        lambda **kw: created.append((kw["payment"].pk, kw["payment"].payment_url)), weak=False
    )
    try:
        first = run_billing_before_the_end(active)
        second = run_billing_before_the_end(active, seconds=300)
    finally:
        signals.renewal_invoice_created.receivers.clear()

    assert first.renewals_charged == 1 and second.renewals_charged == 1 and not first.errors
    renewal = Payment.objects.get(status="pending")
    assert created == [(renewal.pk, renewal.payment_url)]
    invoice = fake_btcpay.invoices[renewal.gateway_invoice_id]
    assert renewal.payment_url == invoice["checkoutLink"]
    assert invoice["metadata"]["torgovo_kind"] == "subscription_cycle"
    assert invoice["metadata"]["period_start"] == active.end_date.isoformat()
    assert renewal.period_start == active.end_date
    assert renewal.period_end == add_months(active.start_date, 2)
    [listed] = [
        p for p in api.get("/api/payments/history/").json()["results"] if p["status"] == "pending"
    ]
    assert listed["payment_url"] == invoice["checkoutLink"] and listed["expires_at"]


def test_the_api_shows_the_pending_renewal_with_its_link_and_what_is_missing(
    api, user, fake_btcpay, active
):
    assert (
        api.get("/api/subscriptions/my-subscription/").json()["custom_bot"]["pending_renewal"]
        is None
    )
    run_billing_before_the_end(active)
    renewal = Payment.objects.get(status="pending")
    invoice = fake_btcpay.invoices[renewal.gateway_invoice_id]

    shown = api.get("/api/subscriptions/my-subscription/").json()["custom_bot"]["pending_renewal"]

    assert shown["payment_url"] == invoice["checkoutLink"] == renewal.payment_url
    assert shown["amount"] == "29.00" and shown["currency"] == "EUR"
    assert shown["expires_at"] and shown["amount_missing"] is None
    assert api.get(f"/api/subscriptions/{active.pk}/").json()["pending_renewal"] == shown
    [listed] = api.get("/api/subscriptions/").json()["results"]
    assert listed["pending_renewal"] == shown

    deliver(api, fake_btcpay, *fake_btcpay.pay(renewal.gateway_invoice_id, "20.00"))
    shown = api.get(f"/api/subscriptions/{active.pk}/").json()["pending_renewal"]
    assert shown["amount_missing"] == "9.00"

    deliver(
        api,
        fake_btcpay,
        *fake_btcpay.pay(renewal.gateway_invoice_id, "9.00"),
        *fake_btcpay.confirm(renewal.gateway_invoice_id),
    )
    assert api.get(f"/api/subscriptions/{active.pk}/").json()["pending_renewal"] is None


def test_a_paid_renewal_extends_the_period(api, user, fake_btcpay, active):
    run_billing_before_the_end(active)
    renewal = Payment.objects.get(status="pending")

    deliver(
        api,
        fake_btcpay,
        *fake_btcpay.pay(renewal.gateway_invoice_id),
        *fake_btcpay.confirm(renewal.gateway_invoice_id),
    )

    subscription = subscription_of(user)
    assert subscription.end_date == add_months(active.start_date, 2)
    renewal.refresh_from_db()
    assert renewal.status == "paid" and renewal.billing_reason == "subscription_cycle"


def test_an_unpaid_renewal_goes_past_due_then_expires(api, user, fake_btcpay, active, settings):
    run_billing_before_the_end(active)
    renewal = Payment.objects.get(status="pending")

    deliver(api, fake_btcpay, *fake_btcpay.expire(renewal.gateway_invoice_id))

    subscription = subscription_of(user)
    assert subscription.status == "past_due"
    renewal.refresh_from_db()
    assert renewal.status == "failed" and renewal.failure_reason == "The invoice expired unpaid."
    grace = settings.TORGOVO_SUBSCRIPTIONS.get("PAST_DUE_GRACE_SECONDS", 7 * 24 * 3600)
    report = billing.run_billing(now=subscription.end_date + timedelta(seconds=grace + 60))
    assert report.past_due_expired == 1 and not report.errors
    assert subscription_of(user).status == "expired"


def test_a_past_due_subscription_gets_a_fresh_renewal_invoice_for_its_grace_period(
    api, user, fake_btcpay, active
):
    created = []
    signals.renewal_invoice_created.connect(
        lambda **kw: created.append(kw["payment"].gateway_invoice_id), weak=False
    )
    try:
        run_billing_before_the_end(active)
        expired = Payment.objects.get(status="pending")
        deliver(api, fake_btcpay, *fake_btcpay.expire(expired.gateway_invoice_id))
        assert subscription_of(user).status == "past_due"
        after_the_end = active.end_date + timedelta(hours=2)

        first = billing.run_billing(now=after_the_end)
        second = billing.run_billing(now=after_the_end + timedelta(minutes=5))
    finally:
        signals.renewal_invoice_created.receivers.clear()

    assert not first.errors and not second.errors
    fresh = Payment.objects.get(status="pending")
    assert fresh.gateway_invoice_id != expired.gateway_invoice_id
    assert created == [expired.gateway_invoice_id, fresh.gateway_invoice_id]
    assert len(fake_btcpay.invoices) == 3  # checkout, expired renewal, fresh renewal
    assert fresh.period_start == active.end_date and fresh.payment_url
    # Open until the grace period ends (the fake counts the minutes from its own clock).
    grace = timedelta(seconds=subscriptions_settings.PAST_DUE_GRACE_SECONDS)
    *_, opened = fake_btcpay.requests_to("POST", r"/api/v1/stores/[^/]+/invoices")
    minutes = json.loads(opened["raw"])["checkout"]["expirationMinutes"]
    assert minutes == (active.end_date + grace - after_the_end).total_seconds() // 60
    shown = api.get(f"/api/subscriptions/{active.pk}/").json()["pending_renewal"]
    assert shown["payment_url"] == fresh.payment_url

    deliver(
        api,
        fake_btcpay,
        *fake_btcpay.pay(fresh.gateway_invoice_id),
        *fake_btcpay.confirm(fresh.gateway_invoice_id),
    )
    subscription = subscription_of(user)
    assert subscription.status == "active"
    assert subscription.end_date == add_months(active.start_date, 2)


def test_no_fresh_renewal_invoice_once_the_grace_period_is_over(api, user, fake_btcpay, active):
    run_billing_before_the_end(active)
    expired = Payment.objects.get(status="pending")
    deliver(api, fake_btcpay, *fake_btcpay.expire(expired.gateway_invoice_id))
    grace = subscriptions_settings.PAST_DUE_GRACE_SECONDS

    report = billing.run_billing(now=active.end_date + timedelta(seconds=grace + 60))

    assert report.renewals_charged == 0 and report.past_due_expired == 1
    assert not Payment.objects.filter(status="pending").exists()


def stop_renewal(api, subscription, how):
    url = f"/api/subscriptions/{subscription.pk}/"
    if how == "delete":
        return api.delete(url)
    body = {"status": "cancelled"} if how == "patch_status" else {"auto_renew": False}
    return api.patch(url, body, format="json")


@pytest.mark.parametrize(
    ("how", "status"),
    [("delete", "cancelled"), ("patch_status", "cancelled"), ("patch_auto_renew", "active")],
)
def test_stopping_renewal_withdraws_the_open_renewal_invoice_at_btcpay(
    api, user, fake_btcpay, active, how, status
):
    run_billing_before_the_end(active)
    renewal = Payment.objects.get(status="pending")
    failed = []
    signals.payment_failed.connect(lambda **kw: failed.append(kw["payment"].pk), weak=False)
    try:
        response = stop_renewal(api, active, how)
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
        assert response.json()["pending_renewal"] is None
        [marked] = fake_btcpay.requests_to(
            "POST", rf"/api/v1/invoices/{renewal.gateway_invoice_id}/status"
        )
        assert json.loads(marked["raw"]) == {"status": "Invalid"}
        assert fake_btcpay.invoices[renewal.gateway_invoice_id]["status"] == "Invalid"
        renewal.refresh_from_db()
        assert renewal.status == "failed" and "Withdrawn" in renewal.failure_reason

        # BTCPay reports the invoice invalid: recorded already, nothing changes.
        [answer] = deliver(api, fake_btcpay, *fake_btcpay.outbox)
    finally:
        signals.payment_failed.receivers.clear()

    assert answer["status"] == "processed"
    subscription = subscription_of(user)
    assert subscription.status == status and subscription.end_date == active.end_date
    assert failed == []
    # Nothing is opened again while renewal is off.
    run_billing_before_the_end(active, seconds=60)
    assert not Payment.objects.filter(status="pending").exists()


def test_renewal_turned_back_on_gets_a_fresh_invoice(api, user, fake_btcpay, active):
    run_billing_before_the_end(active)
    withdrawn = Payment.objects.get(status="pending")
    assert stop_renewal(api, active, "patch_auto_renew").status_code == 200
    url = f"/api/subscriptions/{active.pk}/"
    assert api.patch(url, {"auto_renew": True}, format="json").status_code == 200

    run_billing_before_the_end(active, seconds=60)

    fresh = Payment.objects.get(status="pending")
    assert fresh.gateway_invoice_id != withdrawn.gateway_invoice_id
    assert api.get(url).json()["pending_renewal"]["payment_url"] == fresh.payment_url


def test_cancelling_a_past_due_subscription_withdraws_its_fresh_invoice(
    api, user, fake_btcpay, active
):
    run_billing_before_the_end(active)
    expired = Payment.objects.get(status="pending")
    deliver(api, fake_btcpay, *fake_btcpay.expire(expired.gateway_invoice_id))
    billing.run_billing(now=active.end_date + timedelta(hours=1))
    fresh = Payment.objects.get(status="pending")

    response = api.delete(f"/api/subscriptions/{active.pk}/")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert fake_btcpay.invoices[fresh.gateway_invoice_id]["status"] == "Invalid"
    fresh.refresh_from_db()
    assert fresh.status == "failed"


def test_an_invoice_money_has_reached_is_not_withdrawn(api, user, fake_btcpay, active):
    run_billing_before_the_end(active)
    renewal = Payment.objects.get(status="pending")
    deliver(api, fake_btcpay, *fake_btcpay.pay(renewal.gateway_invoice_id, "10.00"))

    assert api.delete(f"/api/subscriptions/{active.pk}/").status_code == 200

    assert not fake_btcpay.requests_to("POST", r"/api/v1/invoices/[^/]+/status")
    renewal.refresh_from_db()
    assert renewal.status == "pending" and renewal.amount_received == Decimal("10.00")


@pytest.mark.parametrize(
    ("breakage", "status", "code"),
    [("down", 503, "gateway_unavailable"), ("403", 502, "gateway_error")],
)
@pytest.mark.parametrize("how", ["delete", "patch_status", "patch_auto_renew"])
def test_btcpay_failing_during_a_cancel_refuses_it_and_changes_nothing(
    api, user, fake_btcpay, active, how, breakage, status, code
):
    run_billing_before_the_end(active)
    renewal = Payment.objects.get(status="pending")
    if breakage == "down":
        fake_btcpay.stop()
    else:
        fake_btcpay.fail_status = 403

    response = stop_renewal(api, active, how)

    assert (response.status_code, response.json()["code"]) == (status, code)
    subscription = subscription_of(user)
    assert (subscription.status, subscription.auto_renew) == ("active", True)
    renewal.refresh_from_db()
    assert renewal.status == "pending" and renewal.failure_reason == ""
    assert fake_btcpay.invoices[renewal.gateway_invoice_id]["status"] == "New"


def test_btcpay_down_at_renewal_is_reported_and_retried(api, user, fake_btcpay, active):
    fake_btcpay.fail_status = 502
    report = run_billing_before_the_end(active)
    assert report.renewals_charged == 0 and "BTCPay" in report.errors[0]
    assert not Payment.objects.filter(status="pending").exists()

    fake_btcpay.fail_status = None
    assert run_billing_before_the_end(active).renewals_charged == 1
    assert Payment.objects.filter(status="pending").count() == 1


def test_the_billing_command_prints_a_failed_renewal_as_code_and_sentence(
    api, user, fake_btcpay, active
):
    fake_btcpay.fail_status = 503
    out, err = StringIO(), StringIO()
    # The command's own clock: make the renewal due now.
    UserSubscription.objects.filter(pk=active.pk).update(
        end_date=timezone.now() + timedelta(minutes=10)
    )

    with pytest.raises(SystemExit):
        call_command("billing", stdout=out, stderr=err)

    [line] = err.getvalue().splitlines()
    assert line == (
        f"Error: subscription {active.pk}: gateway_unavailable: "
        "BTCPay could not list the invoices: it answered 503."
    )


def test_a_renewal_invoice_left_by_a_crashed_run_is_reused(api, user, fake_btcpay, active):
    run_billing_before_the_end(active)
    renewal = Payment.objects.get(status="pending")
    orphan = renewal.gateway_invoice_id
    renewal.delete()  # the run died before its transaction committed

    run_billing_before_the_end(active)

    assert len(fake_btcpay.invoices) == 2  # the checkout's and the orphan, no third
    renewal = Payment.objects.get(status="pending")
    assert renewal.gateway_invoice_id == orphan


def test_an_invoice_with_our_order_id_but_another_price_is_not_reused(
    api, user, fake_btcpay, active
):
    order_id = f"torgovo-{active.pk}-renewal-{int(active.end_date.timestamp())}"
    _, planted = fake_btcpay.create_invoice(
        {"amount": "0.50", "currency": "EUR", "metadata": {"orderId": order_id}}
    )

    run_billing_before_the_end(active)

    renewal = Payment.objects.get(status="pending")
    assert renewal.gateway_invoice_id != planted["id"] and renewal.amount == Decimal("29.00")
    assert len(fake_btcpay.invoices) == 3
