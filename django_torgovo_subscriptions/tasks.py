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

With ``MANAGED_EXECUTION = "celery"`` a managed signal is traded for its
investors by ``fan_out_managed_chunk``, one task per chunk of investors
(``MANAGED_CELERY_QUEUE``, ``MANAGED_CHUNK_SIZE``).
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
    from django_torgovo_subscriptions.services.custom_bot.event_runner import run_queued_event

    run_queued_event(event_id)


@shared_task(
    name="django_torgovo_subscriptions.fan_out_managed_chunk",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def fan_out_managed_chunk(signal_id: int, performance_ids: list[str]) -> None:
    """Trade managed signal ``signal_id`` for one chunk of its investors (performance ids).

    Published with ``MANAGED_EXECUTION = "celery"``; each investor's trade row is
    claimed before the trade, so a second delivery trades for nobody."""
    from django_torgovo_subscriptions.services.managed_bot.fanout_celery import run_chunk

    run_chunk(signal_id, performance_ids)


# --- periodic work -----------------------------------------------------------
# The same jobs as the management commands, for hosts that run Celery beat:
#
#     app.conf.beat_schedule = {**app.conf.beat_schedule, **beat_schedule()}


@shared_task(name="django_torgovo_subscriptions.run_billing", ignore_result=True)
def run_billing() -> dict:
    """``manage.py billing``: renewals, profit-share charges, pauses, past-due and lapsed
    expiry. Safe every minute. Returns the report as JSON-friendly values (the profit
    shares charged as payment ids)."""
    from dataclasses import fields

    from django_torgovo_subscriptions.services.payments.run import run_billing as run

    report = run()
    values = {f.name: getattr(report, f.name) for f in fields(report) if f.name != "profit_shares"}
    values["profit_shares_charged"] = [payment.pk for payment in report.profit_shares.charged]
    return values


@shared_task(name="django_torgovo_subscriptions.recalculate_profits", ignore_result=True)
def recalculate_profits() -> dict:
    """``manage.py recalculate_profits``: incremental, so cheap to run often."""
    from django_torgovo_subscriptions.services.managed_bot.profit import recalculate_all

    summary = recalculate_all()
    return {
        "performances": summary.performances,
        "orders_read": summary.orders_read,
        "failed": len(summary.failed),
    }


@shared_task(name="django_torgovo_subscriptions.settle_profit_shares", ignore_result=True)
def settle_profit_shares() -> None:
    """``manage.py settle_profit_shares``: last month's share; idempotent."""
    from django.core.management import call_command

    call_command("settle_profit_shares")


def beat_schedule() -> dict:
    """A Celery beat schedule for the periodic jobs (merge it into the host's)."""
    from celery.schedules import crontab

    return {
        "torgovo-subscriptions-billing": {
            "task": "django_torgovo_subscriptions.run_billing",
            "schedule": 60.0,
        },
        "torgovo-subscriptions-recalculate-profits": {
            "task": "django_torgovo_subscriptions.recalculate_profits",
            "schedule": 300.0,
        },
        "torgovo-subscriptions-settle-profit-shares": {
            "task": "django_torgovo_subscriptions.settle_profit_shares",
            "schedule": crontab(minute=15, hour=0, day_of_month=1),
        },
    }
