"""
Several gateways side by side (issue 14 item 5): Stripe (the fake over real
HTTP) and the dummy gateway configured together, each subscription paying,
renewing and cancelling through the one it chose; the settings' checks.
"""

import re
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_torgovo_subscriptions.checks import check_settings
from django_torgovo_subscriptions.checks.payments import check_payment_deploy
from django_torgovo_subscriptions.models import (
    CheckoutSession,
    ManagedBotPerformance,
    Payment,
    UserSubscription,
)
from django_torgovo_subscriptions.payments import DUMMY_GATEWAY, STRIPE_GATEWAY, get_gateway
from django_torgovo_subscriptions.payments.dummy import SUCCEEDS, DummyGateway
from django_torgovo_subscriptions.services import payments as billing
from tests.managed_billing_support import client_for, command, invest, make_offer, trade
from tests.payments_support import SECOND_DUMMY, deliver, offer_gateways, pending
from tests.profit_support import at, make_trader

pytestmark = pytest.mark.django_db


class DummyAgain(DummyGateway):
    """Another class under the dummy's name."""


@pytest.fixture
def both(settings, fake_stripe, dummy):
    """Stripe (the default) and the dummy gateway; returns the fake Stripe."""
    offer_gateways(settings, STRIPE_GATEWAY, DUMMY_GATEWAY)
    return fake_stripe


def checkout(api, subscription, **extra):
    return api.post(
        "/api/payments/create-checkout/",
        {"subscription_id": subscription.pk, **extra},
        format="json",
    )


def pay_with_dummy(api, subscription, dummy, gateway="dummy"):
    body = checkout(api, subscription, gateway=gateway).json()
    assert body["gateway"] == gateway, body
    response = api.post(
        f"/api/payments/dummy/checkout/{body['checkout_id']}/",
        {"card": SUCCEEDS},
        HTTP_HOST=dummy.host,
    )
    assert response.status_code == 200, response.content
    subscription.refresh_from_db()
    assert subscription.status == "active"
    return subscription


def pay_with_stripe(api, subscription, fake):
    body = checkout(api, subscription).json()
    assert body["gateway"] == "stripe", body
    deliver(api, fake, *fake.complete_checkout(body["checkout_id"]))
    subscription.refresh_from_db()
    assert subscription.status == "active"
    return subscription


# --- the gateways on offer ------------------------------------------------------------


def test_the_gateways_are_listed_to_anyone_the_default_first(anon, both):
    response = anon.get("/api/payments/gateways/")

    assert response.status_code == 200
    assert response.json() == [
        {
            "name": "stripe",
            "display_name": "Card (Stripe)",
            "native_recurring": True,
            "default": True,
        },
        {
            "name": "dummy",
            "display_name": "Test card (dummy, no money)",
            "native_recurring": False,
            "default": False,
        },
    ]


def test_the_single_gateway_setting_is_a_list_of_one_and_none_is_empty(anon, settings):
    offer_gateways(settings, single=DUMMY_GATEWAY)
    assert [g["name"] for g in anon.get("/api/payments/gateways/").json()] == ["dummy"]
    offer_gateways(settings)
    assert anon.get("/api/payments/gateways/").json() == []


# --- checkout with each -----------------------------------------------------------------


def test_checkout_without_a_choice_goes_to_the_default_gateway(api, user, stripe_plan, both):
    subscription = pending(user, stripe_plan)

    response = checkout(api, subscription)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (
        body["gateway"] == "stripe"
        and body["checkout_url"] == (both.sessions[body["checkout_id"]]["url"])
    )
    assert len(both.requests_to("POST", "/v1/checkout/sessions")) == 1
    subscription.refresh_from_db()
    assert subscription.payment_method == "stripe"


def test_checkout_with_the_dummy_gateway_never_asks_stripe(api, user, stripe_plan, both):
    subscription = pending(user, stripe_plan)

    response = checkout(api, subscription, gateway="dummy")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["gateway"] == "dummy" and body["checkout_url"] == (
        f"http://testserver/api/payments/dummy/checkout/{body['checkout_id']}/"
    )
    assert both.requests == []
    subscription.refresh_from_db()
    assert subscription.payment_method == "dummy"
    # The same choice again resumes that checkout; another gateway opens its own.
    assert (
        checkout(api, subscription, gateway="dummy").json()["checkout_id"] == (body["checkout_id"])
    )
    assert checkout(api, subscription, gateway="stripe").json()["gateway"] == "stripe"
    subscription.refresh_from_db()
    assert subscription.payment_method == "stripe"
    assert sorted(CheckoutSession.objects.values_list("gateway", flat=True)) == [
        "dummy",
        "stripe",
    ]


