"""
Celery tasks (optional: ``pip install "django-torgovo-subscriptions[celery]"``).

With ``TORGOVO_SUBSCRIPTIONS["WEBHOOK_EXECUTION"] = "celery"`` the receive
endpoint stores an accepted alert, answers 202 and publishes
``execute_webhook_event`` to the host's Celery app (the one that runs
``app.autodiscover_tasks()``, which finds this module). Route it with
``WEBHOOK_CELERY_QUEUE``.

Delivery is at least once (``acks_late``, re-queued if the worker dies) and
execution at most once: the task first moves its event from ``queued`` to
``processing`` in one UPDATE, and a second delivery finds nothing to claim.
"""

from __future__ import annotations

from celery import shared_task


@shared_task(
    name="django_torgovo_subscriptions.execute_webhook_event",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def execute_webhook_event(event_id: int) -> None:
    """Execute the stored TradingView alert ``event_id`` (a queued WebhookEvent)."""
    from django_torgovo_subscriptions.services.webhooks import run_queued_event

    run_queued_event(event_id)
