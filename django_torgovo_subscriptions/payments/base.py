"""
The payment gateway contract.

A gateway is a class named in ``TORGOVO_SUBSCRIPTIONS["PAYMENT_GATEWAY_CLASSES"]``
(or ``PAYMENT_GATEWAY_CLASS``); several may be offered side by side, each
subscription paying through the one it chose (``payments.get_gateways()``).
Subclass ``BaseGateway`` and implement the hooks; views, models and the billing
service never see gateway specifics, so another gateway (a crypto processor)
plugs in without touching them. Hooks that are not implemented raise
``NotImplementedError``.

The rules every gateway follows:

* ``create_checkout`` starts a payment and returns where to send the user; it
  never changes the subscription. A subscription turns active only from a
  verified event (``verify_event`` + ``parse_event``), never from a redirect.
* ``verify_event`` authenticates a webhook delivery (signature with a time
  tolerance) and raises a ``WebhookRejected`` subclass otherwise.
* A gateway with native recurring billing (Stripe) renews on its side and
  reports each renewal as an event; one without (``native_recurring = False``)
  is asked by the ``billing`` command to ``charge_renewal`` when a period ends.
* A managed bot's profit share is charged by ``charge_profit_share`` when a
  settlement makes it due, and paid only by the verified event that follows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.checks import CheckMessage, Error

from django_torgovo_subscriptions.exceptions import MalformedEvent
from django_torgovo_subscriptions.payments.events import BillingEvent

if TYPE_CHECKING:
    from django_torgovo_subscriptions.models import Payment, UserSubscription


@dataclass(frozen=True)
class CheckoutResult:
    """Where the user pays: the gateway's session id and page URL."""

    session_id: str
    url: str
    expires_at: datetime | None = None


class BaseGateway:
    """Base class of payment gateways; see the module docstring for the rules."""

    #: Short lower-case name: stored on subscriptions and payments
    #: (``payment_method``) and used in ``payments/webhook/<name>/``.
    name: str = ""
    #: What users see when they choose a gateway (``GET payments/gateways/``);
    #: empty: the name.
    display_name: str = ""
    #: HTTP header that carries the webhook signature.
    signature_header: str = ""
    #: True when the gateway charges renewals itself and reports them as events.
    native_recurring: bool = True
    #: Without native recurring: True when a past_due subscription is asked to
    #: ``charge_renewal`` again during PAST_DUE_GRACE_SECONDS (the user pays a
    #: fresh invoice; a card gateway's declined charge is not retried here).
    renews_past_due: bool = False

    @classmethod
    def check(cls) -> list[CheckMessage]:
        """System check messages about the gateway's configuration (environment, SDK)."""
        return []

    def create_checkout(
        self,
        subscription: UserSubscription,
        *,
        success_url: str,
        cancel_url: str,
        request: Any = None,
    ) -> CheckoutResult:
        """Start paying for a pending ``subscription``; raise ``GatewayError`` on failure.

        ``request`` (may be None) lets a gateway that hosts its own page build
        an absolute URL to it.
        """
        raise NotImplementedError(".create_checkout() must be overridden.")

    def verify_event(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        """Authenticate a webhook delivery and return the event as a dict.

        Raise ``MissingSignature``, ``InvalidSignature``, ``StaleSignature`` or
        ``MalformedEvent``.
        """
        raise NotImplementedError(".verify_event() must be overridden.")

    def parse_event(self, payload: dict[str, Any]) -> BillingEvent:
        """Reduce a verified event to a ``BillingEvent``."""
        raise NotImplementedError(".parse_event() must be overridden.")

    def describe_failure(self, event: BillingEvent) -> str:
        """A person-readable reason for a failed charge (may ask the gateway's API)."""
        return event.failure_reason

    def set_auto_renew(self, subscription: UserSubscription, auto_renew: bool) -> None:
        """Stop (False) or resume (True) renewal at the end of the current period."""
        raise NotImplementedError(".set_auto_renew() must be overridden.")

    def cancel_subscription(self, gateway_subscription_id: str) -> None:
        """End the gateway's subscription now: no more charges or retries."""
        raise NotImplementedError(".cancel_subscription() must be overridden.")

    def charge_renewal(self, subscription: UserSubscription, now: datetime) -> str:
        """Charge the next period (``native_recurring = False`` only); return the invoice id."""
        raise NotImplementedError(".charge_renewal() must be overridden.")

    def charge_profit_share(self, payment: Payment, *, idempotency_key: str) -> str:
        """
        Charge a managed bot's profit share (a ``Payment`` of kind
        ``profit_share``: ``payment.amount`` in ``payment.currency``, for
        ``payment.profit_share_month``) to the user's saved payment method, off
        session; return the gateway's invoice id. When
        ``payment.gateway_invoice_id`` is set already (a failed charge retried),
        pay that invoice again instead of creating one.

        The outcome is reported only as a verified event, ``invoice.paid`` or
        ``invoice.payment_failed`` in the Stripe vocabulary, whose invoice
        metadata carries ``PROFIT_SHARE_KEY`` (the payment's id) and
        ``REFERENCE_KEY`` (the subscription's). ``idempotency_key`` is the same
        for every call about one payment, so a retried request never makes a
        second invoice. Raise ``GatewayError`` when the gateway cannot be asked.
        """
        raise NotImplementedError(".charge_profit_share() must be overridden.")

    def list_events(self, since: datetime) -> list[dict[str, Any]]:
        """Events from the gateway's own log created at or after ``since`` (for recovery)."""
        raise NotImplementedError(".list_events() must be overridden.")


def load_event(body: bytes) -> dict[str, Any]:
    """Parse a verified body into an event dict, or raise ``MalformedEvent``."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedEvent("The body is signed but is not valid JSON.") from exc
    if not (
        isinstance(payload, dict)
        and isinstance(payload.get("id"), str)
        and payload["id"]
        and isinstance(payload.get("type"), str)
        and payload["type"]
    ):
        raise MalformedEvent()
    return payload


# --- configuration from the environment (the Stripe and BTCPay gateways) ------------


def env(name: str) -> str:
    """A gateway's key or address: from the environment only, never settings or the database."""
    return os.environ.get(name, "").strip()


def missing_package_error(gateway: str, module: str, extra: str, check_id: str) -> Error:
    return Error(
        f"The {gateway} gateway is configured but {module} is not installed.",
        hint=f"pip install 'django-torgovo-subscriptions[{extra}]'",
        id=check_id,
    )


def missing_env_error(gateway: str, name: str, check_id: str, purpose: str) -> Error:
    return Error(
        f"The {gateway} gateway is configured but the environment variable {name} is not set.",
        hint=f"Export {name} ({purpose}) in the server's environment. Keys are never read "
        "from settings or the database.",
        id=check_id,
    )
