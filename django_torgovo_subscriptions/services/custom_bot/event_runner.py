"""
Executing an accepted alert: inline in its request, or on a Celery worker.

``WEBHOOK_EXECUTION`` chooses. ``"inline"``: the receiver calls
``execute_event`` before it answers. ``"celery"``: the receiver stores the
event as ``queued``, ``enqueue`` publishes the ``execute_webhook_event`` task
(after commit, so the worker finds the row) and the receiver answers 202; the
task runs ``run_queued_event``, which first moves the event from ``queued`` to
``processing`` in one UPDATE, so a second delivery of the task executes
nothing. When the broker cannot be reached, ``enqueue`` says so and the
receiver executes the alert inline instead.

Either way ``execute_event`` runs the alert through the trading manager and
records on its ``WebhookEvent`` what the trade did: a failed trade is an event
with outcome ``failed``, not an error.

When the host's Order cannot be written *for now* (a lock or statement timeout,
a lost connection: ``OrderNotSaved.transient``), the inline answer is a 503 with
``Retry-After``, which TradingView retries, and the retry never trades twice:

- the trade reached the exchange: the event is the reconciliation record
  (code ``order_pending``, the fill in ``execution``) and keeps the alert's
  dedupe key, so the retry is a duplicate, which writes the Order from that
  record (``write_pending_order``) instead of trading;
- the manager reported that nothing was placed: the event gives its dedupe
  key up (code ``order_not_saved``), so the retry trades.

A manager that *raised* may have placed its order before it failed: that is
a failed trade as before (a 200), never traded again.
"""

from __future__ import annotations

import logging
import time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import WebhookEvent, WebhookOutcome
from django_torgovo_subscriptions.services.custom_bot import alerts
from django_torgovo_subscriptions.services.execution import (
    OrderNotSaved,
    execute_signal,
    nothing_placed,
    save_order,
)
from django_torgovo_subscriptions.trading.base import TradeResult

logger = logging.getLogger(__name__)


def result_json(result: TradeResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "quantity": str(result.quantity),
        "price": None if result.price is None else str(result.price),
        "fee": str(result.fee),
        "external_id": result.external_id,
        "error_code": result.error_code,
    }


def result_from_json(data: dict[str, Any]) -> TradeResult:
    """The TradeResult ``result_json`` stored (a reconciliation record's fill)."""
    return TradeResult(
        status=data["status"],
        quantity=Decimal(data["quantity"]),
        price=None if data.get("price") is None else Decimal(data["price"]),
        fee=Decimal(data.get("fee") or "0"),
        external_id=data.get("external_id") or "",
        error_code=data.get("error_code") or "",
    )


# The code of an event whose trade reached the exchange and whose Order could not
# be written yet; the seconds TradingView is asked to wait before it sends it again.
ORDER_PENDING = "order_pending"
RETRY_AFTER_SECONDS = 1


def retry_after(event: WebhookEvent) -> int | None:
    """The Retry-After of the answer for ``event``: set when its answer is a 503."""
    return RETRY_AFTER_SECONDS if event.status_code == 503 else None


# What execution adds to a stored event. None of these columns is indexed, so on
# PostgreSQL the UPDATE stays on the row's page (HOT) and touches no index.
EVENT_RESULT_FIELDS = [
    "outcome",
    "code",
    "error",
    "order_id",
    "execution",
    "processed_at",
    "duration_ms",
    "status_code",
]


def execute_event(
    event: WebhookEvent,
    user: Any,
    pair_config: Any,
    alert: alerts.Alert,
    started: float | None = None,
) -> WebhookEvent:
    """Run a stored alert through the trading manager and record the outcome on its event."""
    signal = alert.as_signal(client_order_id=(event.signal or {}).get("client_order_id", ""))
    try:
        execution = execute_signal(user, pair_config, signal)
    except OrderNotSaved as exc:  # the event keeps the alert and what the trade did
        cause = exc.__cause__
        logger.exception("Webhook event %s: the trade's Order could not be saved.", event.pk)
        event.outcome, event.code = WebhookOutcome.FAILED, "order_not_saved"
        event.error = f"The trade's Order could not be saved: {cause.__class__.__name__}: {cause}"[
            :2000
        ]
        event.execution = result_json(exc.result)
        if exc.transient and event.status_code is None:  # answered inline: TradingView retries
            event.status_code = 503
            if exc.result.executed:
                event.code = ORDER_PENDING
            elif nothing_placed(exc.result):
                release_dedupe_key(event)
    else:
        result = execution.result
        event.outcome = WebhookOutcome.EXECUTED if result.executed else WebhookOutcome.FAILED
        event.code = "" if result.executed else (result.error_code or "execution_failed")
        event.error = result.error_message
        event.order_id = "" if execution.order is None else str(execution.order.pk)
        event.execution = result_json(result)
    event.processed_at = timezone.now()
    if started is not None:
        event.duration_ms = int((time.monotonic() - started) * 1000)
    else:
        event.duration_ms = int((event.processed_at - event.received_at).total_seconds() * 1000)
    event.status_code = event.status_code or 200
    event.save(update_fields=EVENT_RESULT_FIELDS)
    if event.outcome == WebhookOutcome.FAILED:
        logger.warning("Webhook event %s: trade failed (%s).", event.pk, event.code)
    return event


