"""
What a gateway's invoice event does when its invoice charges a managed bot's
profit share (its metadata names our profit-share ``Payment``).

The only place ``profit_share_paid`` moves: a verified ``invoice.paid`` marks
the payment paid, once however often it is delivered, and hands it to
``services.managed_bot.charges.apply_paid``; ``invoice.payment_failed`` marks
it failed (unless it was paid already) and makes the subscription past_due.
An event naming a payment of another gateway, user or subscription changes
nothing.
"""

from __future__ import annotations

import logging

from django.utils import timezone

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.models import Payment, PaymentKind, UserSubscription
from django_torgovo_subscriptions.models.payments import PaymentEventStatus, PaymentStatus
from django_torgovo_subscriptions.payments.base import BaseGateway
from django_torgovo_subscriptions.payments.events import BillingEvent
from django_torgovo_subscriptions.services.managed_bot import charges
from django_torgovo_subscriptions.services.payments.overpayment import overpaid_note

logger = logging.getLogger(__name__)

HandlerResult = tuple[str, UserSubscription | None, str]


def _payment(
    gateway: BaseGateway, event: BillingEvent, subscription: UserSubscription
) -> Payment | None:
    payment = (
        Payment.objects.select_for_update(of=("self",))
        .select_related("managed_bot_performance")
        .filter(pk=event.profit_share_payment, kind=PaymentKind.PROFIT_SHARE, gateway=gateway.name)
        .first()
    )
    if payment is None or payment.subscription_id != subscription.pk:
        return None
    if payment.gateway_invoice_id and payment.gateway_invoice_id != event.invoice_id:
        return None
    payment.gateway_invoice_id = event.invoice_id
    payment.gateway_customer_id = event.gateway_customer_id or payment.gateway_customer_id
    payment.attempt_count = max(payment.attempt_count, event.attempt_count, 1)
    return payment


def on_paid(
    gateway: BaseGateway, event: BillingEvent, subscription: UserSubscription
) -> HandlerResult:
    payment = _payment(gateway, event, subscription)
    if payment is None:
        return PaymentEventStatus.IGNORED, subscription, _UNKNOWN
    if payment.status == PaymentStatus.PAID:
        return PaymentEventStatus.PROCESSED, subscription, "The profit share is paid already."
    note = ""
    if event.amount is not None and event.amount != payment.amount:
        note = f"The gateway reports {event.amount} paid for a share of {payment.amount}."
        logger.error("Profit share payment %s: %s", payment.pk, note)
    if event.amount_received is not None:
        payment.amount_received = event.amount_received
        note = " ".join(filter(None, [note, overpaid_note(payment)]))
    now = timezone.now()
    payment.status = PaymentStatus.PAID
    payment.paid_at = min(event.paid_at or now, now)
    payment.failure_reason = ""
    payment.note = note
    payment.save()
    charges.apply_paid(payment, subscription)
    signals.payment_confirmed.send(sender=Payment, payment=payment, subscription=subscription)
    return PaymentEventStatus.PROCESSED, subscription, note


def on_pending(
    gateway: BaseGateway, event: BillingEvent, subscription: UserSubscription
) -> HandlerResult:
    """Money seen for the share but not final: record how much, change nothing else."""
    payment = _payment(gateway, event, subscription)
    if payment is None:
        return PaymentEventStatus.IGNORED, subscription, _UNKNOWN
    if payment.status == PaymentStatus.PENDING and event.amount_received is not None:
        payment.amount_received = event.amount_received
    payment.save()
    return PaymentEventStatus.PROCESSED, subscription, ""


def on_failed(
    gateway: BaseGateway, event: BillingEvent, subscription: UserSubscription
) -> HandlerResult:
    payment = _payment(gateway, event, subscription)
    if payment is None:
        return PaymentEventStatus.IGNORED, subscription, _UNKNOWN
    if payment.status == PaymentStatus.PAID:
        note = "The profit share is paid already; the failure is history."
        return PaymentEventStatus.PROCESSED, subscription, note
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = gateway.describe_failure(event) or "The payment was declined."
    payment.failed_at = timezone.now()
    payment.save()
    charges.apply_failed(payment, subscription)
    signals.payment_failed.send(sender=Payment, payment=payment, subscription=subscription)
    return PaymentEventStatus.PROCESSED, subscription, ""


_UNKNOWN = "The invoice names a profit share payment this server does not know for it."
