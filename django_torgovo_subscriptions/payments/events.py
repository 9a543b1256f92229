"""
The events the billing service understands, and how Stripe-shaped events map
to them.

A gateway turns its own event into a ``BillingEvent``; ``services.payments``
acts on that and never reads gateway JSON. Stripe's event vocabulary is the
lingua franca here: the dummy gateway emits Stripe-shaped events (same types,
same object fields) so that it walks the very same parser. The shapes read are
those of API version ``2025-04-30.basil`` and later (``invoice.parent.
subscription_details``, ``subscription.items[].current_period_end``), with a
fallback to the pre-basil fields ``invoice.subscription``/``subscription_details``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

# The kinds of BillingEvent (what happened, independent of the gateway).
CHECKOUT_COMPLETED = "checkout_completed"
CHECKOUT_EXPIRED = "checkout_expired"
INVOICE_PAID = "invoice_paid"
INVOICE_PAYMENT_FAILED = "invoice_payment_failed"
# Money seen but not final (crypto: unconfirmed, or less than the price): recorded, no change.
INVOICE_PENDING = "invoice_pending"
SUBSCRIPTION_UPDATED = "subscription_updated"
SUBSCRIPTION_DELETED = "subscription_deleted"
UNHANDLED = "unhandled"

STRIPE_TYPES = {
    "checkout.session.completed": CHECKOUT_COMPLETED,
    "checkout.session.expired": CHECKOUT_EXPIRED,
    "invoice.paid": INVOICE_PAID,
    "invoice.payment_failed": INVOICE_PAYMENT_FAILED,
    "customer.subscription.updated": SUBSCRIPTION_UPDATED,
    "customer.subscription.deleted": SUBSCRIPTION_DELETED,
}

# Metadata key carrying our UserSubscription id on gateway objects.
REFERENCE_KEY = "subscription_id"
# Metadata keys of a profit-share invoice: our Payment id, and the month settled.
PROFIT_SHARE_KEY = "profit_share_payment_id"
PROFIT_SHARE_MONTH_KEY = "profit_share_month"

# Stripe amounts are in the currency's minor unit; these have none, or three.
# https://docs.stripe.com/currencies#zero-decimal
# fmt: off
ZERO_DECIMAL = frozenset({
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
    "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
})
# fmt: on
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


@dataclass(frozen=True)
class BillingEvent:
    """A verified gateway event, reduced to what billing acts on."""

    id: str
    type: str
    kind: str
    created: datetime | None = None
    # Our UserSubscription pk, from the metadata we put on the gateway objects.
    reference: int | None = None
    gateway_subscription_id: str = ""
    gateway_customer_id: str = ""
    invoice_id: str = ""
    checkout_session_id: str = ""
    amount: Decimal | None = None
    currency: str = ""
    # What the payer sent so far in ``currency`` (BTCPay), when the gateway says.
    amount_received: Decimal | None = None
    # Where the payer pays an open invoice (BTCPay's checkout link).
    payment_url: str = ""
    # A pending invoice: what is left to pay, in the gateway's words.
    detail: str = ""
    paid_at: datetime | None = None
    billing_reason: str = ""
    # checkout.session: paid | unpaid | no_payment_required
    payment_status: str = ""
    attempt_count: int = 0
    failure_reason: str = ""
    # subscription objects: the gateway's status and cancel_at_period_end
    status: str = ""
    cancel_at_period_end: bool | None = None
    # invoice objects of a managed bot's profit share: our Payment pk
    profit_share_payment: int | None = None
    object: dict[str, Any] = field(default_factory=dict, repr=False)


def from_minor_units(amount: Any, currency: str) -> Decimal | None:
    if amount is None:
        return None
    currency = currency.upper()
    exponent = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    return (Decimal(int(amount)) / (Decimal(10) ** exponent)).quantize(Decimal("0.01"))


def to_minor_units(amount: Decimal, currency: str) -> int:
    currency = currency.upper()
    exponent = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    return int((amount * (Decimal(10) ** exponent)).to_integral_value())


def _time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromtimestamp(int(value), tz=UTC)


def _id(value: Any) -> str:
    """An id field that may be expanded into an object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _reference(*candidates: Any) -> int | None:
    for candidate in candidates:
        if candidate in (None, ""):
            continue
        try:
            return int(str(candidate))
        except ValueError:
            continue
    return None


