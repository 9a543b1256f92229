"""
MANAGED_EXECUTION = "celery": a managed signal's investors are traded in
chunks by real worker tasks on a real broker (the ``worker`` fixture), through
``fan_out()`` and through the operator webhook (answered 202, its event marked
executed once the last chunk is done). A chunk delivered twice trades for nobody.
"""

import time
import uuid

import pytest
from django.test import override_settings

from django_torgovo_subscriptions.models import ManagedSignal, ManagedTrade, WebhookEvent
from django_torgovo_subscriptions.services.managed_bot import fanout, fanout_celery
from django_torgovo_subscriptions.services.managed_bot.signal_webhooks import (
    generate_signal_webhook,
)
from example_project import settings as example
from tests.celery_support import BROKERS, make_app, remove_queue
from tests.fanout_support import invest, make_offer
from tests.profit_support import make_trader
from tests.webhook_support import post_alert
from trading.models import Order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fresh_rate_limits")]

CELERY = {
    **example.TORGOVO_SUBSCRIPTIONS,
    "MANAGED_EXECUTION": "celery",
    "MANAGED_CHUNK_SIZE": 2,
}


def wait_for_completion(signal_pk, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        signal = ManagedSignal.objects.get(pk=signal_pk)
        if signal.completed_at is not None:
            return signal
        time.sleep(0.05)
    raise AssertionError(f"managed signal {signal_pk} not completed after {timeout}s")


@pytest.fixture
def offer():
    return make_offer(make_trader(is_staff=True))


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_a_signal_is_traded_by_worker_tasks_a_chunk_each(worker, offer):
    investors = [invest(offer, "1000") for _ in range(5)]

    fanned = fanout.fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")

    assert fanned.queued is True
    signal = wait_for_completion(fanned.signal.pk)
    assert (signal.chunks_queued, signal.chunks_done) == (3, 3)  # 5 investors, 2 per chunk
    assert set(Order.objects.values_list("user_id", "source")) == {
        (p.user_id, "MANAGED") for p in investors
    }
    assert set(ManagedTrade.objects.values_list("outcome", flat=True)) == {"executed"}


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_the_operator_webhook_answers_202_and_its_event_finishes_on_the_worker(
    worker, client, offer
):
    invest(offer, "1000")
    invest(offer, "2000")
    issued = generate_signal_webhook(make_trader(is_staff=True), offer.managed_bot)
    body = {"action": "buy", "ticker": "BTCUSDT", "price": "50000", "fraction": "1"}

    response = post_alert(client, issued.secret, {**body, "secret": issued.secret})

    assert response.status_code == 202, response.content
    answer = response.json()
    assert (answer["status"], answer["managed_signal"]["queued"]) == ("queued", True)
    wait_for_completion(answer["managed_signal"]["managed_signal_id"])
    event = WebhookEvent.objects.get(pk=answer["event_id"])
    assert (event.outcome, event.status_code, event.execution["executed"]) == (
        "executed",
        202,
        2,
    )
    assert Order.objects.count() == 2


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_a_chunk_delivered_twice_trades_for_nobody_twice(offer):
    # Published to a queue no worker consumes: the test plays the worker.
    queue = f"torgovo-test-{uuid.uuid4().hex[:12]}"
    app = make_app(BROKERS["redis"], queue)
    try:
        performances = [invest(offer), invest(offer)]
        fanned = fanout.fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")
        assert fanned.queued and not Order.objects.exists()
        ids = [str(p.pk) for p in performances]

        fanout_celery.run_chunk(fanned.signal.pk, ids)
        fanout_celery.run_chunk(fanned.signal.pk, ids)

        assert Order.objects.count() == 2
        assert ManagedSignal.objects.get().completed_at is not None
    finally:
        remove_queue(app, queue, "redis")


@override_settings(TORGOVO_SUBSCRIPTIONS=CELERY)
def test_with_the_broker_down_the_signal_is_traded_inline(offer):
    make_app("redis://127.0.0.1:1/0", f"torgovo-test-{uuid.uuid4().hex[:12]}")  # nothing listens
    invest(offer)

    fanned = fanout.fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")

    assert fanned.queued is False and fanned.counts["executed"] == 1
    assert ManagedSignal.objects.get().chunks_queued == 0


def test_the_task_is_published_under_its_registered_name():
    from django_torgovo_subscriptions import tasks

    assert tasks.fan_out_managed_chunk.name == fanout_celery.FAN_OUT_CHUNK_TASK
