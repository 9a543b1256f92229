"""
A managed signal's fan-out on Celery (``MANAGED_EXECUTION = "celery"``).

``enqueue_chunks`` reads the investors' ids MANAGED_CHUNK_SIZE at a time and
publishes one ``fan_out_managed_chunk`` task per chunk (after commit when in a
transaction, so the worker finds the rows; on MANAGED_CELERY_QUEUE). The task
runs ``run_chunk``, which trades its chunk with ``fanout.trade_chunk``: the
claims make a second delivery trade for nobody. The signal completes when it
is marked dispatched (every chunk published) and every published chunk is
done; the publisher and each task check after their own update, so the last
of them completes it. When the broker cannot be reached before any chunk was
published, the caller trades inline instead; after some were, the rest are
traded inline.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import ManagedSignal
from django_torgovo_subscriptions.services.managed_bot.fanout import (
    complete,
    investor_chunks,
    investors,
    trade_chunk,
)

logger = logging.getLogger(__name__)

# The name of tasks.fan_out_managed_chunk, published by name so the service
# layer does not import the task module.
FAN_OUT_CHUNK_TASK = "django_torgovo_subscriptions.fan_out_managed_chunk"


def enqueue_chunks(signal: ManagedSignal) -> bool:
    """Publish one task per chunk of investor ids; False when the broker cannot be reached
    before any chunk was published (then the caller trades inline)."""
    from celery import current_app  # optional dependency: only with MANAGED_EXECUTION "celery"

    from django_torgovo_subscriptions.services.custom_bot.event_runner import PUBLISH_RETRY_POLICY

    options: dict[str, Any] = {"retry": True, "retry_policy": PUBLISH_RETRY_POLICY}
    if subscriptions_settings.MANAGED_CELERY_QUEUE:
        options["queue"] = subscriptions_settings.MANAGED_CELERY_QUEUE
    size = subscriptions_settings.MANAGED_CHUNK_SIZE
    published = 0
    ids = investors(signal).values_list("pk", flat=True)
    last = None
    while True:
        page = ids if last is None else ids.filter(pk__gt=last)
        chunk = list(page[:size])
        if not chunk:
            break
        last = chunk[-1]
        # Counted before publishing, so the chunk's task never finishes ahead of its count.
        ManagedSignal.objects.filter(pk=signal.pk).update(chunks_queued=F("chunks_queued") + 1)
        try:
            publish(current_app, signal.pk, chunk, options)
        except Exception:
            logger.exception("Managed signal %s: a chunk could not be queued.", signal.pk)
            ManagedSignal.objects.filter(pk=signal.pk).update(chunks_queued=F("chunks_queued") - 1)
            if published == 0:
                return False
            # Later investors are traded inline; the published chunks run on the worker.
            trade_rest_inline(signal, after=chunk[0])
            break
        published += 1
    ManagedSignal.objects.filter(pk=signal.pk).update(dispatched_at=timezone.now())
    finish_if_done(signal)
    return True


def publish(app: Any, signal_pk: int, chunk: list[Any], options: dict[str, Any]) -> None:
    args = (signal_pk, [str(pk) for pk in chunk])

    def send() -> None:
        app.send_task(FAN_OUT_CHUNK_TASK, args=args, **options)

    if connection.in_atomic_block:  # the worker must find the rows: publish after commit
        transaction.on_commit(send, robust=True)
    else:
        send()


def trade_rest_inline(signal: ManagedSignal, *, after: Any) -> None:
    for chunk in investor_chunks(signal):
        trade_chunk(signal, [p for p in chunk if p.pk >= after])


def run_chunk(signal_pk: int, performance_ids: list[str]) -> None:
    """The Celery task's body: trade one chunk of investors, then complete the signal if
    this was the last chunk. A second delivery finds every row claimed and trades nothing."""
    signal = ManagedSignal.objects.select_related("managed_bot").get(pk=signal_pk)
    performances = list(
        investors(signal).filter(pk__in=performance_ids).select_related("user", "subscription")
    )
    trade_chunk(signal, performances)
    ManagedSignal.objects.filter(pk=signal.pk).update(chunks_done=F("chunks_done") + 1)
    finish_if_done(signal)


def finish_if_done(signal: ManagedSignal) -> None:
    """Complete the signal once every chunk is published and done. The publisher and each
    chunk's task call it after their own update, so the last of them sees both."""
    if ManagedSignal.objects.filter(
        pk=signal.pk,
        completed_at=None,
        dispatched_at__isnull=False,
        chunks_done__gte=F("chunks_queued"),
    ).exists():
        complete(signal)
