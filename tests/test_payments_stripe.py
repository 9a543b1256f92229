"""
StripeGateway end to end: the SDK talks HTTP to a local fake of Stripe's API
(tests/fake_stripe.py), and Stripe's events come back signed in Stripe's
scheme through POST /api/payments/webhook/stripe/.
"""

import sys
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from django_torgovo_subscriptions.checks import check_settings
from django_torgovo_subscriptions.models import (
    CheckoutSession,
    GatewayCustomer,
    Payment,
    PaymentEvent,
    UserSubscription,
)
from django_torgovo_subscriptions.payments.events import parse_stripe_event
from django_torgovo_subscriptions.payments.stripe import STRIPE_API_VERSION
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from tests.factories import make_plan
from tests.payments_support import PRICE_ID, deliver, pending, post_event

pytestmark = pytest.mark.django_db


def checkout(api, subscription):
    return api.post(
        "/api/payments/create-checkout/", {"subscription_id": subscription.pk}, format="json"
    )


def paid_subscription(api, user, plan, fake):
    subscription = pending(user, plan)
    session_id = checkout(api, subscription).json()["checkout_id"]
    deliver(api, fake, *fake.complete_checkout(session_id))
    subscription.refresh_from_db()
    return subscription


# --- checkout --------------------------------------------------------------------------


def test_checkout_is_a_subscription_mode_session_for_the_users_customer(
    api, user, stripe_plan, fake_stripe
):
    user.email = "alice@example.com"
    user.save()
    subscription = pending(user, stripe_plan)

    response = checkout(api, subscription)

    assert response.status_code == 201, response.content
    body = response.json()
    session = fake_stripe.sessions[body["checkout_id"]]
    assert body["gateway"] == "stripe" and body["checkout_url"] == session["url"]
    assert body["subscription_id"] == subscription.pk and body["status"] == "open"
    [customer_call] = fake_stripe.requests_to("POST", "/v1/customers")
    assert customer_call["params"] == {
        "email": "alice@example.com",
        "metadata": {"user_id": str(user.pk)},
    }
    [call] = fake_stripe.requests_to("POST", "/v1/checkout/sessions")
    params = call["params"]
    assert params["mode"] == "subscription"
    assert params["line_items"] == [{"price": PRICE_ID, "quantity": "1"}]
    assert (
        params["customer"] == GatewayCustomer.objects.get(user=user, gateway="stripe").customer_id
    )
    assert params["client_reference_id"] == str(subscription.pk)
    reference = {"subscription_id": str(subscription.pk), "user_id": str(user.pk)}
    assert params["metadata"] == reference and params["subscription_data"] == {
        "metadata": reference
    }
    assert params["success_url"].endswith(f"/api/subscriptions/{subscription.pk}/")
    # The pinned API version, and the key from the environment.
    assert call["headers"]["Stripe-Version"] == STRIPE_API_VERSION
    assert call["headers"]["Authorization"] == f"Bearer {fake_stripe.secret_key}"
    subscription.refresh_from_db()
    assert (subscription.status, subscription.payment_method) == ("pending_payment", "stripe")


def test_the_customer_is_created_once_and_an_open_checkout_is_reused(
    api, user, stripe_plan, fake_stripe
):
    subscription = pending(user, stripe_plan)
    first = checkout(api, subscription)
    again = checkout(api, subscription)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert len(fake_stripe.requests_to("POST", "/v1/checkout/sessions")) == 1

    CheckoutSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    third = checkout(api, subscription)
    assert third.status_code == 201 and third.json()["checkout_id"] != first.json()["checkout_id"]
    assert len(fake_stripe.requests_to("POST", "/v1/customers")) == 1


def test_redirect_urls_come_from_the_settings(api, user, stripe_plan, fake_stripe, settings):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "CHECKOUT_SUCCESS_URL": "https://app.example/paid?s={SUBSCRIPTION_ID}&cs={CHECKOUT_SESSION_ID}",
        "CHECKOUT_CANCEL_URL": "https://app.example/plans",
    }
    subscription = pending(user, stripe_plan)
    checkout(api, subscription)
    params = fake_stripe.requests_to("POST", "/v1/checkout/sessions")[0]["params"]
    assert (
        params["success_url"]
        == f"https://app.example/paid?s={subscription.pk}&cs={{CHECKOUT_SESSION_ID}}"
    )
    assert params["cancel_url"] == "https://app.example/plans"


