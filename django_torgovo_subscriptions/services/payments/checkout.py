"""Starting a payment: a checkout at the gateway for a pending subscription."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import (
    NotPendingPayment,
    PaymentsDisabled,
    UnknownGateway,
    UnknownGatewayChoice,
)
from django_torgovo_subscriptions.models import SubscriptionStatus, UserSubscription
from django_torgovo_subscriptions.models.payments import CheckoutSession, CheckoutStatus
from django_torgovo_subscriptions.payments import gateway_named, gateway_names, get_gateway
from django_torgovo_subscriptions.payments.base import BaseGateway


def create_checkout(
    subscription: UserSubscription, request: Any = None, *, gateway_name: str | None = None
) -> tuple[CheckoutSession, bool]:
    """
    A checkout for the user's pending ``subscription`` at the gateway called
    ``gateway_name`` (None: the default one): the open one there if there is
    one (a double click never starts two payments), else a new one. The
    subscription remembers the gateway (``payment_method``); if the user pays
    another gateway's checkout opened earlier, that event's gateway wins (and
    a second paid checkout is cancelled and noted for a refund, as for one
    gateway). Returns ``(session, created)``. Raises ``PaymentsDisabled``,
    ``UnknownGatewayChoice``, ``NotPendingPayment``, ``PriceNotConfigured``
    or ``GatewayError``.
    """
    gateway = _chosen_gateway(gateway_name)
    now = timezone.now()
    with transaction.atomic():
        subscription = (
            UserSubscription.objects.select_for_update()
            .select_related("plan", "user")
            .get(pk=subscription.pk)
        )
        if subscription.status != SubscriptionStatus.PENDING_PAYMENT:
            raise NotPendingPayment(
                f"This subscription is {subscription.status}: only a subscription waiting for "
                "its first payment (pending_payment) can be checked out."
            )
        open_session = next(
            (
                s
                for s in CheckoutSession.objects.filter(
                    subscription=subscription, gateway=gateway.name, status=CheckoutStatus.OPEN
                )
                if s.is_open(now)
            ),
            None,
        )
        if open_session is not None:
            return open_session, False
        success_url = _redirect_url("CHECKOUT_SUCCESS_URL", subscription, request)
        cancel_url = _redirect_url("CHECKOUT_CANCEL_URL", subscription, request)
        result = gateway.create_checkout(
            subscription, success_url=success_url, cancel_url=cancel_url, request=request
        )
        session = CheckoutSession.objects.create(
            subscription=subscription,
            gateway=gateway.name,
            session_id=result.session_id,
            url=result.url,
            expires_at=result.expires_at,
            success_url=success_url,
            cancel_url=cancel_url,
        )
        if subscription.payment_method != gateway.name:
            subscription.payment_method = gateway.name
            subscription.save(update_fields=["payment_method", "updated_at"])
    return session, True


def _chosen_gateway(name: str | None) -> BaseGateway:
    default = get_gateway()
    if default is None:
        raise PaymentsDisabled()
    if name is None:
        return default
    try:
        return gateway_named(name)
    except UnknownGateway:
        allowed = ", ".join(gateway_names())
        raise UnknownGatewayChoice(
            f"This server offers no payment gateway of that name. Choose one of: {allowed}.",
            fields={"gateway": [f"Choose one of: {allowed}."]},
        ) from None


def _redirect_url(setting: str, subscription: UserSubscription, request: Any) -> str:
    template = getattr(subscriptions_settings, setting)
    if template:
        return template.replace("{SUBSCRIPTION_ID}", str(subscription.pk))
    path = reverse("subscriptions:subscription-detail", kwargs={"pk": subscription.pk})
    return request.build_absolute_uri(path) if request is not None else path
