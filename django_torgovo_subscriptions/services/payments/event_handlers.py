"""
What each gateway event does to payments and subscriptions.

Every handler runs inside the event's processing transaction (see
``receiver.process_event``), takes the subscription's row lock first
(``_own_subscription``) and is idempotent: an invoice already recorded paid is never
applied again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.models import SubscriptionStatus, UserSubscription
from django_torgovo_subscriptions.models.payments import (
    CheckoutSession,
    CheckoutStatus,
    GatewayCustomer,
    Payment,
    PaymentEventStatus,
    PaymentStatus,
)
from django_torgovo_subscriptions.payments import events as kinds
from django_torgovo_subscriptions.payments.base import BaseGateway
from django_torgovo_subscriptions.payments.events import BillingEvent
from django_torgovo_subscriptions.periods import add_months, next_period_end
from django_torgovo_subscriptions.services import subscription_state as state
from django_torgovo_subscriptions.services import subscriptions as lifecycle
from django_torgovo_subscriptions.services.payments import profit_share_events
from django_torgovo_subscriptions.services.payments.overpayment import overpaid_note
from django_torgovo_subscriptions.services.subscription_state import Event

logger = logging.getLogger(__name__)

# (PaymentEvent status, the subscription concerned, a note for the event row)
HandlerResult = tuple[str, UserSubscription | None, str]
ProfitShareHandler = Callable[[BaseGateway, BillingEvent, UserSubscription], HandlerResult]
SECOND_SUBSCRIPTION_EVENT = "The event is about a second gateway subscription."


def _processed(subscription: UserSubscription, note: str = "") -> HandlerResult:
    return PaymentEventStatus.PROCESSED, subscription, note


def _ignored(note: str, subscription: UserSubscription | None = None) -> HandlerResult:
    return PaymentEventStatus.IGNORED, subscription, note


def dispatch(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    handler = {
        kinds.CHECKOUT_COMPLETED: _on_checkout_completed,
        kinds.CHECKOUT_EXPIRED: _on_checkout_expired,
        kinds.INVOICE_PAID: _on_invoice_paid,
        kinds.INVOICE_PAYMENT_FAILED: _on_invoice_payment_failed,
        kinds.INVOICE_PENDING: _on_invoice_pending,
        kinds.SUBSCRIPTION_UPDATED: _on_subscription_updated,
        kinds.SUBSCRIPTION_DELETED: _on_subscription_deleted,
    }.get(event.kind)
    if handler is None:
        return _ignored(f"Events of type {event.type!r} are stored but not acted on.")
    return handler(gateway, event)


def _resolve(gateway: BaseGateway, event: BillingEvent) -> tuple[UserSubscription | None, str]:
    """The event's subscription, locked, or None and why."""
    rows = UserSubscription.objects.select_for_update()
    subscription = None
    if event.reference is not None:
        subscription = rows.filter(pk=event.reference).first()
    elif event.gateway_subscription_id:
        subscription = rows.filter(
            payment_method=gateway.name, gateway_subscription_id=event.gateway_subscription_id
        ).first()
    if subscription is None:
        # Not one of ours: the gateway account may serve other products too.
        return None, "The event names no subscription of this server."
    if event.gateway_customer_id:
        owner = (
            GatewayCustomer.objects.filter(
                gateway=gateway.name, customer_id=event.gateway_customer_id
            )
            .values_list("user_id", flat=True)
            .first()
        )
        if owner is not None and owner != subscription.user_id:
            logger.error(
                "%s event %s: customer %s is not the owner of subscription %s",
                gateway.name,
                event.id,
                event.gateway_customer_id,
                subscription.pk,
            )
            return None, (
                f"Customer {event.gateway_customer_id} belongs to another user than "
                f"subscription {subscription.pk}; nothing was changed."
            )
    return subscription, ""


def _own_subscription(
    gateway: BaseGateway,
    event: BillingEvent,
    *,
    second_note: str | None = None,
    profit_share: ProfitShareHandler | None = None,
) -> tuple[UserSubscription, None] | tuple[None, HandlerResult]:
    """
    ``(subscription, None)``: the event's subscription, locked, for the handler
    to act on; or ``(None, result)`` when the event is settled here: ignored
    when it names none of ours; ``profit_share``'s result for a profit share
    invoice; for another gateway subscription than the row's, ignored with
    ``second_note``, or without one (a paid checkout or invoice) that second
    subscription cancelled (``_second_gateway_subscription``).
    """
    subscription, note = _resolve(gateway, event)
    if subscription is None:
        return None, _ignored(note)
    if profit_share is not None and event.profit_share_payment is not None:
        return None, profit_share(gateway, event, subscription)
    if _is_other_gateway_subscription(subscription, event):
        if second_note is not None:
            return None, _ignored(second_note, subscription)
        return None, _second_gateway_subscription(gateway, subscription, event)
    return subscription, None