def test_the_gateway_that_is_paid_wins_over_a_later_choice(api, user, stripe_plan, both):
    subscription = pending(user, stripe_plan)
    stripe_checkout = checkout(api, subscription).json()["checkout_id"]
    assert checkout(api, subscription, gateway="dummy").json()["gateway"] == "dummy"

    deliver(api, both, *both.complete_checkout(stripe_checkout))

    subscription.refresh_from_db()
    assert (subscription.status, subscription.payment_method) == ("active", "stripe")
    assert list(Payment.objects.values_list("gateway", flat=True)) == ["stripe"]


def test_an_unknown_gateway_is_a_400_naming_the_allowed_ones(api, user, stripe_plan, both):
    subscription = pending(user, stripe_plan)

    response = checkout(api, subscription, gateway="paypal")

    assert response.status_code == 400
    assert response.json() == {
        "code": "unknown_gateway",
        "detail": "This server offers no payment gateway of that name. "
        "Choose one of: stripe, dummy.",
        "fields": {"gateway": ["Choose one of: stripe, dummy."]},
    }
    assert not CheckoutSession.objects.exists() and both.requests == []
    subscription.refresh_from_db()
    assert subscription.payment_method == ""


@pytest.mark.parametrize("value", [["dummy"], {"name": "dummy"}, "dummy\x00", "d" * 31])
def test_a_gateway_that_is_not_a_short_string_is_a_validation_error(
    api, user, stripe_plan, both, value
):
    response = checkout(api, pending(user, stripe_plan), gateway=value)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and list(body["fields"]) == ["gateway"]
    assert not CheckoutSession.objects.exists()


def test_a_second_dummy_gateway_is_paid_on_its_own_page_and_webhook(
    api, user, stripe_plan, settings, dummy
):
    offer_gateways(settings, DUMMY_GATEWAY, SECOND_DUMMY)
    subscription = pay_with_dummy(api, pending(user, stripe_plan), dummy, gateway="dummy2")

    assert subscription.payment_method == "dummy2"
    assert {d["url"] for d in dummy.deliveries} == {f"{dummy.url}/api/payments/webhook/dummy2/"}
    assert list(Payment.objects.values_list("gateway", flat=True)) == ["dummy2"]


def test_history_shows_each_payments_gateway(api, user, other_user, stripe_plan, both, dummy):
    pay_with_dummy(api, pending(user, stripe_plan), dummy)
    other = client_for(other_user)
    pay_with_stripe(other, pending(other_user, stripe_plan), both)

    mine = api.get("/api/payments/history/").json()["results"]
    theirs = other.get("/api/payments/history/").json()["results"]

    assert [(p["gateway"], p["status"], p["amount"]) for p in mine] == [("dummy", "paid", "29.00")]
    assert [(p["gateway"], p["status"], p["amount"]) for p in theirs] == [
        ("stripe", "paid", "29.00")
    ]


# --- renewal and cancellation through each subscription's gateway ------------------------


def test_the_billing_run_charges_only_the_dummy_gateways_own_renewals(
    api, user, other_user, stripe_plan, both, dummy
):
    by_dummy = pay_with_dummy(api, pending(user, stripe_plan), dummy)
    by_stripe = pay_with_stripe(client_for(other_user), pending(other_user, stripe_plan), both)
    asked = len(both.requests)

    report = billing.run_billing(now=by_dummy.end_date - timedelta(minutes=30))

    assert report.renewals_charged == 1 and report.errors == []
    by_dummy.refresh_from_db()
    by_stripe.refresh_from_db()
    assert Payment.objects.filter(subscription=by_dummy, status="paid").count() == 2
    assert Payment.objects.filter(subscription=by_stripe).count() == 1
    # Stripe renews on its side: the run asked it nothing.
    assert len(both.requests) == asked


