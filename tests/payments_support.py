"""Helpers shared by the payment and billing tests (their fixtures are in conftest.py)."""

from __future__ import annotations

import json
from typing import Any

from django_torgovo_subscriptions.models import UserSubscription
from django_torgovo_subscriptions.payments.dummy import DummyGateway
from django_torgovo_subscriptions.services import subscriptions as service
from tests.fake_stripe import FakeStripe, sign

STRIPE_WEBHOOK = "/api/payments/webhook/stripe/"
DUMMY_WEBHOOK = "/api/payments/webhook/dummy/"
PRICE_ID = "price_1Basic29usdMonthly"
SECOND_DUMMY = "tests.payments_support.SecondDummyGateway"


class SecondDummyGateway(DummyGateway):
    """A second gateway of the dummy's kind, under a name of its own."""

    name = "dummy2"
    display_name = "Second test card (dummy)"


def offer_gateways(settings, *paths: str, single: str | None = None) -> None:
    """Configure PAYMENT_GATEWAY_CLASSES (the first is the default), or the single setting."""
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": single,
        "PAYMENT_GATEWAY_CLASSES": list(paths),
    }


def use_gateway(settings, path: str | None) -> None:
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": path,
    }


def pending(user, plan) -> UserSubscription:
    subscription = service.subscribe(user, plan)
    assert subscription.status == "pending_payment"
    return subscription


def post_event(
    client,
    event: dict[str, Any],
    *,
    secret: str,
    path: str = STRIPE_WEBHOOK,
    header: str = "HTTP_STRIPE_SIGNATURE",
    timestamp: int | None = None,
    body: bytes | None = None,
):
    """POST ``event`` signed with Stripe's scheme, as Stripe delivers it."""
    body = json.dumps(event).encode() if body is None else body
    return client.post(
        path, body, content_type="application/json", **{header: sign(body, secret, timestamp)}
    )


def deliver(client, fake: FakeStripe, *events: dict[str, Any]) -> list[Any]:
    responses = [post_event(client, event, secret=fake.webhook_secret) for event in events]
    for response in responses:
        assert response.status_code == 200, response.content
    return responses