def _is_other_gateway_subscription(subscription: UserSubscription, event: BillingEvent) -> bool:
    return bool(
        subscription.gateway_subscription_id
        and event.gateway_subscription_id
        and subscription.gateway_subscription_id != event.gateway_subscription_id
    )


def _link(gateway: BaseGateway, subscription: UserSubscription, event: BillingEvent) -> None:
    """Remember the gateway's subscription and customer ids on our rows."""
    changed = []
    if event.gateway_subscription_id and not subscription.gateway_subscription_id:
        subscription.gateway_subscription_id = event.gateway_subscription_id
        changed.append("gateway_subscription_id")
    if subscription.payment_method != gateway.name:
        subscription.payment_method = gateway.name
        changed.append("payment_method")
    if changed:
        subscription.save(update_fields=[*changed, "updated_at"])
    if event.gateway_customer_id:
        try:
            with transaction.atomic():
                GatewayCustomer.objects.get_or_create(
                    user_id=subscription.user_id,
                    gateway=gateway.name,
                    defaults={"customer_id": event.gateway_customer_id},
                )
        except IntegrityError:
            pass  # the customer id is stored for this user already (or _resolve refused it)


# --- handlers ------------------------------------------------------------------------


def _on_checkout_completed(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    CheckoutSession.objects.filter(
        gateway=gateway.name, session_id=event.checkout_session_id
    ).update(status=CheckoutStatus.COMPLETE)
    subscription, settled = _own_subscription(gateway, event)
    if subscription is None:
        return settled
    _link(gateway, subscription, event)
    if event.payment_status == "paid" and event.invoice_id:
        payment = _record_paid(gateway, subscription, event)
        return _processed(subscription, payment.note)
    # unpaid (delayed payment methods) or no_payment_required: invoice.paid decides.
    return _processed(subscription)


def _on_checkout_expired(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    updated = CheckoutSession.objects.filter(
        gateway=gateway.name, session_id=event.checkout_session_id, status=CheckoutStatus.OPEN
    ).update(status=CheckoutStatus.EXPIRED)
    return (PaymentEventStatus.PROCESSED if updated else PaymentEventStatus.IGNORED), None, ""


def _on_invoice_paid(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    subscription, settled = _own_subscription(
        gateway, event, profit_share=profit_share_events.on_paid
    )
    if subscription is None:
        return settled
    _link(gateway, subscription, event)
    payment = _record_paid(gateway, subscription, event)
    return _processed(subscription, payment.note)


def _on_invoice_payment_failed(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    subscription, settled = _own_subscription(
        gateway,
        event,
        second_note="The invoice belongs to a second gateway subscription, which was cancelled.",
        profit_share=profit_share_events.on_failed,
    )
    if subscription is None:
        return settled
    _link(gateway, subscription, event)
    payment = Payment.objects.filter(
        gateway=gateway.name, gateway_invoice_id=event.invoice_id
    ).first()
    if payment is not None and payment.status == PaymentStatus.PAID:
        # A failed attempt reported after a later successful one: keep "paid".
        return _processed(subscription, "The invoice is paid already; the failure is history.")
    if (
        payment is not None
        and payment.status == PaymentStatus.FAILED
        and event.attempt_count <= payment.attempt_count
    ):
        # This attempt's failure is recorded (BTCPay: also an invoice we withdrew,
        # reported back as invalid): never a second past_due or payment_failed.
        return _processed(subscription, "The invoice's failure is recorded already.")
    now = timezone.now()
    payment = payment or Payment(gateway=gateway.name, gateway_invoice_id=event.invoice_id)
    _fill(payment, subscription, event)
    payment.status = PaymentStatus.FAILED
    payment.failure_reason = gateway.describe_failure(event) or "The payment was declined."
    payment.attempt_count = max(payment.attempt_count, event.attempt_count, 1)
    payment.failed_at = now
    payment.save()
    _mark_past_due(subscription, payment)
    signals.payment_failed.send(sender=Payment, payment=payment, subscription=subscription)
    return _processed(subscription)


def _on_invoice_pending(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    """
    Money seen but not final (BTCPay: unconfirmed, or short of the price):
    record what was received on the invoice's pending payment; no status
    changes. An invoice already paid or failed keeps its outcome.
    """
    subscription, note = _resolve(gateway, event)
    if subscription is None:
        return _ignored(note)
    if event.profit_share_payment is not None:
        return profit_share_events.on_pending(gateway, event, subscription)
    payment = Payment.objects.filter(
        gateway=gateway.name, gateway_invoice_id=event.invoice_id
    ).first()
    if payment is not None and payment.status != PaymentStatus.PENDING:
        return _processed(subscription, f"The invoice is {payment.status} already.")
    payment = payment or Payment(gateway=gateway.name, gateway_invoice_id=event.invoice_id)
    _fill(payment, subscription, event)
    payment.save()
    return _processed(subscription, _received_note(payment, event))


def _received_note(payment: Payment, event: BillingEvent) -> str:
    received = payment.amount_received or Decimal("0")
    missing = max(payment.amount - received, Decimal("0"))
    text = f"Received {received} of {payment.amount} {payment.currency}; {missing} missing."
    return f"{text} {event.detail}".strip()


def _on_subscription_updated(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    subscription, settled = _own_subscription(gateway, event, second_note=SECOND_SUBSCRIPTION_EVENT)
    if subscription is None:
        return settled
    last_change = subscription.updated_at
    _link(gateway, subscription, event)
    if event.status in ("canceled", "incomplete_expired"):
        return _end(subscription)
    if event.status in ("past_due", "unpaid"):
        _mark_past_due(subscription, payment=None)
    if event.cancel_at_period_end is None:
        return _processed(subscription)
    if event.created and event.created < last_change.replace(microsecond=0):
        # Stripe's echo of a change made here (we tell Stripe before saving),
        # or a snapshot overtaken by a later change: the row is newer.
        return _processed(subscription, "Renewal flag not applied: the subscription changed since.")
    _apply_gateway_renewal(subscription, renew=not event.cancel_at_period_end)
    return _processed(subscription)


def _mark_past_due(subscription: UserSubscription, payment: Payment | None) -> None:
    """A failed payment makes an active or trial subscription past due (billing.run
    expires it after PAST_DUE_GRACE_SECONDS unless it is paid)."""
    if state.allowed(subscription.status, Event.PAYMENT_FAILED):
        state.transition(subscription, Event.PAYMENT_FAILED, payment=payment)


def _apply_gateway_renewal(subscription: UserSubscription, *, renew: bool) -> None:
    """Renewal switched at the gateway (Stripe's portal, dashboard)."""
    now = timezone.now()
    running = (SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL)
    if not renew and subscription.status in running and subscription.is_live(now):
        state.transition(subscription, Event.CANCELLED, now=now)
    elif (
        renew and subscription.status == SubscriptionStatus.CANCELLED and subscription.is_live(now)
    ):
        state.transition(subscription, Event.RESUMED, now=now)
    elif subscription.auto_renew != renew and subscription.status in (
        *running,
        SubscriptionStatus.PAST_DUE,
    ):
        subscription.auto_renew = renew
        subscription.save(update_fields=["auto_renew", "updated_at"])


def _on_subscription_deleted(gateway: BaseGateway, event: BillingEvent) -> HandlerResult:
    subscription, settled = _own_subscription(gateway, event, second_note=SECOND_SUBSCRIPTION_EVENT)
    if subscription is None:
        return settled
    return _end(subscription)


def _end(subscription: UserSubscription) -> HandlerResult:
    """The gateway subscription ended: keep paid time, stop renewal."""
    now = timezone.now()
    status = subscription.status
    if status == SubscriptionStatus.EXPIRED or (
        status == SubscriptionStatus.CANCELLED and not subscription.is_live(now)
    ):
        return _processed(subscription, "The subscription had ended already.")
    if status == SubscriptionStatus.PENDING_PAYMENT:
        # Never paid: ends at once and frees the slot.
        state.transition(subscription, Event.CANCELLED, now=now)
    elif subscription.is_live(now):
        if status != SubscriptionStatus.CANCELLED:
            state.transition(subscription, Event.CANCELLED, now=now)
    else:
        state.transition(subscription, Event.GATEWAY_ENDED, now=now)
    return _processed(subscription)


# --- payments and periods ------------------------------------------------------------


def _fill(payment: Payment, subscription: UserSubscription, event: BillingEvent) -> None:
    payment.user_id = subscription.user_id
    payment.subscription = subscription
    if event.amount is not None:
        payment.amount = event.amount
    elif payment._state.adding:
        logger.warning("Event %s carries no amount; recording the plan price.", event.id)
        payment.amount = subscription.plan.monthly_price
    payment.currency = event.currency or payment.currency or subscription.plan.currency
    payment.billing_reason = event.billing_reason or payment.billing_reason
    payment.gateway_subscription_id = (
        event.gateway_subscription_id or payment.gateway_subscription_id
    )
    payment.gateway_customer_id = event.gateway_customer_id or payment.gateway_customer_id
    payment.checkout_session_id = event.checkout_session_id or payment.checkout_session_id
    if event.amount_received is not None:
        payment.amount_received = event.amount_received
    payment.payment_url = event.payment_url or payment.payment_url


def _record_paid(
    gateway: BaseGateway, subscription: UserSubscription, event: BillingEvent
) -> Payment:
    """Record the invoice as paid and extend the subscription, once per invoice."""
    payment = Payment.objects.filter(
        gateway=gateway.name, gateway_invoice_id=event.invoice_id
    ).first()
    if payment is not None and payment.status == PaymentStatus.PAID:
        _fill(payment, subscription, event)  # a later event may carry ids the first lacked
        payment.save()
        return payment
    now = timezone.now()
    paid_at = min(event.paid_at or now, now)
    period_start, period_end, note = _extend(subscription, event, paid_at)
    payment = payment or Payment(gateway=gateway.name, gateway_invoice_id=event.invoice_id)
    _fill(payment, subscription, event)
    payment.status = PaymentStatus.PAID
    payment.period_start, payment.period_end = period_start, period_end
    payment.paid_at = paid_at
    payment.failure_reason = ""
    payment.note = " ".join(filter(None, [note, overpaid_note(payment)]))
    payment.attempt_count = max(payment.attempt_count, event.attempt_count, 1)
    payment.save()
    signals.payment_confirmed.send(sender=Payment, payment=payment, subscription=subscription)
    return payment


def _extend(
    subscription: UserSubscription, event: BillingEvent, paid_at: datetime
) -> tuple[datetime | None, datetime | None, str]:
    """Apply one paid month; returns the period it covers, or a note why it could not."""
    status = subscription.status
    if status == SubscriptionStatus.PENDING_PAYMENT:
        lifecycle.activate(subscription, now=paid_at)
        return subscription.start_date, subscription.end_date, ""
    has_period = subscription.end_date is not None and subscription.start_date is not None
    if has_period and state.allowed(status, Event.RENEWED):
        start = subscription.end_date
        lifecycle.renew(subscription)
        return start, subscription.end_date, ""
    return _revive(subscription, event, paid_at)


def _revive(
    subscription: UserSubscription, event: BillingEvent, paid_at: datetime
) -> tuple[datetime | None, datetime | None, str]:
    """
    A payment for a subscription that has ended (expired, or cancelled before
    it was paid): a renewal continues its calendar; a first payment starts a
    new period. Impossible when the user holds another open subscription of
    the type: the payment is then recorded with a note for a person to refund.
    """
    previous = subscription.status
    if (
        event.billing_reason == "subscription_cycle"
        and subscription.end_date
        and subscription.start_date
    ):
        start, end, anchor = (
            subscription.end_date,
            next_period_end(subscription.start_date, subscription.end_date),
            subscription.start_date,
        )
    else:
        start, end, anchor = paid_at, add_months(paid_at, 1), paid_at
    try:
        with transaction.atomic():
            state.transition(subscription, Event.REVIVED, start_date=anchor, end_date=end)
    except IntegrityError:
        note = (
            f"Paid while subscription {subscription.pk} was {previous} and the user holds another "
            f"open {subscription.plan_type} subscription: refund or credit this payment."
        )
        logger.error("%s", note)
        return None, None, note
    return start, end, ""


def _second_gateway_subscription(
    gateway: BaseGateway, subscription: UserSubscription, event: BillingEvent
) -> HandlerResult:
    """
    The user completed a second checkout for a subscription already linked to
    another gateway subscription. Stop the second one at once so it never
    charges again, and record its payment for a refund.
    """
    known = Payment.objects.filter(
        gateway=gateway.name, gateway_invoice_id=event.invoice_id
    ).first()
    if event.invoice_id and known is not None:
        return _processed(subscription, known.note)  # handled when first reported
    gateway.cancel_subscription(event.gateway_subscription_id)
    note = (
        f"Second gateway subscription {event.gateway_subscription_id} for subscription "
        f"{subscription.pk} (linked to {subscription.gateway_subscription_id}); it was cancelled: "
        "refund this payment."
    )
    if event.invoice_id and (event.kind == kinds.INVOICE_PAID or event.payment_status == "paid"):
        Payment.objects.get_or_create(
            gateway=gateway.name,
            gateway_invoice_id=event.invoice_id,
            defaults={
                "user_id": subscription.user_id,
                "subscription": subscription,
                "status": PaymentStatus.PAID,
                "amount": event.amount or Decimal("0"),
                "currency": event.currency or subscription.plan.currency,
                "billing_reason": event.billing_reason,
                "paid_at": timezone.now(),
                "gateway_subscription_id": event.gateway_subscription_id,
                "gateway_customer_id": event.gateway_customer_id,
                "note": note,
            },
        )
    logger.error("%s", note)
    return _processed(subscription, note)
