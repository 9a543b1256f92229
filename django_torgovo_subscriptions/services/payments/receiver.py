"""
The webhook receiver: verify, store, process once; reprocessing and recovery.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.datastructures import CaseInsensitiveMapping

from django_torgovo_subscriptions.exceptions import (
    GatewayError,
    PaymentProcessingError,
    SubscriptionsError,
)
from django_torgovo_subscriptions.models.payments import PaymentEvent, PaymentEventStatus
from django_torgovo_subscriptions.payments import gateway_named
from django_torgovo_subscriptions.payments.base import BaseGateway
from django_torgovo_subscriptions.services.payments import event_handlers as handlers
from django_torgovo_subscriptions.services.storable import storable

logger = logging.getLogger(__name__)

DONE = (PaymentEventStatus.PROCESSED, PaymentEventStatus.IGNORED)
# Request headers never stored with a delivery.
SECRET_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
# A rejected delivery is unauthenticated: keep only this much of its body.
REJECTED_BODY_LIMIT = 64 * 1024


@dataclass
class WebhookResult:
    event: PaymentEvent
    # processed | ignored | duplicate
    outcome: str

    def as_body(self) -> dict[str, Any]:
        return {"received": True, "event_id": self.event.event_id, "status": self.outcome}


def receive_webhook(
    gateway: BaseGateway, body: bytes, headers: Mapping[str, str], remote_ip: str | None = None
) -> WebhookResult:
    """
    The webhook receiver (``POST payments/webhook/``), also called in-process by
    the dummy gateway. Raises a ``WebhookRejected`` subclass (400) after logging
    the delivery, or ``PaymentProcessingError`` (500) after recording the error
    (the gateway's own ``GatewayError``, 502/503, when processing had to ask it).
    Must not run inside a transaction that the error would roll back.
    """
    headers = CaseInsensitiveMapping(dict(headers))
    try:
        payload = gateway.verify_event(body, headers)
    except SubscriptionsError as exc:
        _log_rejected(gateway, body, headers, remote_ip, exc)
        raise
    defaults = {
        "event_type": payload["type"][:100],
        "body": storable(body.decode("utf-8", errors="replace")),
        "payload": storable(payload),
        "headers": _storable_headers(headers),
        "remote_ip": remote_ip,
    }
    event, _ = PaymentEvent.objects.get_or_create(
        gateway=gateway.name, event_id=payload["id"][:255], defaults=defaults
    )
    return process_event(event, gateway)


def _storable_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return storable({k: v for k, v in headers.items() if k.lower() not in SECRET_HEADERS})


def _log_rejected(
    gateway: BaseGateway,
    body: bytes,
    headers: Mapping[str, str],
    remote_ip: str | None,
    exc: SubscriptionsError,
) -> None:
    logger.warning("Rejected a %s webhook delivery from %s: %s", gateway.name, remote_ip, exc.code)
    PaymentEvent.objects.create(
        gateway=gateway.name,
        status=PaymentEventStatus.REJECTED,
        body=storable(body[:REJECTED_BODY_LIMIT].decode("utf-8", errors="replace")),
        headers=_storable_headers(headers),
        remote_ip=remote_ip,
        error_code=exc.code,
        error=storable(exc.message),
    )


def process_event(
    event: PaymentEvent, gateway: BaseGateway | None = None, *, force: bool = False
) -> WebhookResult:
    """
    Apply a stored, verified event once. Already processed (or ignored) events
    are a no-op (``duplicate``) unless ``force``; handlers are idempotent, so
    forcing never applies a payment twice.
    """
    if event.status == PaymentEventStatus.REJECTED:
        raise ValueError("A rejected delivery was never verified and cannot be processed.")
    if event.status in DONE and not force:
        return WebhookResult(event, "duplicate")
    try:
        gateway = gateway or gateway_named(event.gateway)
        with transaction.atomic():
            locked = PaymentEvent.objects.select_for_update().get(pk=event.pk)
            if locked.status in DONE and not force:
                return WebhookResult(locked, "duplicate")
            status, subscription, note = handlers.dispatch(
                gateway, gateway.parse_event(locked.payload)
            )
            locked.status = status
            locked.subscription = subscription or locked.subscription
            locked.error, locked.error_code = note, ""
            locked.attempts += 1
            locked.processed_at = timezone.now()
            locked.save()
    except Exception as exc:
        logger.exception("Processing %s event %s failed", event.gateway, event.event_id)
        PaymentEvent.objects.filter(pk=event.pk).update(
            status=PaymentEventStatus.FAILED,
            error_code=(getattr(exc, "code", "") or exc.__class__.__name__)[:100],
            error="".join(traceback.format_exception(exc)),
            attempts=F("attempts") + 1,
        )
        if isinstance(exc, GatewayError):
            # The gateway could not be asked (BTCPay's invoice re-read): its own
            # 502/503 and stable code; the event is stored and retried.
            raise exc
        raise PaymentProcessingError(
            f"The event {event.event_id} was stored but could not be processed; it can be retried."
        ) from exc
    return WebhookResult(
        locked, "processed" if status == PaymentEventStatus.PROCESSED else "ignored"
    )


def reprocess(
    events: Iterable[PaymentEvent], *, force: bool = False
) -> list[tuple[PaymentEvent, str]]:
    """Process stored events again; returns ``(event, outcome or error)`` pairs."""
    results = []
    for event in events:
        if event.status == PaymentEventStatus.REJECTED:
            results.append((event, "skipped: rejected deliveries are unverified"))
            continue
        try:
            results.append((event, process_event(event, force=force).outcome))
        except PaymentProcessingError as exc:
            results.append((event, f"failed: {exc.__cause__!r}"))
        except GatewayError as exc:
            results.append((event, f"failed: {exc!r}"))
    return results


def recover_from_gateway(gateway: BaseGateway, since: datetime) -> dict[str, int]:
    """
    Fetch events from the gateway's own log (its API: authenticated, so no
    signature) and process those never stored or not processed yet: the way
    back after the webhook endpoint was down longer than the gateway retries.
    """
    counts = {"fetched": 0, "new": 0, "processed": 0, "failed": 0}
    for payload in sorted(gateway.list_events(since), key=lambda p: p.get("created") or 0):
        counts["fetched"] += 1
        event, created = PaymentEvent.objects.get_or_create(
            gateway=gateway.name,
            event_id=str(payload["id"])[:255],
            defaults={
                "event_type": str(payload.get("type", ""))[:100],
                "payload": payload,
                "body": json.dumps(payload),
                "headers": {"source": "gateway event log"},
            },
        )
        counts["new"] += created
        if event.status in DONE:
            continue
        try:
            process_event(event, gateway)
            counts["processed"] += 1
        except (PaymentProcessingError, GatewayError):
            counts["failed"] += 1
    return counts
