"""
Scenarios for the payments examples (the example host uses the dummy gateway).

Webhook examples need a signature that is valid when the curl runs: these
scenarios write the signed body to ``$TMP`` and return ``$EVENT_FILE`` and
``$SIGNATURE`` (the ``Dummy-Signature`` header value).
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django_torgovo_subscriptions.models import Payment, UserSubscription
from django_torgovo_subscriptions.payments.dummy import RENEWALS_DECLINED, SUCCEEDS, DummyGateway
from django_torgovo_subscriptions.periods import add_months
from django_torgovo_subscriptions.services import payments as billing
from django_torgovo_subscriptions.services import subscriptions as service
from tests.docs_scenarios import Context, scenario
from tests.payments_support import SECOND_DUMMY, offer_gateways


def pay_with_dummy(subscription: UserSubscription, card: str = SUCCEEDS) -> UserSubscription:
    """Check out and pay: the dummy gateway's signed events go to the webhook receiver."""
    session, _ = billing.create_checkout(subscription)
    DummyGateway().pay(session, card)
    subscription.refresh_from_db()
    assert subscription.status == "active", subscription.status
    return subscription


def _base(ctx: Context) -> dict[str, Any]:
    return {"PLAN_ID": ctx.plans["custom-bot-basic"].id}


def _pending(ctx: Context) -> UserSubscription:
    return service.subscribe(ctx.user, ctx.plans["custom-bot-basic"])


def _signed(ctx: Context, body: bytes, name: str = "event.json", timestamp: int | None = None):
    path = Path(ctx.variables["TMP"]) / name
    path.write_bytes(body)
    return {"EVENT_FILE": str(path), "SIGNATURE": DummyGateway().sign(body, timestamp)}


def _first_invoice_paid(subscription: UserSubscription) -> dict[str, Any]:
    """The dummy gateway's invoice.paid for a subscription's first payment."""
    gateway = DummyGateway()
    customer = gateway.customer(subscription.user)
    now = int(time.time())
    invoice = gateway._invoice(subscription, customer.customer_id, "docs0001", 1, now, paid=True)
    return gateway._event("evt_dummy_docs0001_1_paid", "invoice.paid", invoice, now)


@scenario("checkout_pending")
def checkout_pending(ctx: Context) -> dict:
    """The demo user subscribed; the subscription waits for payment."""
    return {**_base(ctx), "SUBSCRIPTION_ID": _pending(ctx).id}


@scenario("checkout_started")
def checkout_started(ctx: Context) -> dict:
    """A pending subscription with an open dummy checkout."""
    subscription = _pending(ctx)
    session, _ = billing.create_checkout(subscription)
    return {**_base(ctx), "SUBSCRIPTION_ID": subscription.id, "CHECKOUT_ID": session.session_id}


@scenario("checkout_abandoned")
def checkout_abandoned(ctx: Context) -> dict:
    """A checkout was started, then the subscription was cancelled before paying."""
    variables = checkout_started(ctx)
    service.cancel(UserSubscription.objects.get(pk=variables["SUBSCRIPTION_ID"]))
    return variables


@scenario("checkout_paid")
def checkout_paid(ctx: Context) -> dict:
    """The demo user paid through the dummy checkout; the subscription is active."""
    subscription = _pending(ctx)
    session, _ = billing.create_checkout(subscription)
    DummyGateway().pay(session)
    return {**_base(ctx), "SUBSCRIPTION_ID": subscription.id, "CHECKOUT_ID": session.session_id}


@scenario("renewal_failed")
def renewal_failed(ctx: Context) -> dict:
    """Paid with a card whose renewals are declined; the renewal failed: past_due."""
    subscription = pay_with_dummy(_pending(ctx), card=RENEWALS_DECLINED)
    billing.run_billing(now=subscription.end_date - timedelta(minutes=30))
    subscription.refresh_from_db()
    assert subscription.status == "past_due", subscription.status
    return {**_base(ctx), "SUBSCRIPTION_ID": subscription.id}


@scenario("renewal_invoice_open")
def renewal_invoice_open(ctx: Context) -> dict:
    """
    An active subscription paying through BTCPay whose next period's invoice the
    billing run opened, 20.00 of 29.00 received: the rows as that run and the
    partial payment's webhook leave them (tests/test_payments_btcpay.py makes
    them over HTTP; the example host has no BTCPay server).
    """
    subscription = pay_with_dummy(_pending(ctx))
    UserSubscription.objects.filter(pk=subscription.pk).update(
        payment_method="btcpay", gateway_subscription_id=f"btcpay-{subscription.pk}"
    )
    Payment.objects.create(
        user=ctx.user,
        subscription=subscription,
        gateway="btcpay",
        amount=Decimal("29.00"),
        amount_received=Decimal("20.00"),
        currency="USD",
        billing_reason="subscription_cycle",
        gateway_invoice_id="LJ8Zt3uMGuxwFaRv000002",
        period_start=subscription.end_date,
        period_end=add_months(subscription.start_date, 2),
        payment_url="https://pay.example.com/i/LJ8Zt3uMGuxwFaRv000002",
        expires_at=subscription.end_date,
    )
    return {**_base(ctx), "SUBSCRIPTION_ID": subscription.id}


@scenario("webhook_event")
def webhook_event(ctx: Context) -> dict:
    """A pending subscription and a signed invoice.paid for it, not delivered yet."""
    subscription = _pending(ctx)
    body = json.dumps(_first_invoice_paid(subscription)).encode()
    return {**_base(ctx), "SUBSCRIPTION_ID": subscription.id, **_signed(ctx, body)}


@scenario("webhook_replayed")
def webhook_replayed(ctx: Context) -> dict:
    """The same signed invoice.paid, delivered once already."""
    subscription = _pending(ctx)
    event = _first_invoice_paid(subscription)
    DummyGateway().deliver(event)
    return {
        **_base(ctx),
        "SUBSCRIPTION_ID": subscription.id,
        **_signed(ctx, json.dumps(event).encode()),
    }


@scenario("webhook_stale")
def webhook_stale(ctx: Context) -> dict:
    """A correctly signed event whose signature is an hour old."""
    subscription = _pending(ctx)
    body = json.dumps(_first_invoice_paid(subscription)).encode()
    return {**_base(ctx), **_signed(ctx, body, timestamp=int(time.time()) - 3600)}


@scenario("webhook_unknown_type")
def webhook_unknown_type(ctx: Context) -> dict:
    """A signed event of a type the package does not act on."""
    event = DummyGateway._event(
        "evt_dummy_docs_customer",
        "customer.created",
        {"id": "cus_dummy_docs", "object": "customer"},
        int(time.time()),
    )
    return {**_base(ctx), **_signed(ctx, json.dumps(event).encode())}


@scenario("webhook_malformed")
def webhook_malformed(ctx: Context) -> dict:
    """A correctly signed body that is not an event."""
    return {**_base(ctx), **_signed(ctx, b'{"hello": "world"}')}


@scenario("two_gateways")
def two_gateways(ctx: Context) -> dict:
    """The server offers the dummy gateway (the default) and a second one, dummy2."""
    offer_gateways(
        ctx.settings, "django_torgovo_subscriptions.payments.dummy.DummyGateway", SECOND_DUMMY
    )
    return _base(ctx)


@scenario("checkout_pending_two_gateways")
def checkout_pending_two_gateways(ctx: Context) -> dict:
    """Two gateways on offer, and the demo user's subscription waiting for payment."""
    two_gateways(ctx)
    return {**_base(ctx), "SUBSCRIPTION_ID": _pending(ctx).id}