def test_a_plan_without_a_stripe_price_is_a_409(api, user, fake_stripe):
    subscription = pending(user, make_plan(slug="no-price"))
    response = checkout(api, subscription)
    assert (response.status_code, response.json()["code"]) == (409, "price_not_configured")
    assert not fake_stripe.requests_to("POST", "/v1/checkout/sessions")


def test_stripe_refusing_or_unreachable_is_a_502_and_stores_nothing(
    api, user, stripe_plan, fake_stripe
):
    from tests.fake_stripe import StripeError

    subscription = pending(user, stripe_plan)
    fake_stripe.fail_next = StripeError(400, "No such price: 'price_x'", code="resource_missing")
    response = checkout(api, subscription)
    assert (response.status_code, response.json()["code"]) == (502, "gateway_error")
    fake_stripe.stop()
    response = checkout(api, subscription)
    assert (response.status_code, response.json()["code"]) == (502, "gateway_error")
    assert not CheckoutSession.objects.exists()
    subscription.refresh_from_db()
    assert subscription.status == "pending_payment"


@pytest.mark.parametrize("status", ["active", "cancelled", "expired", "past_due"])
def test_only_a_pending_subscription_can_be_checked_out(
    api, user, stripe_plan, fake_stripe, status
):
    from tests.factories import make_subscription

    subscription = make_subscription(user, stripe_plan, status=status)
    response = checkout(api, subscription)
    assert (response.status_code, response.json()["code"]) == (409, "not_pending_payment")
    assert status in response.json()["detail"]


def test_another_users_subscription_is_a_404(api, other_user, stripe_plan, fake_stripe):
    response = checkout(api, pending(other_user, stripe_plan))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_without_a_gateway_checkout_is_a_409(api, user, settings):
    from tests.factories import make_subscription

    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": None,
    }
    subscription = make_subscription(user, status="pending_payment", start_date=None, end_date=None)
    response = checkout(api, subscription)
    assert (response.status_code, response.json()["code"]) == (409, "payments_disabled")


# --- the first payment ------------------------------------------------------------------


def test_the_redirect_does_not_activate_only_the_verified_event_does(
    api, user, stripe_plan, fake_stripe
):
    subscription = pending(user, stripe_plan)
    session_id = checkout(api, subscription).json()["checkout_id"]
    completed, invoice_paid = fake_stripe.complete_checkout(session_id)
    # The browser comes back to success_url: nothing changes.
    assert api.get(f"/api/subscriptions/{subscription.pk}/").json()["status"] == "pending_payment"

    before = timezone.now()
    deliver(api, fake_stripe, completed)
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.gateway_subscription_id.startswith(
        "sub_"
    )
    assert before - timedelta(seconds=5) <= subscription.start_date <= timezone.now()
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert CheckoutSession.objects.get().status == "complete"

    deliver(api, fake_stripe, invoice_paid)  # the same invoice: already applied
    payment = Payment.objects.get()
    subscription.refresh_from_db()
    assert subscription.end_date == add_months(subscription.start_date, 1)
    assert (payment.status, payment.amount, payment.currency) == ("paid", Decimal("29.00"), "USD")
    assert payment.gateway_invoice_id == invoice_paid["data"]["object"]["id"]
    assert payment.checkout_session_id == session_id
    assert (payment.period_start, payment.period_end) == (
        subscription.start_date,
        subscription.end_date,
    )
    assert payment.billing_reason == "subscription_create" and payment.user == user
    assert list(PaymentEvent.objects.values_list("status", flat=True)) == ["processed", "processed"]


def test_invoice_paid_before_checkout_completed_ends_the_same(api, user, stripe_plan, fake_stripe):
    subscription = pending(user, stripe_plan)
    session_id = checkout(api, subscription).json()["checkout_id"]
    completed, invoice_paid = fake_stripe.complete_checkout(session_id)

    deliver(api, fake_stripe, invoice_paid)
    subscription.refresh_from_db()
    assert subscription.status == "active"
    first_end = subscription.end_date
    deliver(api, fake_stripe, completed)

    subscription.refresh_from_db()
    assert subscription.end_date == first_end
    assert subscription.gateway_subscription_id == completed["data"]["object"]["subscription"]
    assert Payment.objects.count() == 1
    assert Payment.objects.get().checkout_session_id == session_id  # filled in by the later event
    assert CheckoutSession.objects.get().status == "complete"


