"""
Issuing custom-bot webhooks: a secret URL per PairConfig, rotated or deactivated.

A secret is 256 random bits, shown once (in the URL and in the alert JSON)
and stored only as its SHA-256, so a leaked database does not leak working
URLs. The receiver finds a webhook by the hash of the secret in its URL
(``hash_secret``).
"""

from __future__ import annotations

import hashlib
import secrets as secrets_module
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import InvalidTransition
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    PlanType,
    WebhookPurpose,
)
from django_torgovo_subscriptions.services.quota import check_pair_quota, lock_subscription
from django_torgovo_subscriptions.services.subscriptions import require_access

SECRET_BYTES = 32
# The alert message TradingView sends; "secret" is added per webhook.
TRADINGVIEW_TEMPLATE = {
    "action": "{{strategy.order.action}}",
    "ticker": "{{ticker}}",
    "price": "{{close}}",
    "quantity": "{{strategy.order.contracts}}",
}


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def webhook_url(secret: str, request: Any = None) -> str:
    """The receive URL for ``secret``, on PUBLIC_BASE_URL (else the request's origin)."""
    path = reverse("subscriptions:webhook-receive", kwargs={"secret": secret})
    base = subscriptions_settings.PUBLIC_BASE_URL
    if base:
        return base.rstrip("/") + path
    if request is None:
        raise ImproperlyConfigured(
            "Set TORGOVO_SUBSCRIPTIONS['PUBLIC_BASE_URL'] to build webhook URLs."
        )
    return request.build_absolute_uri(path)


def tradingview_json(secret: str, template: dict[str, str] | None = None) -> dict[str, str]:
    """The alert message to paste into TradingView: the webhook's template and its secret."""
    return {**(template or TRADINGVIEW_TEMPLATE), "secret": secret}


@dataclass(frozen=True)
class IssuedSecret:
    """A webhook and its secret in clear: returned once, never stored."""

    webhook: CustomBotWebhook
    secret: str = field(repr=False)

    @property
    def template(self) -> dict[str, str] | None:
        """A managed-signal webhook's own alert template (a custom bot's is the current one)."""
        if self.webhook.purpose == WebhookPurpose.MANAGED_SIGNAL:
            return self.webhook.tradingview_config
        return None

    @property
    def message(self) -> dict[str, str]:
        """The alert message to paste into TradingView, with the secret."""
        return tradingview_json(self.secret, self.template)

    def as_json(self, request: Any = None) -> dict[str, Any]:
        """The URL (on the request's origin without PUBLIC_BASE_URL) and the message."""
        return {"webhook_url": webhook_url(self.secret, request), "tradingview_json": self.message}


def new_secret() -> tuple[str, str]:
    secret = secrets_module.token_urlsafe(SECRET_BYTES)
    return secret, hash_secret(secret)


@transaction.atomic
def generate_webhook(user: Any, pair_config: Any) -> IssuedSecret:
    """
    A new webhook for ``pair_config``. Needs a live custom_bot subscription and
    room in its pair quota; the subscription row is locked so that concurrent
    requests cannot both take the last free pair.
    """
    subscription = lock_subscription(require_access(user, PlanType.CUSTOM_BOT))
    check_pair_quota(subscription, pair_config)
    secret, secret_hash = new_secret()
    webhook = CustomBotWebhook.objects.create(
        user=user,
        subscription=subscription,
        pair_config=pair_config,
        secret_hash=secret_hash,
        tradingview_config=dict(TRADINGVIEW_TEMPLATE),
    )
    return IssuedSecret(webhook, secret)


@transaction.atomic
def rotate_secret(webhook: CustomBotWebhook) -> IssuedSecret:
    """Give an active webhook a new secret; the old URL stops working at once."""
    webhook = CustomBotWebhook.objects.select_for_update().get(pk=webhook.pk)
    if not webhook.is_active:
        raise InvalidTransition(
            "This webhook is deactivated; generate a new one instead.", code="webhook_inactive"
        )
    secret, webhook.secret_hash = new_secret()
    webhook.rotated_at = timezone.now()
    webhook.save(update_fields=["secret_hash", "rotated_at"])
    return IssuedSecret(webhook, secret)


def deactivate(webhook: CustomBotWebhook) -> CustomBotWebhook:
    """Stop accepting alerts (idempotent). The pair no longer counts against the quota."""
    if webhook.is_active:
        webhook.is_active = False
        webhook.deactivated_at = timezone.now()
        CustomBotWebhook.objects.filter(pk=webhook.pk).update(
            is_active=False, deactivated_at=webhook.deactivated_at
        )
    return webhook
