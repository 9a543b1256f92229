"""
BTCPay Server (self-hosted crypto payments) over its Greenfield API
(``pip install django-torgovo-subscriptions[btcpay]``; docs/PAYMENTS.md).

Configuration comes from the environment only, as for Stripe::

    BTCPAY_URL=https://pay.example.com      # the server, no /api/v1
    BTCPAY_API_KEY=...                      # canviewinvoices, cancreateinvoice, canmodifyinvoices
    BTCPAY_STORE_ID=...                     # the store that sells the plans
    BTCPAY_WEBHOOK_SECRET=...               # the store webhook's secret
    BTCPAY_TIMEOUT_SECONDS=15               # optional: how long to wait for an answer

Every charge is a Greenfield invoice priced in the plan's (fiat) currency,
which BTCPay converts; its metadata names our subscription, the period and the
kind of charge. A webhook delivery is only a hint: ``parse_event`` re-reads
the invoice (and its payment methods) from the API and decides from that:

=====================================  =============================================
invoice (as the API reports it)        billing event
=====================================  =============================================
Settled (also PaidLate, PaidOver)      paid (checkout completed / invoice paid)
New (nothing paid yet)                 nothing
New, Processing                        pending: amounts recorded, nothing changes
Expired with money received            pending (PaidPartial): the amount missing shows
Expired, nothing received              checkout expired / renewal failed
Invalid                                failed
=====================================  =============================================

An invoice this server did not open (``opened_here``) changes nothing.

Crypto has no pull payments (``native_recurring = False``): the billing
command calls ``charge_renewal``, which opens the next period's invoice and
records it as a pending ``Payment`` with its link.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.core.checks import CheckMessage, Error
from django.db import transaction

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import (
    GatewayError,
    MalformedEvent,
    MissingSignature,
    PriceNotConfigured,
)
from django_torgovo_subscriptions.payments import events as kinds
from django_torgovo_subscriptions.payments import signing
from django_torgovo_subscriptions.payments.base import (
    BaseGateway,
    CheckoutResult,
    missing_env_error,
    missing_package_error,
)
from django_torgovo_subscriptions.payments.base import env as _env
from django_torgovo_subscriptions.payments.btcpay_client import (
    READ_TIMEOUT_SECONDS,
    BtcPayClient,
    Invoice,
    decimal,
    timestamp,
)
from django_torgovo_subscriptions.payments.events import (
    PROFIT_SHARE_KEY,
    PROFIT_SHARE_MONTH_KEY,
    REFERENCE_KEY,
    BillingEvent,
)
from django_torgovo_subscriptions.periods import next_period_end

if TYPE_CHECKING:
    from django_torgovo_subscriptions.models import Payment, UserSubscription

logger = logging.getLogger(__name__)

URL_ENV = "BTCPAY_URL"
API_KEY_ENV = "BTCPAY_API_KEY"
STORE_ID_ENV = "BTCPAY_STORE_ID"
WEBHOOK_SECRET_ENV = "BTCPAY_WEBHOOK_SECRET"
# Optional: seconds to wait for an answer (default READ_TIMEOUT_SECONDS).
TIMEOUT_ENV = "BTCPAY_TIMEOUT_SECONDS"

# Invoice metadata: what the charge is for (beside REFERENCE_KEY and the profit share keys).
KIND_KEY = "torgovo_kind"
PERIOD_START_KEY = "period_start"
PERIOD_END_KEY = "period_end"
CHECKOUT = "subscription_create"
RENEWAL = "subscription_cycle"
PROFIT_SHARE = "profit_share"

# The invoice events of a store webhook; any other type is stored and ignored.
INVOICE_EVENTS = frozenset(
    {
        "InvoiceCreated",
        "InvoiceReceivedPayment",
        "InvoicePaymentSettled",
        "InvoiceProcessing",
        "InvoiceExpired",
        "InvoiceSettled",
        "InvoiceInvalid",
    }
)
# failure_reason of a renewal invoice withdrawn because renewal stopped.
WITHDRAWN = "Withdrawn: the subscription was cancelled or its renewal turned off."
# The least time a renewal invoice stays payable; how long a profit share's does.
MIN_INVOICE_LIFETIME = timedelta(hours=1)
PROFIT_SHARE_INVOICE_LIFETIME = timedelta(days=1)


class BtcPayGateway(BaseGateway):
    """Greenfield invoices, ``BTCPay-Sig`` webhooks, renewals as new invoices."""

    name = "btcpay"
    display_name = "Crypto (BTCPay Server)"
    signature_header = "BTCPay-Sig"
    native_recurring = False
    renews_past_due = True

    @classmethod
    def check(cls) -> list[CheckMessage]:
        errors: list[CheckMessage] = []
        try:
            import requests  # noqa: F401
        except ImportError:
            errors.append(
                missing_package_error("BTCPay", "requests", "btcpay", "subscriptions.E085")
            )
        url = _env(URL_ENV)
        parts = urlsplit(url)
        if not url or parts.scheme not in ("http", "https") or not parts.netloc:
            errors.append(
                Error(
                    f"The BTCPay gateway needs {URL_ENV}, the server's http(s) address "
                    f"(it is {'not set' if not url else repr(url)}).",
                    hint=f"Export {URL_ENV}=https://pay.example.com in the server's environment.",
                    id="subscriptions.E086",
                )
            )
        for env, purpose, check_id in (
            (API_KEY_ENV, "a Greenfield API key of the store", "subscriptions.E087"),
            (STORE_ID_ENV, "the store's id", "subscriptions.E088"),
            (WEBHOOK_SECRET_ENV, "the secret of the store's webhook", "subscriptions.E089"),
        ):
            if not _env(env):
                errors.append(missing_env_error("BTCPay", env, check_id, purpose))
        return errors

    def client(self) -> BtcPayClient:
        missing = [env for env in (URL_ENV, API_KEY_ENV, STORE_ID_ENV) if not _env(env)]
        if missing:
            raise GatewayError(f"BTCPay is not configured: {', '.join(missing)} not set.")
        try:
            timeout = float(_env(TIMEOUT_ENV) or READ_TIMEOUT_SECONDS)
        except ValueError:
            timeout = READ_TIMEOUT_SECONDS
        return BtcPayClient(
            _env(URL_ENV),
            _env(API_KEY_ENV),
            _env(STORE_ID_ENV),
            read_timeout=timeout if 0 < timeout < 300 else READ_TIMEOUT_SECONDS,
        )

    # -- invoices -----------------------------------------------------------------

    def _create_invoice(
        self,
        *,
        amount: Decimal,
        currency: str,
        metadata: dict[str, Any],
        order_id: str,
        redirect_url: str = "",
        expires_at: datetime | None = None,
        now: datetime | None = None,
    ) -> Invoice:
        if amount <= 0:
            raise PriceNotConfigured("A BTCPay invoice needs a price above zero.")
        checkout: dict[str, Any] = {}
        if redirect_url:
            checkout["redirectURL"] = redirect_url
        if expires_at is not None and now is not None:
            checkout["expirationMinutes"] = max(
                1, math.ceil((expires_at - now).total_seconds() / 60)
            )
        body: dict[str, Any] = {
            "amount": str(amount),
            "currency": currency.upper(),
            "metadata": {"orderId": order_id, **metadata},
        }
        if checkout:
            body["checkout"] = checkout
        return self.client().create_invoice(body)

    def _open_invoice(self, order_id: str, **create: Any) -> Invoice:
        """The store's still payable invoice for ``order_id`` with the same price and
        metadata, or a new one (a run that died after creating one never makes a second)."""
        wanted = {"orderId": order_id, **create["metadata"]}
        for invoice in self.client().list_invoices(orderId=order_id):
            if (
                invoice.status == "New"
                and invoice.paid_amount == 0
                and invoice.amount == create["amount"]
                and invoice.currency == create["currency"].upper()
                and all(invoice.metadata.get(k) == v for k, v in wanted.items())
            ):
                return invoice
        return self._create_invoice(order_id=order_id, **create)

    @staticmethod
    def _reference(subscription: UserSubscription, kind: str) -> dict[str, Any]:
        return {
            REFERENCE_KEY: str(subscription.pk),
            "user_id": str(subscription.user_id),
            KIND_KEY: kind,
            "itemDesc": subscription.plan.name,
        }

    @staticmethod
    def subscription_key(reference: Any) -> str:
        """The gateway subscription id stored on our rows: BTCPay has none, so it is ours."""
        return f"btcpay-{reference}"

    # -- checkout -----------------------------------------------------------------

    def create_checkout(
        self,
        subscription: UserSubscription,
        *,
        success_url: str,
        cancel_url: str,
        request: Any = None,
    ) -> CheckoutResult:
        """An invoice for the first month; its period starts when it is paid, so the
        metadata names none."""
        plan = subscription.plan
        if plan.monthly_price is None or plan.monthly_price <= 0:
            raise PriceNotConfigured(f"The plan {plan.name!r} has no monthly price to invoice.")
        invoice = self._create_invoice(
            amount=plan.monthly_price,
            currency=plan.currency,
            metadata=self._reference(subscription, CHECKOUT),
            order_id=f"torgovo-{subscription.pk}-checkout-{secrets.token_hex(4)}",
            redirect_url=success_url,
        )
        return CheckoutResult(
            session_id=invoice.id, url=invoice.checkout_link, expires_at=invoice.expires_at
        )

    # -- webhooks -----------------------------------------------------------------

    def verify_event(self, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        header = headers.get(self.signature_header, "")
        if not header:
            raise MissingSignature(f"The request has no {self.signature_header} header.")
        secret = _env(WEBHOOK_SECRET_ENV)
        if not secret:
            raise GatewayError(
                f"BTCPay webhooks cannot be verified: {WEBHOOK_SECRET_ENV} is not set."
            )
        signing.btcpay_verify(body, header, secret)
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedEvent("The body is signed but is not valid JSON.") from exc
        if not isinstance(payload, dict):
            raise MalformedEvent()
        delivery = payload.get("originalDeliveryId") or payload.get("deliveryId")
        if not (isinstance(delivery, str) and delivery and isinstance(payload.get("type"), str)):
            raise MalformedEvent(
                "The body is signed but is not a BTCPay delivery (deliveryId and type)."
            )
        # A redelivery carries a new deliveryId and the original's: one event for both.
        return {**payload, "id": delivery}

    def parse_event(self, payload: dict[str, Any]) -> BillingEvent:
        common = {
            "id": str(payload.get("id") or ""),
            "type": str(payload.get("type") or ""),
            "created": timestamp(payload.get("timestamp")),
            "object": payload,
        }
        invoice_id = payload.get("invoiceId")
        if (
            common["type"] not in INVOICE_EVENTS
            or not isinstance(invoice_id, str)
            or not invoice_id
            or payload.get("storeId") != _env(STORE_ID_ENV)
        ):
            return BillingEvent(**common, kind=kinds.UNHANDLED)
        # The delivery is a hint: act on what the API says now.
        client = self.client()
        invoice = client.get_invoice(invoice_id)
        if not self.opened_here(invoice):
            logger.warning("BTCPay invoice %s was not opened by this server", invoice.id)
            return BillingEvent(**common, kind=kinds.UNHANDLED, invoice_id=invoice.id)
        methods = client.get_payment_methods(invoice.id)
        return invoice_event(invoice, methods, common)

    def opened_here(self, invoice: Invoice) -> bool:
        """
        Whether this server opened ``invoice`` for what its metadata names: a
        checkout session, a renewal or a profit-share payment with its id.
        Anyone who can make an invoice in the store (a point of sale, another
        key) can copy our metadata onto a cheaper one; such an invoice pays for
        nothing here.
        """
        from django_torgovo_subscriptions.models import CheckoutSession, Payment

        metadata = invoice.metadata
        charge = metadata.get(KIND_KEY)
        reference = kinds._reference(metadata.get(REFERENCE_KEY))
        if charge == CHECKOUT:
            return CheckoutSession.objects.filter(
                gateway=self.name, session_id=invoice.id, subscription_id=reference
            ).exists()
        payments = Payment.objects.filter(gateway=self.name, gateway_invoice_id=invoice.id)
        if charge == RENEWAL:
            return payments.filter(subscription_id=reference).exists()
        if charge == PROFIT_SHARE:
            share = kinds._reference(metadata.get(PROFIT_SHARE_KEY))
            return payments.filter(pk=share).exists()
        return False

    # -- renewals -----------------------------------------------------------------

    def set_auto_renew(self, subscription: UserSubscription, auto_renew: bool) -> None:
        """Renewal off: withdraw the open renewal invoice (on: the next billing run opens one)."""
        if not auto_renew:
            self._withdraw_renewals(subscription.pk)

    def cancel_subscription(self, gateway_subscription_id: str) -> None:
        """BTCPay never charges: withdraw the open renewal invoice, so it cannot be paid."""
        reference = kinds._reference(gateway_subscription_id.removeprefix("btcpay-"))
        if reference is not None:
            self._withdraw_renewals(reference)

    def _withdraw_renewals(self, subscription_id: int) -> None:
        """
        Mark the subscription's open renewal invoices Invalid at BTCPay and their
        pending ``Payment`` failed. One that money has reached (part paid,
        processing, settled) is left to finish: its webhook decides, as for any
        payment. Runs inside the caller's transaction, which holds the
        subscription's lock: BTCPay failing raises (502/503) and rolls it back.
        """
        from django_torgovo_subscriptions.models.payments import PaymentStatus, open_renewals

        client = self.client()
        for payment in open_renewals().filter(gateway=self.name, subscription_id=subscription_id):
            invoice = client.get_invoice(payment.gateway_invoice_id)
            if invoice.paid_amount > 0 or invoice.status not in ("New", "Expired", "Invalid"):
                continue
            if invoice.status == "New":
                client.mark_invoice_status(invoice.id, "Invalid")
            payment.status = PaymentStatus.FAILED
            payment.failure_reason = WITHDRAWN
            payment.failed_at = _now()
            payment.attempt_count = max(payment.attempt_count, 1)
            payment.save(
                update_fields=[
                    "status",
                    "failure_reason",
                    "failed_at",
                    "attempt_count",
                    "updated_at",
                ]
            )

    def charge_renewal(self, subscription: UserSubscription, now: datetime) -> str:
        """
        Open the invoice of the period after ``subscription.end_date`` (once: a
        later run finds its pending or paid ``Payment``), record it as that
        pending payment with its link, and send ``renewal_invoice_created``. It
        expires at the period's end (at least an hour after it is opened):
        unpaid, the subscription goes past_due as after a declined card. A
        past_due subscription (the billing run asks again during its grace
        period) gets a fresh invoice in place of the one that failed, open until
        the grace period ends.
        """
        from django_torgovo_subscriptions.models import (
            Payment,
            PaymentKind,
            SubscriptionStatus,
            UserSubscription,
        )
        from django_torgovo_subscriptions.models.payments import PaymentStatus

        with transaction.atomic():
            subscription = (
                UserSubscription.objects.select_for_update()
                .select_related("plan")
                .get(pk=subscription.pk)
            )
            start = subscription.end_date
            if start is None or subscription.start_date is None:
                raise GatewayError(f"Subscription {subscription.pk} has no period to renew.")
            # A failed invoice (expired or invalid) is history: the period gets another.
            existing = (
                Payment.objects.filter(
                    gateway=self.name,
                    subscription=subscription,
                    kind=PaymentKind.SUBSCRIPTION,
                    period_start=start,
                )
                .exclude(status=PaymentStatus.FAILED)
                .first()
            )
            if existing is not None:
                return existing.gateway_invoice_id
            expires_at = start
            if subscription.status == SubscriptionStatus.PAST_DUE:
                expires_at = start + timedelta(
                    seconds=subscriptions_settings.PAST_DUE_GRACE_SECONDS
                )
            end = next_period_end(subscription.start_date, start)
            plan = subscription.plan
            metadata = {
                **self._reference(subscription, RENEWAL),
                PERIOD_START_KEY: start.isoformat(),
                PERIOD_END_KEY: end.isoformat(),
            }
            invoice = self._open_invoice(
                f"torgovo-{subscription.pk}-renewal-{int(start.timestamp())}",
                amount=plan.monthly_price,
                currency=plan.currency,
                metadata=metadata,
                expires_at=max(expires_at, now + MIN_INVOICE_LIFETIME),
                now=now,
            )
            payment = Payment.objects.create(
                user_id=subscription.user_id,
                subscription=subscription,
                gateway=self.name,
                kind=PaymentKind.SUBSCRIPTION,
                amount=invoice.amount,
                currency=invoice.currency or plan.currency,
                billing_reason=RENEWAL,
                gateway_invoice_id=invoice.id,
                gateway_subscription_id=subscription.gateway_subscription_id,
                period_start=start,
                period_end=end,
                payment_url=invoice.checkout_link,
                expires_at=invoice.expires_at,
            )
            signals.renewal_invoice_created.send(
                sender=Payment, payment=payment, subscription=subscription
            )
        return invoice.id

    # -- profit shares ------------------------------------------------------------

    def charge_profit_share(self, payment: Payment, *, idempotency_key: str) -> str:
        """
        An invoice for the share; paying it is the user's move, reported by the
        webhook. A retry of a failed share (its invoice expired or invalid)
        opens a fresh invoice and points the payment at it.
        """
        from django_torgovo_subscriptions.models import Payment as PaymentModel

        if payment.gateway_invoice_id:
            current = self.client().get_invoice(payment.gateway_invoice_id)
            if current.status in ("New", "Processing", "Settled"):
                return current.id
        attempt = payment.attempt_count + 1
        now = _now()
        invoice = self._open_invoice(
            f"{idempotency_key}-{attempt}",
            amount=payment.amount,
            currency=payment.currency,
            metadata={
                REFERENCE_KEY: str(payment.subscription_id or ""),
                "user_id": str(payment.user_id or ""),
                KIND_KEY: PROFIT_SHARE,
                PROFIT_SHARE_KEY: str(payment.pk),
                PROFIT_SHARE_MONTH_KEY: payment.profit_share_month,
                "itemDesc": f"Profit share {payment.profit_share_month}",
            },
            expires_at=now + PROFIT_SHARE_INVOICE_LIFETIME,
            now=now,
        )
        PaymentModel.objects.filter(pk=payment.pk).update(
            gateway_invoice_id=invoice.id,
            payment_url=invoice.checkout_link,
            expires_at=invoice.expires_at,
            attempt_count=attempt,
        )
        return invoice.id

    def list_events(self, since: datetime) -> list[dict[str, Any]]:
        """
        BTCPay's deliveries can only be read with a key that may also modify
        webhooks, so recovery asks the invoices instead: one event per invoice
        of ours created since ``since`` and no longer New, with an id naming
        its current state (each state is processed once). ``parse_event``
        re-reads the invoice, as for a delivery.
        """
        store_id = _env(STORE_ID_ENV)
        events = []
        for invoice in self.client().list_invoices(startDate=int(since.timestamp())):
            if invoice.status not in ("Processing", "Expired", "Invalid", "Settled"):
                continue
            if not invoice.metadata.get(KIND_KEY):
                continue  # not an invoice of this server
            created = int(invoice.created.timestamp()) if invoice.created else 0
            events.append(
                {
                    "id": f"api-{invoice.id}-{invoice.status}-{invoice.additional_status}",
                    "type": f"Invoice{invoice.status}",
                    "created": created,
                    "timestamp": created,
                    "storeId": store_id,
                    "invoiceId": invoice.id,
                    "metadata": invoice.metadata,
                }
            )
        return events


def _now() -> datetime:
    from django.utils import timezone

    return timezone.now()


def _paid_amount(invoice: Invoice, methods: list[dict[str, Any]]) -> Decimal:
    """The invoice's ``paidAmount``; servers without it: the methods' payments at their rates."""
    if "paidAmount" in invoice.raw:
        return invoice.paid_amount
    total = Decimal("0")
    for method in methods:
        paid, rate = decimal(method.get("paymentMethodPaid")), decimal(method.get("rate"))
        if paid is not None and rate is not None:
            total += paid * rate
    return total


def _due(methods: list[dict[str, Any]]) -> str:
    """What is left to pay per payment method, e.g. "0.0001 BTC (BTC-CHAIN)"."""
    parts = []
    for method in methods:
        due = decimal(method.get("due"))
        if due is not None and due > 0:
            parts.append(
                f"{due} {method.get('currency', '')} ({method.get('paymentMethodId', '')})"
            )
    return ", ".join(parts)


def invoice_event(
    invoice: Invoice, methods: list[dict[str, Any]], common: dict[str, Any]
) -> BillingEvent:
    """The billing event of ``invoice`` as the API reports it (the module docstring's table)."""
    metadata = invoice.metadata
    charge = str(metadata.get(KIND_KEY) or "")
    reference = kinds._reference(metadata.get(REFERENCE_KEY))
    paid = _paid_amount(invoice, methods).quantize(Decimal("0.01"))
    fields: dict[str, Any] = {
        **common,
        "reference": reference,
        "gateway_subscription_id": (
            BtcPayGateway.subscription_key(reference)
            if reference is not None and charge != PROFIT_SHARE
            else ""
        ),
        "invoice_id": invoice.id,
        "amount": invoice.amount,
        "amount_received": paid,
        "currency": invoice.currency,
        "payment_url": invoice.checkout_link,
        "billing_reason": charge if charge in (CHECKOUT, RENEWAL) else "manual",
        "attempt_count": 1,
        "profit_share_payment": (
            kinds._reference(metadata.get(PROFIT_SHARE_KEY)) if charge == PROFIT_SHARE else None
        ),
    }
    if charge == CHECKOUT:
        fields["checkout_session_id"] = invoice.id
    status, extra = invoice.status, invoice.additional_status
    if status == "Settled":
        if charge == CHECKOUT:
            return BillingEvent(**fields, kind=kinds.CHECKOUT_COMPLETED, payment_status="paid")
        return BillingEvent(**fields, kind=kinds.INVOICE_PAID)
    if status == "New" and paid == 0:
        return BillingEvent(**common, kind=kinds.UNHANDLED, invoice_id=invoice.id)
    if status in ("New", "Processing") or (status == "Expired" and paid > 0):
        due = _due(methods)
        return BillingEvent(
            **fields,
            kind=kinds.INVOICE_PENDING,
            status=f"{status}/{extra}",
            detail=f"Due: {due}." if due else "",
        )
    if status == "Expired" and charge == CHECKOUT:
        return BillingEvent(**fields, kind=kinds.CHECKOUT_EXPIRED)
    if status in ("Expired", "Invalid"):
        reason = (
            "The invoice expired unpaid."
            if status == "Expired"
            else "BTCPay marked the invoice invalid: its payments did not confirm in time."
        )
        return BillingEvent(**fields, kind=kinds.INVOICE_PAYMENT_FAILED, failure_reason=reason)
    logger.warning("BTCPay invoice %s has an unknown status %r", invoice.id, status)
    return BillingEvent(**common, kind=kinds.UNHANDLED)
