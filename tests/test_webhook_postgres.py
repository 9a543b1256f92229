"""Webhook races that only a real database shows: run on PostgreSQL (skipped on SQLite)."""

import json
from collections import Counter

import pytest
from django.db import connection
from django.test import Client, override_settings
from model_bakery import baker
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from django_torgovo_subscriptions.models import CustomBotWebhook, WebhookEvent
from example_project import settings as example
from tests.concurrency import run_concurrently
from tests.webhook_support import RECEIVE, alert_body, subscribe, subscribed_webhook
from trading.models import Order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.usefixtures("fresh_rate_limits"),
]


@pytest.mark.parametrize("manager", ["host", "paper"])
def test_twenty_concurrent_identical_alerts_make_exactly_one_order(user, manager):
    webhook, secret = subscribed_webhook(user)
    body = json.dumps(alert_body(secret))
    config = dict(example.TORGOVO_SUBSCRIPTIONS)
    if manager == "paper":
        config["TRADING_MANAGER_CLASS"] = (
            "django_torgovo_subscriptions.trading.paper.PaperTradingManager"
        )

    def send(_index):
        response = Client().post(RECEIVE.format(secret), data=body, content_type="application/json")
        return response.status_code, response.json()["status"]

    with override_settings(TORGOVO_SUBSCRIPTIONS=config):
        results = run_concurrently(20, send)

    assert Counter(results) == {(200, "executed"): 1, (200, "duplicate"): 19}
    assert Order.objects.count() == 1
    executed = WebhookEvent.objects.get(outcome="executed")
    assert executed.order_id == str(Order.objects.get().pk)
    assert WebhookEvent.objects.filter(outcome="duplicate", duplicate_of=executed).count() == 19
    assert WebhookEvent.objects.count() == 20


def test_concurrent_generates_cannot_exceed_the_pair_quota(user):
    subscribe(user, max_pairs=2)
    token = Token.objects.create(user=user).key
    pairs = [baker.make("trading.PairConfig", user=user) for _ in range(6)]

    def generate(pair_config):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.post(
            "/api/custom-bot/webhook/generate/", {"pair_config": pair_config.pk}, format="json"
        )
        return response.status_code, response.json().get("code")

    results = run_concurrently(6, lambda index: generate(pairs[index]))
    assert sorted(status for status, _ in results) == [201, 201, 403, 403, 403, 403]
    assert {code for status, code in results if status == 403} == {"pair_limit_reached"}
    assert len(set(CustomBotWebhook.objects.values_list("pair_config_id", flat=True))) == 2
