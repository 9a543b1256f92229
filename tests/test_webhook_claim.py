"""
The Celery task's claim of a queued event (event_runner.claim_queued): on
PostgreSQL one statement moves it to processing and loads it with its
webhook's user and PairConfig; elsewhere an UPDATE and a SELECT. Either way a
second claim gets nothing.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_torgovo_subscriptions.models import WebhookEvent
from django_torgovo_subscriptions.services.custom_bot import event_runner

pytestmark = pytest.mark.django_db


def queued(webhook):
    return WebhookEvent.objects.create(
        webhook=webhook,
        outcome="queued",
        status_code=202,
        signal={"action": "buy", "ticker": "BTCUSDT", "quantity": "0.01"},
        headers={"User-Agent": "Go-http-client/1.1"},
        body='{"a": 1}',
        source_ip="52.89.214.238",
    )


def test_a_claim_loads_the_event_its_user_and_pair_config_once(webhook, user, pair_config):
    event = queued(webhook)
    with CaptureQueriesContext(connection) as queries:
        claimed = event_runner.claim_queued(event.pk)
        # Everything the execution reads is loaded already.
        loaded = (claimed.webhook.user.username, claimed.webhook.pair_config.symbol)
    assert len(queries.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    assert loaded == (user.username, pair_config.symbol)
    assert claimed.outcome == "processing"
    assert (claimed.pk, claimed.signal, claimed.headers, claimed.body) == (
        event.pk,
        event.signal,
        event.headers,
        event.body,
    )
    assert (claimed.received_at, claimed.source_ip, claimed.status_code) == (
        event.received_at,
        "52.89.214.238",
        202,
    )
    assert WebhookEvent.objects.get(pk=event.pk).outcome == "processing"
    assert event_runner.claim_queued(event.pk) is None  # a second delivery


def test_an_event_whose_webhook_was_deleted_fails_without_trading(webhook):
    event = queued(webhook)
    webhook.delete()
    assert WebhookEvent.objects.get(pk=event.pk).webhook is None
    done = event_runner.run_queued_event(event.pk)
    assert (done.outcome, done.code) == ("failed", "webhook_deleted")
    assert event_runner.run_queued_event(event.pk) is None