def test_cancelling_goes_to_the_subscriptions_own_gateway(
    api, user, other_user, stripe_plan, both, dummy
):
    by_dummy = pay_with_dummy(api, pending(user, stripe_plan), dummy)
    other = client_for(other_user)
    by_stripe = pay_with_stripe(other, pending(other_user, stripe_plan), both)
    stripe_id = by_stripe.gateway_subscription_id
    asked = len(both.requests)

    assert api.delete(f"/api/subscriptions/{by_dummy.pk}/").json()["status"] == "cancelled"
    assert len(both.requests) == asked  # the dummy's subscription is none of Stripe's business

    assert other.delete(f"/api/subscriptions/{by_stripe.pk}/").json()["status"] == "cancelled"
    [call] = both.requests[asked:]
    assert (call["method"], call["path"]) == ("POST", f"/v1/subscriptions/{stripe_id}")
    assert both.subscriptions[stripe_id]["cancel_at_period_end"] is True


def test_a_long_past_due_row_is_cancelled_at_its_own_gateway(
    api, user, other_user, stripe_plan, both, dummy
):
    by_dummy = pay_with_dummy(api, pending(user, stripe_plan), dummy)
    by_stripe = pay_with_stripe(client_for(other_user), pending(other_user, stripe_plan), both)
    UserSubscription.objects.filter(pk__in=[by_dummy.pk, by_stripe.pk]).update(status="past_due")

    report = billing.run_billing(now=by_stripe.end_date + timedelta(days=8))

    assert report.past_due_expired == 2 and report.errors == []
    [cancel] = both.requests_to("DELETE", f"/v1/subscriptions/{by_stripe.gateway_subscription_id}")
    assert cancel is not None
    assert not [r for r in both.requests if by_dummy.gateway_subscription_id in r["path"]]


def test_a_subscription_whose_gateway_is_gone_cannot_be_cancelled_silently(
    api, user, stripe_plan, settings, both
):
    subscription = pay_with_stripe(api, pending(user, stripe_plan), both)
    offer_gateways(settings, DUMMY_GATEWAY)

    response = api.delete(f"/api/subscriptions/{subscription.pk}/")

    assert response.status_code == 503
    assert response.json() == {
        "code": "gateway_not_configured",
        "detail": f"Subscription {subscription.pk} pays through the gateway 'stripe', "
        "which is not configured on this server.",
    }
    subscription.refresh_from_db()
    assert (subscription.status, subscription.auto_renew) == ("active", True)


# --- webhooks ------------------------------------------------------------------------------


def test_each_gateway_has_its_webhook_and_the_plain_url_is_the_defaults(anon, both):
    body = b'{"id": "evt_x", "type": "charge.dispute.created"}'
    signed = {"HTTP_DUMMY_SIGNATURE": DummyGateway().sign(body)}

    dummy_answer = anon.post(
        "/api/payments/webhook/dummy/", body, content_type="application/json", **signed
    )
    plain = anon.post("/api/payments/webhook/", body, content_type="application/json", **signed)
    unknown = anon.post(
        "/api/payments/webhook/paypal/", body, content_type="application/json", **signed
    )

    assert dummy_answer.json() == {"received": True, "event_id": "evt_x", "status": "ignored"}
    # The plain URL is Stripe's: a dummy signature is no Stripe signature.
    assert (plain.status_code, plain.json()["code"]) == (400, "missing_signature")
    assert unknown.status_code == 404 and unknown.json() == {
        "code": "unknown_gateway",
        "detail": "No payment gateway called 'paypal' is configured on this server.",
    }


# --- profit shares ---------------------------------------------------------------------------


