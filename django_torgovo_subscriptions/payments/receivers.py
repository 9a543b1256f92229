"""
Keep the gateway's renewal in step with ``UserSubscription.auto_renew``.

When a user cancels (``DELETE subscriptions/{id}/``) or turns renewal off or
back on (``PATCH auto_renew``), a gateway that bills on its own (Stripe) must
hear of it before the change is saved, or it charges the user again next
month. The receiver runs on ``pre_save``, inside the service's transaction: if
the gateway cannot be told, the exception (``GatewayError``, 502) rolls the
change back and the user can retry, so our row never claims a cancellation
the gateway does not know about.

Changes that come *from* the gateway (its webhook events) run under
``gateway_sync_suppressed()`` so they are not echoed back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

_suppressed: ContextVar[bool] = ContextVar("torgovo_gateway_sync_suppressed", default=False)


@contextlib.contextmanager
def gateway_sync_suppressed() -> Iterator[None]:
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def sync_renewal_with_gateway(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if raw or _suppressed.get() or instance.pk is None or not instance.gateway_subscription_id:
        return
    if update_fields is not None and "auto_renew" not in update_fields:
        return
    from django_torgovo_subscriptions.payments import gateway_named

    gateway = gateway_named(instance.payment_method)
    if gateway is None:
        return
    stored = sender.objects.filter(pk=instance.pk).values_list("auto_renew", "status").first()
    if stored is None or stored[0] == instance.auto_renew:
        return
    if instance.status == "cancelled" and instance.end_date is None and stored[1] != "cancelled":
        # Cancelled with no paid time left (past_due, lapsed): end it at the
        # gateway now, so its payment retries stop too.
        gateway.cancel_subscription(instance.gateway_subscription_id)
    else:
        gateway.set_auto_renew(instance, instance.auto_renew)
