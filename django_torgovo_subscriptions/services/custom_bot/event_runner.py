"""
Executing an accepted alert: inline in its request, or on a Celery worker.

``WEBHOOK_EXECUTION`` chooses. ``"inline"``: the receiver calls
``execute_event`` before it answers. ``"celery"``: the receiver stores the
event as ``queued``, ``enqueue`` publishes the ``execute_webhook_event`` task
(after commit, so the worker finds the row) and the receiver answers 202; the
task runs ``run_queued_event``, which first moves the event from ``queued`` to
``processing`` in one conditional UPDATE (on PostgreSQL the same statement
returns the event with its webhook's user and PairConfig), so a second
delivery of the task executes nothing. When the broker cannot be reached,
``enqueue`` says so and the receiver executes the alert inline instead.

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


def _columns(model: Any, alias: str) -> list[str]:
    quote = connection.ops.quote_name
    return [f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields]


def _load(model: Any, values: Any) -> Any:
    """A model instance from the next of ``values``, converted as the ORM would."""
    fields = model._meta.concrete_fields
    row = []
    for f in fields:
        value = next(values)
        expression = f.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(expression) + f.get_db_converters(
            connection
        ):
            value = convert(value, expression, connection)
        row.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], row)


def claim_queued(event_id: int) -> WebhookEvent | None:
    """
    Move a queued event to ``processing`` and load it with its webhook's user
    and PairConfig; None when it is not queued (a second delivery). On
    PostgreSQL that is one statement: a conditional UPDATE ... RETURNING in a
    WITH, joined to the three rows (elsewhere an UPDATE, then a SELECT).
    """
    claimed = WebhookEvent.objects.filter(pk=event_id, outcome=WebhookOutcome.QUEUED)
    if connection.vendor != "postgresql":
        if not claimed.update(outcome=WebhookOutcome.PROCESSING):
            return None
        return WebhookEvent.objects.select_related("webhook__user", "webhook__pair_config").get(
            pk=event_id
        )
    webhook_model = WebhookEvent._meta.get_field("webhook").related_model
    user_model = webhook_model._meta.get_field("user").related_model
    pair_model = webhook_model._meta.get_field("pair_config").related_model
    quote = connection.ops.quote_name
    event_table = quote(WebhookEvent._meta.db_table)

    def pk_of(model: Any) -> str:
        return quote(model._meta.pk.column)

    outcome = quote(WebhookEvent._meta.get_field("outcome").column)
    sql = (
        f"WITH e AS (UPDATE {event_table} SET {outcome} = %s "
        f"WHERE {pk_of(WebhookEvent)} = %s AND {outcome} = %s RETURNING *) "
        f"SELECT {', '.join(_columns(WebhookEvent, 'e') + _columns(webhook_model, 'w'))}, "
        f"{', '.join(_columns(user_model, 'u') + _columns(pair_model, 'p'))} FROM e "
        f"LEFT JOIN {quote(webhook_model._meta.db_table)} w ON w.{pk_of(webhook_model)} = "
        f"e.{quote(WebhookEvent._meta.get_field('webhook').column)} "
        f"LEFT JOIN {quote(user_model._meta.db_table)} u ON u.{pk_of(user_model)} = "
        f"w.{quote(webhook_model._meta.get_field('user').column)} "
        f"LEFT JOIN {quote(pair_model._meta.db_table)} p ON p.{pk_of(pair_model)} = "
        f"w.{quote(webhook_model._meta.get_field('pair_config').column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [WebhookOutcome.PROCESSING, event_id, WebhookOutcome.QUEUED])
        row = cursor.fetchone()
    if row is None:
        return None
    values = iter(row)
    event = _load(WebhookEvent, values)
    webhook, user, pair_config = (_load(m, values) for m in (webhook_model, user_model, pair_model))
    if event.webhook_id is None:
        event.webhook = None
    else:
        webhook.user, webhook.pair_config = user, pair_config
        event.webhook = webhook
    return event


def run_queued_event(event_id: int) -> WebhookEvent | None:
    """The Celery task's body: claim a queued event (once) and execute it."""
    event = claim_queued(event_id)
    if event is None:
        logger.info("Webhook event %s is not queued (already handled); skipped.", event_id)
        return None
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
