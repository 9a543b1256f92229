"""
WEBHOOK_EXECUTION = "celery": a real worker consumes from a real broker
(Redis and RabbitMQ on this machine, see .ci/run) and executes the stored
alert against the test database (a transactional test, so the worker thread
sees the committed rows). The ``worker`` fixture (conftest.py) and its helpers
(tests/celery_support.py) say how.
"""

import time
import uuid
from decimal import Decimal

import pytest
from django.test import override_settings

from django_torgovo_subscriptions.models import WebhookEvent
from django_torgovo_subscriptions.services.custom_bot import event_runner
from example_project import settings as example
from tests.celery_support import BROKERS, make_app, remove_queue
from tests.webhook_support import post_alert
from trading.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_rate_limits")]

CELERY = {**example.TORGOVO_SUBSCRIPTIONS, "WEBHOOK_EXECUTION": "celery"}


def wait_for(event_id, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = WebhookEvent.objects.get(pk=event_id)
        if event.outcome in ("executed", "failed"):
            return event
        time.sleep(0.05)
    raise AssertionError(f"event {event_id} still {event.outcome} after {timeout}s")


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_the_answer_is_202_once_stored_and_a_worker_executes_the_alert(worker, client, hook, user):
    webhook, secret = hook
    response = post_alert(client, secret)
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["order_id"], body["code"]) == ("queued", None, None)

    event = wait_for(body["event_id"])
    order = Order.objects.get()
    assert (event.outcome, event.order_id, event.status_code) == ("executed", str(order.pk), 202)
    assert (order.user, order.side, order.status, order.source) == (
        user,
        "BUY",
        "FILLED",
        "WEBHOOK",
    )
    assert order.price == Decimal("64250.50")
    assert event.duration_ms is not None

    # The same alert again is a duplicate, answered at once and never queued.
    again = post_alert(client, secret)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_an_exchange_error_in_the_worker_is_a_failed_order_and_event(worker, client, hook, user):
    user.Demo = False  # the example host's manager refuses live trading
    user.save()
    response = post_alert(client, hook[1])
    assert response.status_code == 202
    event = wait_for(response.json()["event_id"])
    assert (event.outcome, event.code) == ("failed", "execution_error")
    assert Order.objects.get().status == "FAILED"


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_with_the_broker_down_the_alert_is_executed_inline_not_lost(client, hook):
    make_app("redis://127.0.0.1:1/0", f"torgovo-test-{uuid.uuid4().hex[:12]}")  # nothing listens
    started = time.monotonic()
    response = post_alert(client, hook[1])
    assert time.monotonic() - started < 3  # inside TradingView's budget
    assert response.status_code == 200 and response.json()["status"] == "executed"
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.status_code) == ("executed", 200)
    assert Order.objects.count() == 1


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_a_second_delivery_of_the_task_does_not_trade_twice(client, hook):
    # Published to a queue of its own that no worker consumes: the test plays
    # the worker, and runs the same task twice.
    queue = f"torgovo-test-{uuid.uuid4().hex[:12]}"
    app = make_app(BROKERS["redis"], queue)
    try:
        event_id = post_alert(client, hook[1]).json()["event_id"]
        assert WebhookEvent.objects.get(pk=event_id).outcome == "queued"

        assert event_runner.run_queued_event(event_id).outcome == "executed"
        assert event_runner.run_queued_event(event_id) is None
        assert Order.objects.count() == 1
    finally:
        remove_queue(app, queue, "redis")


def test_the_receiver_publishes_the_task_under_its_registered_name():
    from django_torgovo_subscriptions import tasks

    assert tasks.execute_webhook_event.name == event_runner.EXECUTE_WEBHOOK_EVENT_TASK