def test_a_replayed_delivery_is_a_200_no_op(api, user, stripe_plan, fake_stripe):
    subscription = pending(user, stripe_plan)
    session_id = checkout(api, subscription).json()["checkout_id"]
    completed, _ = fake_stripe.complete_checkout(session_id)
    deliver(api, fake_stripe, completed)
    subscription.refresh_from_db()
    end = subscription.end_date

    response = post_event(api, completed, secret=fake_stripe.webhook_secret)

    assert response.status_code == 200
    assert response.json() == {"received": True, "event_id": completed["id"], "status": "duplicate"}
    subscription.refresh_from_db()
    assert subscription.end_date == end and PaymentEvent.objects.count() == 1


def test_events_about_other_products_are_acknowledged_and_ignored(api, fake_stripe, stripe_plan):
    event = fake_stripe.event(
        "invoice.paid",
        {
            "id": "in_other",
            "object": "invoice",
            "amount_paid": 500,
            "currency": "usd",
            "customer": "cus_other",
            "parent": None,
            "status": "paid",
        },
    )
    response = post_event(api, event, secret=fake_stripe.webhook_secret)
    assert response.json()["status"] == "ignored"
    assert PaymentEvent.objects.get().error == "The event names no subscription of this server."
    assert not Payment.objects.exists()


def test_an_event_whose_customer_belongs_to_another_user_changes_nothing(
    api, user, other_user, stripe_plan, fake_stripe
):
    subscription = pending(user, stripe_plan)
    GatewayCustomer.objects.create(user=other_user, gateway="stripe", customer_id="cus_mallory")
    session_id = checkout(api, subscription).json()["checkout_id"]
    _, invoice_paid = fake_stripe.complete_checkout(session_id)
    invoice_paid["data"]["object"]["customer"] = "cus_mallory"
    assert (
        post_event(api, invoice_paid, secret=fake_stripe.webhook_secret).json()["status"]
        == "ignored"
    )
    subscription.refresh_from_db()
    assert subscription.status == "pending_payment" and not Payment.objects.exists()


# --- renewals and failures -------------------------------------------------------------