def _metadata(obj: dict[str, Any] | None) -> dict[str, Any]:
    value = (obj or {}).get("metadata")
    return value if isinstance(value, dict) else {}


def _invoice_subscription(invoice: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The invoice's subscription id and that subscription's metadata snapshot."""
    details = ((invoice.get("parent") or {}).get("subscription_details")) or {}
    if details:
        return _id(details.get("subscription")), _metadata(details)
    # Before 2025-03-31.basil: top-level subscription and subscription_details.
    return _id(invoice.get("subscription")), _metadata(invoice.get("subscription_details"))


def parse_stripe_event(payload: dict[str, Any]) -> BillingEvent:
    """Reduce a Stripe-shaped event (``{"id", "type", "data": {"object"}}``)."""
    event_type = str(payload.get("type") or "")
    kind = STRIPE_TYPES.get(event_type, UNHANDLED)
    obj = (payload.get("data") or {}).get("object") or {}
    common = {
        "id": str(payload.get("id") or ""),
        "type": event_type,
        "kind": kind,
        "created": _time(payload.get("created")),
        "object": obj,
    }
    if kind in (CHECKOUT_COMPLETED, CHECKOUT_EXPIRED):
        currency = str(obj.get("currency") or "").upper()
        return BillingEvent(
            **common,
            reference=_reference(obj.get("client_reference_id"), _metadata(obj).get(REFERENCE_KEY)),
            gateway_subscription_id=_id(obj.get("subscription")),
            gateway_customer_id=_id(obj.get("customer")),
            invoice_id=_id(obj.get("invoice")),
            checkout_session_id=_id(obj),
            amount=from_minor_units(obj.get("amount_total"), currency),
            currency=currency,
            payment_status=str(obj.get("payment_status") or ""),
            billing_reason="subscription_create",
        )
    if kind in (INVOICE_PAID, INVOICE_PAYMENT_FAILED):
        currency = str(obj.get("currency") or "").upper()
        subscription_id, metadata = _invoice_subscription(obj)
        paid = kind == INVOICE_PAID
        transitions = obj.get("status_transitions") or {}
        return BillingEvent(
            **common,
            reference=_reference(metadata.get(REFERENCE_KEY), _metadata(obj).get(REFERENCE_KEY)),
            gateway_subscription_id=subscription_id,
            gateway_customer_id=_id(obj.get("customer")),
            invoice_id=_id(obj),
            amount=from_minor_units(obj.get("amount_paid" if paid else "amount_due"), currency),
            currency=currency,
            paid_at=_time(transitions.get("paid_at")) if paid else None,
            billing_reason=str(obj.get("billing_reason") or ""),
            attempt_count=int(obj.get("attempt_count") or 0),
            failure_reason=_failure_reason(obj),
            profit_share_payment=_reference(_metadata(obj).get(PROFIT_SHARE_KEY)),
        )
    if kind in (SUBSCRIPTION_UPDATED, SUBSCRIPTION_DELETED):
        return BillingEvent(
            **common,
            reference=_reference(_metadata(obj).get(REFERENCE_KEY)),
            gateway_subscription_id=_id(obj),
            gateway_customer_id=_id(obj.get("customer")),
            status=str(obj.get("status") or ""),
            cancel_at_period_end=obj.get("cancel_at_period_end"),
        )
    return BillingEvent(**common)


def _failure_reason(invoice: dict[str, Any]) -> str:
    """A reason carried on the invoice itself (the dummy gateway puts one there).

    Stripe's invoice does not say why a charge failed; ``StripeGateway`` looks
    the reason up on the invoice's PaymentIntent instead.
    """
    error = invoice.get("last_payment_error") or invoice.get("last_finalization_error") or {}
    return str(error.get("message") or "") if isinstance(error, dict) else ""
