"""
Stripe, on the official ``stripe`` SDK (``pip install django-torgovo-subscriptions[stripe]``).

Keys come from the environment only, never from settings, code or the
database::

    STRIPE_SECRET_KEY=sk_live_...          # or a restricted key rk_live_...
    STRIPE_WEBHOOK_SECRET=whsec_...        # the signing secret of the webhook endpoint
    STRIPE_API_BASE=http://localhost:12111 # optional: stripe-mock or a test fake

Checkout runs in subscription mode with the plan's price
(``plan.gateway_price_ids["stripe"]``) for the user's Stripe customer, and
puts our subscription id in ``client_reference_id`` and in the metadata of the
session and of the Stripe subscription, so every later invoice event names it.
Requests use the pinned ``STRIPE_API_VERSION``; create the webhook endpoint
with the same version so events arrive in the shapes read here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.checks import CheckMessage, Error
from django.db import IntegrityError, transaction

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import (
    GatewayError,
    MissingSignature,
    PriceNotConfigured,
)
from django_torgovo_subscriptions.payments import signing
from django_torgovo_subscriptions.payments.base import (
    BaseGateway,
    CheckoutResult,
    load_event,
    missing_env_error,
    missing_package_error,
)
from django_torgovo_subscriptions.payments.base import env as _env
from django_torgovo_subscriptions.payments.events import (
    PROFIT_SHARE_KEY,
    PROFIT_SHARE_MONTH_KEY,
    REFERENCE_KEY,
    BillingEvent,
    parse_stripe_event,
    to_minor_units,
)

if TYPE_CHECKING:
    from django_torgovo_subscriptions.models import Payment, UserSubscription

logger = logging.getLogger(__name__)

STRIPE_API_VERSION = "2025-04-30.basil"
SECRET_KEY_ENV = "STRIPE_SECRET_KEY"
WEBHOOK_SECRET_ENV = "STRIPE_WEBHOOK_SECRET"
API_BASE_ENV = "STRIPE_API_BASE"
REQUEST_TIMEOUT_SECONDS = 20


def _plain(obj: Any) -> dict[str, Any]:
    """A StripeObject as plain JSON data."""
    try:
        return obj.to_dict(recursive=True, for_json=True)
    except TypeError:  # stripe < 13
        return obj.to_dict_recursive()


def _timestamp(value: Any) -> datetime | None:
    from django_torgovo_subscriptions.payments.events import _time

    return _time(value)


def _missing_error(name: str, check_id: str, purpose: str) -> Error:
    return missing_env_error("Stripe", name, check_id, purpose)


class StripeGateway(BaseGateway):
    """Stripe Checkout (subscription mode) and Stripe-signed webhooks."""

    name = "stripe"
    display_name = "Card (Stripe)"
    signature_header = "Stripe-Signature"
    native_recurring = True

    @classmethod
    def check(cls) -> list[CheckMessage]:
        errors: list[CheckMessage] = []
        try:
            import stripe  # noqa: F401
        except ImportError:
            errors.append(
                missing_package_error("Stripe", "the stripe SDK", "stripe", "subscriptions.E031")
            )
        secret_key = _env(SECRET_KEY_ENV)
        if not secret_key:
            errors.append(_missing_error(SECRET_KEY_ENV, "subscriptions.E032", "sk_... or rk_..."))
        elif not secret_key.startswith(("sk_", "rk_")):
            errors.append(
                Error(
                    f"{SECRET_KEY_ENV} is not a Stripe secret key (it must start with sk_ or rk_).",
                    hint="The publishable key (pk_...) belongs in the browser, not on the server.",
                    id="subscriptions.E034",
                )
            )
        if not _env(WEBHOOK_SECRET_ENV):
            errors.append(
                _missing_error(
                    WEBHOOK_SECRET_ENV,
                    "subscriptions.E033",
                    "the endpoint's signing secret, whsec_...",
                )
            )
        return errors

    # -- the SDK client ---------------------------------------------------------

    def client(self) -> Any:
        import stripe

        secret_key = _env(SECRET_KEY_ENV)
        if not secret_key:
            raise GatewayError(f"Stripe is not configured: {SECRET_KEY_ENV} is not set.")
        base_addresses = {"api": _env(API_BASE_ENV)} if _env(API_BASE_ENV) else None
        return stripe.StripeClient(
            secret_key,
            stripe_version=STRIPE_API_VERSION,
            base_addresses=base_addresses,
            # Retries carry an idempotency key the SDK generates, so a retried
            # POST never creates a second customer or session.
            max_network_retries=2,
            # Webhook processing may call Stripe while it holds row locks:
            # fail fast rather than wait for the SDK's 80 s default.
            http_client=stripe.RequestsClient(timeout=REQUEST_TIMEOUT_SECONDS),
        )

    def _call(self, action: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        import stripe

        try:
            return func(*args, **kwargs)
        except stripe.StripeError as exc:
            logger.warning("Stripe %s failed: %r", action, exc)
            message = (
                getattr(exc, "user_message", None) or "The payment provider refused the request."
            )
            raise GatewayError(f"Stripe could not {action}: {message}") from exc

    # -- checkout ---------------------------------------------------------------

    def customer_id(self, user: Any) -> str:
        """The user's Stripe customer, created on first checkout and stored."""
        from django_torgovo_subscriptions.models.payments import GatewayCustomer

        existing = GatewayCustomer.objects.filter(user=user, gateway=self.name).first()
        if existing:
            return existing.customer_id
        params: dict[str, Any] = {"metadata": {"user_id": str(user.pk)}}
        if getattr(user, "email", ""):
            params["email"] = user.email
        customer = self._call("create the customer", self.client().v1.customers.create, params)
        try:
            with transaction.atomic():
                GatewayCustomer.objects.create(
                    user=user, gateway=self.name, customer_id=customer.id
                )
        except IntegrityError:
            # A concurrent checkout of the same user stored one first; use it
            # (the extra Stripe customer stays empty and harmless).
            return GatewayCustomer.objects.get(user=user, gateway=self.name).customer_id
        return customer.id

    def create_checkout(
        self,
        subscription: UserSubscription,
        *,
        success_url: str,
        cancel_url: str,
        request: Any = None,
    ) -> CheckoutResult:
        plan = subscription.plan
        price_id = (plan.gateway_price_ids or {}).get(self.name)
        if not price_id:
            raise PriceNotConfigured(
                f"The plan {plan.name!r} has no Stripe price: set gateway_price_ids "
                '{"stripe": "price_..."} on it.'
            )
        reference = {REFERENCE_KEY: str(subscription.pk), "user_id": str(subscription.user_id)}
        session = self._call(
            "start the checkout",
            self.client().v1.checkout.sessions.create,
            {
                "mode": "subscription",
                "line_items": [{"price": price_id, "quantity": 1}],
                "customer": self.customer_id(subscription.user),
                "client_reference_id": str(subscription.pk),
                "metadata": reference,
                "subscription_data": {"metadata": reference},
                "success_url": success_url,
                "cancel_url": cancel_url,
            },
        )
        return CheckoutResult(
            session_id=session.id,
            url=session.url,
            expires_at=_timestamp(getattr(session, "expires_at", None)),
        )

    # -- webhooks ---------------------------------------------------------------

    def verify_event(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        header = headers.get(self.signature_header, "")
        if not header:
            raise MissingSignature(f"The request has no {self.signature_header} header.")
        secret = _env(WEBHOOK_SECRET_ENV)
        if not secret:
            # Never accept an unverifiable event; the system check reports this too.
            raise GatewayError(
                f"Stripe webhooks cannot be verified: {WEBHOOK_SECRET_ENV} is not set."
            )
        signing.verify(
            body, header, secret, subscriptions_settings.PAYMENT_WEBHOOK_TOLERANCE_SECONDS
        )
        return load_event(body)

    def parse_event(self, payload: dict[str, Any]) -> BillingEvent:
        return parse_stripe_event(payload)

    def describe_failure(self, event: BillingEvent) -> str:
        """The decline message of the invoice's last PaymentIntent, when Stripe gives one."""
        fallback = event.failure_reason or _attempt_text(event)
        try:
            payments = self.client().v1.invoice_payments.list(
                {"invoice": event.invoice_id, "expand": ["data.payment.payment_intent"]}
            )
            for invoice_payment in _plain(payments).get("data", []):
                intent = (invoice_payment.get("payment") or {}).get("payment_intent") or {}
                error = intent.get("last_payment_error") if isinstance(intent, dict) else None
                if error and error.get("message"):
                    return str(error["message"])
        except Exception:  # a reason is nice to have; the failure is recorded regardless
            logger.warning(
                "Could not fetch the failure reason of %s", event.invoice_id, exc_info=True
            )
        return fallback

    # -- renewal ----------------------------------------------------------------

    def set_auto_renew(self, subscription: UserSubscription, auto_renew: bool) -> None:
        self._call(
            "change the renewal",
            self.client().v1.subscriptions.update,
            subscription.gateway_subscription_id,
            {"cancel_at_period_end": not auto_renew},
        )

    def cancel_subscription(self, gateway_subscription_id: str) -> None:
        import stripe

        client = self.client()
        try:
            client.v1.subscriptions.cancel(gateway_subscription_id)
            return
        except stripe.InvalidRequestError as exc:
            refused = exc
        except stripe.StripeError as exc:
            raise GatewayError("Stripe could not cancel the subscription.") from exc
        # Refused: fine if it is gone or ended already (nothing left to charge).
        try:
            current = client.v1.subscriptions.retrieve(gateway_subscription_id)
        except stripe.InvalidRequestError as exc:
            if getattr(exc, "code", "") == "resource_missing":
                return
            raise GatewayError("Stripe could not cancel the subscription.") from refused
        except stripe.StripeError as exc:
            raise GatewayError("Stripe could not cancel the subscription.") from exc
        if current.status not in ("canceled", "incomplete_expired"):
            raise GatewayError("Stripe could not cancel the subscription.") from refused

    # -- profit shares -------------------------------------------------------------

    def charge_profit_share(self, payment: Payment, *, idempotency_key: str) -> str:
        """
        A one-off invoice for the customer, charged off session to their saved
        payment method: a draft invoice (``charge_automatically``,
        ``auto_advance``, pending items excluded so nothing else joins it),
        one invoice item for the share, finalize, pay. A decline is not an
        error here: Stripe reports it as ``invoice.payment_failed`` and keeps
        retrying under its Smart Retries; a retry of a failed payment pays the
        same invoice again. Every request carries a key derived from
        ``idempotency_key``, so a call repeated after a failure creates nothing
        twice.
        """
        import stripe

        client = self.client()
        invoice_id = payment.gateway_invoice_id
        if not invoice_id:
            invoice_id = self._profit_share_invoice(client, payment, idempotency_key)
        attempt = f"{idempotency_key}-pay-{payment.attempt_count + 1}"
        try:
            client.v1.invoices.pay(invoice_id, None, {"idempotency_key": attempt})
        except stripe.CardError:
            logger.info("Stripe declined profit share invoice %s", invoice_id)
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe could not charge the profit share: {exc}") from exc
        return invoice_id

    def _profit_share_invoice(self, client: Any, payment: Payment, key: str) -> str:
        customer = self.customer_id(payment.user)
        currency = payment.currency.lower()
        description = f"Profit share {payment.profit_share_month}"
        metadata = {
            REFERENCE_KEY: str(payment.subscription_id or ""),
            PROFIT_SHARE_KEY: str(payment.pk),
            PROFIT_SHARE_MONTH_KEY: payment.profit_share_month,
        }
        invoice = self._call(
            "create the profit share invoice",
            client.v1.invoices.create,
            {
                "customer": customer,
                "collection_method": "charge_automatically",
                "auto_advance": True,
                "pending_invoice_items_behavior": "exclude",
                "currency": currency,
                "description": description,
                "metadata": metadata,
            },
            {"idempotency_key": f"{key}-invoice"},
        )
        self._call(
            "add the profit share to its invoice",
            client.v1.invoice_items.create,
            {
                "customer": customer,
                "invoice": invoice.id,
                "amount": to_minor_units(payment.amount, payment.currency),
                "currency": currency,
                "description": description,
                "metadata": metadata,
            },
            {"idempotency_key": f"{key}-item"},
        )
        self._call(
            "finalize the profit share invoice",
            client.v1.invoices.finalize_invoice,
            invoice.id,
            {"auto_advance": True},
            {"idempotency_key": f"{key}-finalize"},
        )
        return invoice.id

    def list_events(self, since: datetime) -> list[dict[str, Any]]:
        def fetch() -> list[dict[str, Any]]:
            events = self.client().v1.events.list(
                {"created": {"gte": int(since.timestamp())}, "limit": 100}
            )
            return [_plain(event) for event in events.auto_paging_iter()]

        return self._call("list events", fetch)


def _attempt_text(event: BillingEvent) -> str:
    attempt = f" (attempt {event.attempt_count})" if event.attempt_count else ""
    return f"The payment was declined{attempt}."