def test_each_renewal_invoice_extends_by_one_calendar_month_once(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    start = subscription.start_date
    for months in (2, 3):
        [paid] = fake_stripe.renew(subscription.gateway_subscription_id)
        deliver(api, fake_stripe, paid)
        # Stripe may report the same invoice in another event: still one month.
        duplicate = {**paid, "id": paid["id"] + "_again"}
        deliver(api, fake_stripe, duplicate)
        subscription.refresh_from_db()
        assert subscription.end_date == add_months(start, months)
    renewals = Payment.objects.filter(billing_reason="subscription_cycle").order_by("period_start")
    assert [(p.period_start, p.period_end) for p in renewals] == [
        (add_months(start, 1), add_months(start, 2)),
        (add_months(start, 2), add_months(start, 3)),
    ]


def test_a_failed_renewal_is_past_due_with_the_reason_then_a_retry_pays(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    end = subscription.end_date
    failed, updated = fake_stripe.renew(
        subscription.gateway_subscription_id,
        paid=False,
        decline=("card_declined", "Your card has insufficient funds."),
    )
    deliver(api, fake_stripe, failed, updated)

    subscription.refresh_from_db()
    assert subscription.status == "past_due" and not subscription.is_live()
    payment = Payment.objects.get(gateway_invoice_id=failed["data"]["object"]["id"])
    assert (
        payment.status == "failed" and payment.failure_reason == "Your card has insufficient funds."
    )
    assert payment.attempt_count == 1 and payment.failed_at is not None
    lookup = fake_stripe.requests_to("GET", "/v1/invoice_payments")[0]["params"]
    assert lookup == {
        "invoice": payment.gateway_invoice_id,
        "expand": ["data.payment.payment_intent"],
    }
    history = api.get("/api/payments/history/").json()["results"]
    assert (
        history[0]["status"] == "failed"
        and history[0]["failure_reason"] == "Your card has insufficient funds."
    )

    [paid] = fake_stripe.pay_invoice(payment.gateway_invoice_id)
    deliver(api, fake_stripe, paid)
    subscription.refresh_from_db()
    payment.refresh_from_db()
    assert subscription.status == "active" and subscription.end_date == add_months(
        subscription.start_date, 2
    )
    assert end == add_months(subscription.start_date, 1)
    assert (payment.status, payment.failure_reason, payment.attempt_count) == ("paid", "", 2)


def test_a_failure_reported_after_the_payment_keeps_it_paid(api, user, stripe_plan, fake_stripe):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    failed, _ = fake_stripe.renew(subscription.gateway_subscription_id, paid=False)
    [paid] = fake_stripe.pay_invoice(failed["data"]["object"]["id"])
    deliver(api, fake_stripe, paid, failed)  # out of order
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert Payment.objects.get(gateway_invoice_id=failed["data"]["object"]["id"]).status == "paid"


def test_the_reason_falls_back_when_stripe_cannot_say(api, user, stripe_plan, fake_stripe):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    failed, _ = fake_stripe.renew(subscription.gateway_subscription_id, paid=False)
    fake_stripe.stop()  # the lookup fails; the failure is recorded anyway
    deliver(api, fake_stripe, failed)
    assert (
        Payment.objects.get(status="failed").failure_reason
        == "The payment was declined (attempt 1)."
    )


# --- renewal switched here or at Stripe --------------------------------------------------


def test_cancelling_here_stops_renewal_at_stripe_first(api, user, stripe_plan, fake_stripe):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    gateway_id = subscription.gateway_subscription_id

    response = api.delete(f"/api/subscriptions/{subscription.pk}/")

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert fake_stripe.subscriptions[gateway_id]["cancel_at_period_end"] is True
    # Stripe's echo of the change does not undo or repeat anything.
    [echo] = [
        fake_stripe.event(
            "customer.subscription.updated",
            fake_stripe.subscriptions[gateway_id],
            created=int(timezone.now().timestamp()) - 2,
        )
    ]
    deliver(api, fake_stripe, echo)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew) == ("cancelled", False)

    resumed = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"auto_renew": True}, format="json"
    )
    assert resumed.json()["status"] == "active"
    assert fake_stripe.subscriptions[gateway_id]["cancel_at_period_end"] is False
    assert len(fake_stripe.requests_to("POST", f"/v1/subscriptions/{gateway_id}")) == 2


def test_when_stripe_cannot_be_told_the_cancellation_is_refused(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    fake_stripe.stop()
    response = api.delete(f"/api/subscriptions/{subscription.pk}/")
    assert (response.status_code, response.json()["code"]) == (502, "gateway_error")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew) == ("active", True)