def test_a_profit_share_is_charged_through_the_investors_own_gateway(settings, both):
    offer_gateways(settings, STRIPE_GATEWAY, DUMMY_GATEWAY)
    dummy_investor = make_trader(email="dummy@example.com")
    stripe_investor = make_trader(email="stripe@example.com")
    managed = make_offer()
    with time_machine.travel(at("2027-01-02 10:00")):
        performances = [
            ManagedBotPerformance.objects.get(pk=invest(client_for(u), managed))
            for u in (dummy_investor, stripe_investor)
        ]
    # The first chose the dummy gateway; the second never chose (the default).
    UserSubscription.objects.filter(user=dummy_investor).update(payment_method="dummy")
    for performance in performances:
        trade(performance, "2027-01", Decimal("500"))

    with time_machine.travel(at("2027-02-03 10:00")):
        command("settle_profit_shares", "--month", "2027-01")

    shares = {p.user_id: p for p in Payment.objects.filter(kind="profit_share")}
    assert (shares[dummy_investor.pk].gateway, shares[dummy_investor.pk].status) == (
        "dummy",
        "paid",
    )
    stripe_share = shares[stripe_investor.pk]
    assert (stripe_share.gateway, stripe_share.status) == ("stripe", "pending")
    [invoice] = both.requests_to("POST", "/v1/invoices")
    assert invoice["params"]["metadata"]["profit_share_payment_id"] == str(stripe_share.pk)


# --- recovering events ------------------------------------------------------------------------


def test_recovery_asks_every_gateway_or_the_one_named(both):
    out = StringIO()
    call_command("process_payment_events", "--from-gateway", stdout=out)
    assert out.getvalue().splitlines() == [
        "stripe: fetched 0 events (0 new): processed 0, failed 0.",
        "dummy: fetched 0 events (0 new): processed 0, failed 0.",
    ]
    assert len(both.requests_to("GET", "/v1/events")) == 1

    out = StringIO()
    call_command("process_payment_events", "--from-gateway", "--gateway", "dummy", stdout=out)
    assert out.getvalue() == "dummy: fetched 0 events (0 new): processed 0, failed 0.\n"
    assert len(both.requests_to("GET", "/v1/events")) == 1

    with pytest.raises(
        CommandError,
        match=re.escape(
            "No payment gateway called 'paypal' is configured; configured: stripe, dummy."
        ),
    ):
        call_command("process_payment_events", "--gateway", "paypal")


# --- system checks ---------------------------------------------------------------------------


def ids_with(settings, **overrides):
    with override_settings(TORGOVO_SUBSCRIPTIONS={**settings.TORGOVO_SUBSCRIPTIONS, **overrides}):
        # Errors only: the example host's warnings (no PUBLIC_BASE_URL) are not theirs.
        return {m.id: m for m in check_settings() if m.is_serious()}


@pytest.mark.parametrize(
    ("single", "classes", "check_id", "says"),
    [
        (DUMMY_GATEWAY, [DUMMY_GATEWAY], "subscriptions.E080", "are both set"),
        (None, DUMMY_GATEWAY, "subscriptions.E081", "must be a list of dotted paths"),
        (None, ["nowhere.Gateway"], "subscriptions.E081", "Could not import 'nowhere.Gateway'"),
        (
            None,
            [DUMMY_GATEWAY, "tests.test_payments_gateways.DummyAgain"],
            "subscriptions.E082",
            "'dummy' is empty or used twice",
        ),
        (None, [DUMMY_GATEWAY, "tests.factories.make_plan"], "subscriptions.E036", "BaseGateway"),
    ],
)
def test_unusable_gateway_settings_are_one_check_error_and_an_error_when_used(
    settings, single, classes, check_id, says
):
    overrides = {"PAYMENT_GATEWAY_CLASS": single, "PAYMENT_GATEWAY_CLASSES": classes}
    found = ids_with(settings, **overrides)

    assert list(found) == [check_id] and says in found[check_id].msg
    settings.TORGOVO_SUBSCRIPTIONS = {**settings.TORGOVO_SUBSCRIPTIONS, **overrides}
    with pytest.raises(ImproperlyConfigured, match=re.escape(says)):
        get_gateway()


def test_every_listed_gateway_runs_its_own_checks_and_the_deploy_warning(settings, monkeypatch):
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    overrides = {
        "PAYMENT_GATEWAY_CLASS": None,
        "PAYMENT_GATEWAY_CLASSES": [STRIPE_GATEWAY, SECOND_DUMMY],
    }
    assert set(ids_with(settings, **overrides)) >= {"subscriptions.E032", "subscriptions.E033"}
    with override_settings(TORGOVO_SUBSCRIPTIONS={**settings.TORGOVO_SUBSCRIPTIONS, **overrides}):
        [warning] = check_payment_deploy()
    assert warning.id == "subscriptions.W030" and "'dummy2'" in warning.msg
