"""Fixtures and helpers shared by the payment and billing tests (no tests here)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from django_torgovo_subscriptions.models import PlanType, UserSubscription
from django_torgovo_subscriptions.payments import DUMMY_GATEWAY, STRIPE_GATEWAY
from django_torgovo_subscriptions.payments import dummy as dummy_module
from django_torgovo_subscriptions.services import subscriptions as service
from tests.factories import make_plan
from tests.fake_stripe import FakeStripe, sign

STRIPE_WEBHOOK = "/api/payments/webhook/stripe/"
DUMMY_WEBHOOK = "/api/payments/webhook/dummy/"
PRICE_ID = "price_1Basic29usdMonthly"


def use_gateway(settings, path: str | None) -> None:
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAYMENT_GATEWAY_CLASS": path,
    }


@pytest.fixture
def fake_stripe(settings, monkeypatch):
    """Stripe configured from the environment and served by a local fake over HTTP."""
    fake = FakeStripe().start()
    fake.add_price(PRICE_ID, 2900, "usd")
    monkeypatch.setenv("STRIPE_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", fake.webhook_secret)
    monkeypatch.setenv("STRIPE_API_BASE", fake.url)
    use_gateway(settings, STRIPE_GATEWAY)
    yield fake
    fake.stop()


@pytest.fixture
def dummy(settings, monkeypatch):
    """The dummy gateway, its HTTP deliveries routed through the Django test client."""
    use_gateway(settings, DUMMY_GATEWAY)
    deliveries: list[dict[str, Any]] = []

    def post_json(url: str, body: bytes, headers: dict[str, str]):
        from urllib.parse import urlsplit

        meta = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in headers.items()
            if k.lower() != "content-type"
        }
        response = Client().post(urlsplit(url).path, body, content_type="application/json", **meta)
        deliveries.append({"url": url, "status": response.status_code, "body": response.json()})
        return response.status_code, response.json()

    monkeypatch.setattr(dummy_module, "post_json", post_json)
    return deliveries


@pytest.fixture
def stripe_plan():
    return make_plan(
        PlanType.CUSTOM_BOT,
        name="Basic",
        slug="basic",
        monthly_price=Decimal("29.00"),
        gateway_price_ids={"stripe": PRICE_ID},
    )


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
