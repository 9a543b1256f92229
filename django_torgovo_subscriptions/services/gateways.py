"""
Which gateway a subscription pays through: the one it chose at checkout
(``UserSubscription.payment_method``), or the default one when it has not
chosen yet (a free or never checked-out row).
"""

from __future__ import annotations

from django_torgovo_subscriptions.exceptions import GatewayNotConfigured, UnknownGateway
from django_torgovo_subscriptions.models import UserSubscription
from django_torgovo_subscriptions.payments import gateway_named, get_gateway
from django_torgovo_subscriptions.payments.base import BaseGateway


def gateway_for(subscription: UserSubscription) -> BaseGateway | None:
    """
    The gateway billing ``subscription``; None when it has chosen none and the
    server takes no payments. A gateway it chose that is no longer configured
    raises ``GatewayNotConfigured`` (503): its charges, retries and
    cancellation live there, so nothing may pretend to stand in for it.
    """
    if not subscription.payment_method:
        return get_gateway()
    try:
        return gateway_named(subscription.payment_method)
    except UnknownGateway as exc:
        raise GatewayNotConfigured(
            f"Subscription {subscription.pk} pays through the gateway "
            f"{subscription.payment_method!r}, which is not configured on this server."
        ) from exc


def gateway_name_for(subscription: UserSubscription) -> str:
    """The name ``gateway_for`` answers with, without asking whether it is still configured."""
    if subscription.payment_method:
        return subscription.payment_method
    default = get_gateway()
    return default.name if default is not None else ""