def test_cancelling_by_patch_stops_renewal_at_stripe_as_delete_does(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    gateway_id = subscription.gateway_subscription_id
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"status": "cancelled"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert fake_stripe.subscriptions[gateway_id]["cancel_at_period_end"] is True
    assert len(fake_stripe.requests_to("POST", f"/v1/subscriptions/{gateway_id}")) == 1


def test_cancelling_by_patch_is_refused_when_stripe_cannot_be_told(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    fake_stripe.stop()
    response = api.patch(
        f"/api/subscriptions/{subscription.pk}/", {"status": "cancelled"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (502, "gateway_error")
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew) == ("active", True)


def test_renewal_switched_in_stripes_portal_is_mirrored(api, user, stripe_plan, fake_stripe):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    UserSubscription.objects.filter(pk=subscription.pk).update(
        updated_at=timezone.now() - timedelta(minutes=1)
    )
    deliver(
        api,
        fake_stripe,
        *fake_stripe.set_cancel_at_period_end(subscription.gateway_subscription_id, True),
    )
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew, subscription.is_live()) == (
        "cancelled",
        False,
        True,
    )

    UserSubscription.objects.filter(pk=subscription.pk).update(
        updated_at=timezone.now() - timedelta(minutes=1)
    )
    deliver(
        api,
        fake_stripe,
        *fake_stripe.set_cancel_at_period_end(subscription.gateway_subscription_id, False),
    )
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew, subscription.cancelled_at) == (
        "active",
        True,
        None,
    )
    # Mirroring a change made at Stripe never calls Stripe back.
    assert not fake_stripe.requests_to(
        "POST", f"/v1/subscriptions/{subscription.gateway_subscription_id}"
    )[2:]


def test_a_deleted_stripe_subscription_keeps_the_paid_time_then_expires(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    deliver(api, fake_stripe, *fake_stripe.delete(subscription.gateway_subscription_id))
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew, subscription.is_live()) == (
        "cancelled",
        False,
        True,
    )

    UserSubscription.objects.filter(pk=subscription.pk).update(status="past_due")
    event = fake_stripe.event(
        "customer.subscription.deleted",
        fake_stripe.subscriptions[subscription.gateway_subscription_id],
    )
    deliver(api, fake_stripe, event)
    subscription.refresh_from_db()
    assert subscription.status == "expired"


def test_a_second_checkout_paid_for_the_same_subscription_is_cancelled_for_a_refund(
    api, user, stripe_plan, fake_stripe
):
    subscription = pending(user, stripe_plan)
    first = checkout(api, subscription).json()["checkout_id"]
    CheckoutSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    second = checkout(api, subscription).json()["checkout_id"]
    deliver(api, fake_stripe, *fake_stripe.complete_checkout(first))
    subscription.refresh_from_db()
    end = subscription.end_date

    completed, paid = fake_stripe.complete_checkout(second)
    deliver(api, fake_stripe, completed, paid)

    extra = completed["data"]["object"]["subscription"]
    assert fake_stripe.subscriptions[extra]["status"] == "canceled"
    subscription.refresh_from_db()
    assert subscription.end_date == end and subscription.gateway_subscription_id != extra
    refund = Payment.objects.get(gateway_subscription_id=extra)
    assert refund.status == "paid" and "refund" in refund.note
    assert len(fake_stripe.requests_to("DELETE", f"/v1/subscriptions/{extra}")) == 1


# --- recovery and checks --------------------------------------------------------------------


def test_events_missed_while_the_endpoint_was_down_are_recovered(
    api, user, stripe_plan, fake_stripe
):
    subscription = pending(user, stripe_plan)
    session_id = checkout(api, subscription).json()["checkout_id"]
    fake_stripe.complete_checkout(session_id)  # never delivered

    out = StringIO()
    call_command(
        "process_payment_events",
        "--from-gateway",
        "--since",
        (timezone.now() - timedelta(hours=1)).isoformat(),
        stdout=out,
    )

    assert "stripe: fetched 2 events (2 new): processed 2, failed 0." in out.getvalue()
    subscription.refresh_from_db()
    assert subscription.status == "active" and Payment.objects.count() == 1
    call_command("process_payment_events", "--from-gateway", stdout=StringIO())
    assert PaymentEvent.objects.count() == 2


def test_the_billing_run_cancels_a_long_past_due_subscription_at_stripe(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    deliver(api, fake_stripe, *fake_stripe.renew(subscription.gateway_subscription_id, paid=False))
    subscription.refresh_from_db()
    report = billing.run_billing(now=subscription.end_date + timedelta(days=8))
    subscription.refresh_from_db()
    assert report.past_due_expired == 1 and subscription.status == "expired"
    assert fake_stripe.subscriptions[subscription.gateway_subscription_id]["status"] == "canceled"
    # Already cancelled at Stripe: a second attempt is fine.
    from django_torgovo_subscriptions.payments.stripe import StripeGateway

    StripeGateway().cancel_subscription(subscription.gateway_subscription_id)
    StripeGateway().cancel_subscription("sub_gone")  # unknown at Stripe: nothing left to charge


def test_parse_reads_basil_and_older_invoice_shapes():
    basil = {
        "id": "evt_1",
        "type": "invoice.paid",
        "created": 1764083532,
        "data": {
            "object": {
                "id": "in_1",
                "object": "invoice",
                "amount_paid": 2900,
                "currency": "usd",
                "customer": "cus_1",
                "billing_reason": "subscription_cycle",
                "attempt_count": 1,
                "parent": {
                    "type": "subscription_details",
                    "subscription_details": {
                        "subscription": "sub_1",
                        "metadata": {"subscription_id": "7"},
                    },
                },
                "status_transitions": {"paid_at": 1764083530},
            }
        },
    }
    event = parse_stripe_event(basil)
    assert (
        event.kind,
        event.reference,
        event.gateway_subscription_id,
        event.amount,
        event.currency,
    ) == ("invoice_paid", 7, "sub_1", Decimal("29.00"), "USD")
    older = {
        "id": "evt_2",
        "type": "invoice.paid",
        "data": {
            "object": {
                "id": "in_2",
                "object": "invoice",
                "amount_paid": 1000,
                "currency": "jpy",
                "customer": "cus_1",
                "subscription": "sub_2",
                "subscription_details": {"metadata": {"subscription_id": "8"}},
            }
        },
    }
    event = parse_stripe_event(older)
    assert (event.reference, event.gateway_subscription_id, event.amount) == (
        8,
        "sub_2",
        Decimal("1000.00"),
    )


def test_system_checks_require_the_stripe_environment(settings, monkeypatch):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": "django_torgovo_subscriptions.payments.stripe.StripeGateway",
        "PUBLIC_BASE_URL": "https://torgovo.example",  # unset, a W040 without DEBUG
    }
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    messages = {m.id: m for m in check_settings()}
    assert {"subscriptions.E032", "subscriptions.E033"} <= set(messages)
    assert "STRIPE_SECRET_KEY" in messages["subscriptions.E032"].msg

    monkeypatch.setenv("STRIPE_SECRET_KEY", "pk_test_publishable")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_x")
    assert [m.id for m in check_settings()] == ["subscriptions.E034"]
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_test_x")
    assert check_settings() == []

    # The env has the SDK installed; None in sys.modules is how Python reports one that is not.
    monkeypatch.setitem(sys.modules, "stripe", None)
    assert [m.id for m in check_settings()] == ["subscriptions.E031"]


def test_cancelling_a_past_due_subscription_ends_it_at_stripe_at_once(
    api, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    failed, _ = fake_stripe.renew(subscription.gateway_subscription_id, paid=False)
    deliver(api, fake_stripe, failed)
    UserSubscription.objects.filter(pk=subscription.pk).update(
        end_date=timezone.now() - timedelta(hours=1)
    )

    body = api.delete(f"/api/subscriptions/{subscription.pk}/").json()

    assert (body["status"], body["end_date"]) == ("cancelled", None)
    assert fake_stripe.subscriptions[subscription.gateway_subscription_id]["status"] == "canceled"


def test_cancelling_a_past_due_subscription_with_renewal_already_off_still_ends_it_at_stripe(
    api, user, stripe_plan, fake_stripe
):
    # Renewal off only stops the next period: Stripe keeps retrying the unpaid
    # invoice until the subscription itself is cancelled.
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    failed, _ = fake_stripe.renew(subscription.gateway_subscription_id, paid=False)
    deliver(api, fake_stripe, failed)
    api.patch(f"/api/subscriptions/{subscription.pk}/", {"auto_renew": False}, format="json")
    UserSubscription.objects.filter(pk=subscription.pk).update(
        end_date=timezone.now() - timedelta(hours=1)
    )

    body = api.delete(f"/api/subscriptions/{subscription.pk}/").json()

    assert (body["status"], body["end_date"], body["auto_renew"]) == ("cancelled", None, False)
    assert fake_stripe.subscriptions[subscription.gateway_subscription_id]["status"] == "canceled"


def test_the_admin_changes_renewal_through_the_services_so_stripe_hears_of_it(
    api, admin_client, user, stripe_plan, fake_stripe
):
    subscription = paid_subscription(api, user, stripe_plan, fake_stripe)
    gateway_id = subscription.gateway_subscription_id
    changelist = "/admin/subscriptions/usersubscription/"
    page = admin_client.get(f"{changelist}{subscription.pk}/change/")
    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()  # read-only: no form field

    selected = {"_selected_action": [subscription.pk]}
    admin_client.post(changelist, {"action": "cancel_selected", **selected})
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew) == ("cancelled", False)
    assert fake_stripe.subscriptions[gateway_id]["cancel_at_period_end"] is True

    admin_client.post(changelist, {"action": "renew_selected", **selected})
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew) == ("active", True)
    assert fake_stripe.subscriptions[gateway_id]["cancel_at_period_end"] is False


def test_a_delivery_the_server_cannot_verify_is_the_documented_502(anon, fake_stripe, monkeypatch):
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET")
    response = anon.post(
        "/api/payments/webhook/",
        b'{"id": "evt_1", "type": "invoice.paid"}',
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE="t=1,v1=00",
    )
    assert response.status_code == 502
    assert response.json()["code"] == "gateway_error"
    assert "STRIPE_WEBHOOK_SECRET is not set" in response.json()["detail"]
    assert PaymentEvent.objects.get().error_code == "gateway_error"