def release_dedupe_key(event: WebhookEvent) -> None:
    """Give the alert's dedupe key up, so that its retry is executed (nothing was placed)."""
    WebhookEvent.objects.filter(pk=event.pk).update(dedupe_key=None)
    event.dedupe_key = None


def write_pending_order(event: WebhookEvent, user: Any, pair_config: Any) -> WebhookEvent:
    """
    Write the Order of an ``order_pending`` event from the fill it recorded, without
    trading again (its alert's retry calls this). The event's row is locked while
    the Order is written, so of concurrent retries one writes it; the others find
    the event executed. A transient failure leaves it pending; a lasting one
    leaves it failed ``order_not_saved``, for the operator to reconcile.
    """
    with transaction.atomic():
        event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
        if event.code != ORDER_PENDING:
            return event
        client_order_id = (event.signal or {}).get("client_order_id", "")
        signal = alerts.Alert.from_json(event.signal).as_signal(client_order_id=client_order_id)
        try:
            order = save_order(user, pair_config, signal, result_from_json(event.execution))
        except OrderNotSaved as exc:
            logger.warning("Webhook event %s: its Order is still not saved.", event.pk)
            if exc.transient:
                return event
            event.code = "order_not_saved"
        else:
            event.outcome, event.code, event.error = WebhookOutcome.EXECUTED, "", ""
            event.order_id = str(order.pk)
            logger.info("Webhook event %s: its Order %s is written.", event.pk, order.pk)
        event.processed_at = timezone.now()
        event.save(update_fields=EVENT_RESULT_FIELDS)
    return event


# --- background execution (WEBHOOK_EXECUTION = "celery") -------------------

PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}


# The name of tasks.execute_webhook_event. The task is published by name so the
# service layer does not import the task module (an entry point above it).
EXECUTE_WEBHOOK_EVENT_TASK = "django_torgovo_subscriptions.execute_webhook_event"


def enqueue(event: WebhookEvent) -> bool:
    """Publish the event's task; False when the broker cannot be reached."""
    from celery import current_app  # optional dependency: only with WEBHOOK_EXECUTION "celery"

    options: dict[str, Any] = {"retry": True, "retry_policy": PUBLISH_RETRY_POLICY}
    if subscriptions_settings.WEBHOOK_CELERY_QUEUE:
        options["queue"] = subscriptions_settings.WEBHOOK_CELERY_QUEUE

    def publish() -> None:
        current_app.send_task(EXECUTE_WEBHOOK_EVENT_TASK, args=(event.pk,), **options)

    try:
        if connection.in_atomic_block:  # the worker must find the row: publish after commit
            transaction.on_commit(publish, robust=True)
        else:
            publish()
    except Exception:
        logger.exception("Webhook event %s could not be queued; executing it inline.", event.pk)
        return False
    return True


def run_queued_event(event_id: int) -> WebhookEvent | None:
    """The Celery task's body: claim a queued event (once) and execute it."""
    if not WebhookEvent.objects.filter(pk=event_id, outcome=WebhookOutcome.QUEUED).update(
        outcome=WebhookOutcome.PROCESSING
    ):
        logger.info("Webhook event %s is not queued (already handled); skipped.", event_id)
        return None
    event = WebhookEvent.objects.select_related("webhook__user", "webhook__pair_config").get(
        pk=event_id
    )
    webhook = event.webhook
    if webhook is None:
        event.outcome, event.code = WebhookOutcome.FAILED, "webhook_deleted"
        event.error = "The webhook was deleted before the alert was executed."
        event.processed_at = timezone.now()
        event.save(update_fields=["outcome", "code", "error", "processed_at"])
        return event
    return execute_event(
        event, webhook.user, webhook.pair_config, alerts.Alert.from_json(event.signal)
    )
