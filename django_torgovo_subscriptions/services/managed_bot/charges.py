"""
Charging managed bots' profit shares through the payment gateway, and what a
paid or failed charge does to the investor.

A settlement that makes a share due leaves a pending profit-share ``Payment``
(``profit.settlement``). From there:

* ``charge_pending()`` hands every pending one the gateway has not seen to
  ``BaseGateway.charge_profit_share``, each under its row lock taken with
  SKIP LOCKED, so concurrent runs (``settle_profit_shares``, ``billing``)
  charge each payment once; ``retry(payment)`` does the same for a failed one.
  The idempotency key is the payment's, so a request repeated after a network
  error makes no second invoice.
* The outcome arrives only as a verified gateway event
  (``services.payments.profit_share_events``), which calls ``apply_paid`` or
  ``apply_failed``: paid moves the amount from ``profit_share_due`` to
  ``profit_share_paid``, unpauses an investor paused for it, and brings a
  past_due subscription back once nothing is left unpaid; failed makes the
  subscription past_due.
* ``pause_unpaid(now)`` (the billing run) pauses the investors whose charge is
  still unpaid PAST_DUE_GRACE_SECONDS after it was made: ``paused_at`` and
  ``pause_reason="profit_share_unpaid"``. The subscription is not expired for
  an unpaid share: the ledger stays open and trading resumes once it is paid.
* ``pause(performance)`` / ``unpause(performance)``: the operator's own pause
  (``pause_reason="operator"``), which only the operator lifts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import (
    ManagedBotPerformance,
    Payment,
    PaymentKind,
    SubscriptionStatus,
    UserSubscription,
)
from django_torgovo_subscriptions.models.payments import PaymentStatus
from django_torgovo_subscriptions.payments import gateway_named
from django_torgovo_subscriptions.services import subscription_state as state
from django_torgovo_subscriptions.services.managed_bot import profit
from django_torgovo_subscriptions.services.subscription_state import Event

logger = logging.getLogger(__name__)

UNPAID = "profit_share_unpaid"
OPERATOR = "operator"
PROFIT_SHARES = Payment.objects.filter(kind=PaymentKind.PROFIT_SHARE)


@dataclass
class ChargeReport:
    """What ``charge_pending`` handed to the gateway, and what it could not."""

    charged: list[Payment] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return sum((payment.amount for payment in self.charged), Decimal("0.00"))

    def describe(self) -> str:
        ids = ", ".join(
            f"#{p.pk} {p.amount} {p.currency} {p.profit_share_month}" for p in self.charged
        )
        return f"profit shares charged: {len(self.charged)} ({ids or 'none'})"


def idempotency_key(payment: Payment) -> str:
    return f"torgovo-profit-share-{payment.pk}"


def charge_pending(report: ChargeReport | None = None) -> ChargeReport:
    """Hand every pending profit share not yet at the gateway to it (idempotent)."""
    report = report or ChargeReport()
    pending = PROFIT_SHARES.filter(status=PaymentStatus.PENDING, gateway_invoice_id="")
    for pk in list(pending.exclude(gateway="").values_list("pk", flat=True)):
        _hand_over(pk, PaymentStatus.PENDING, report)
    return report


def retry(payment: Payment) -> ChargeReport:
    """Charge a failed profit share again (the admin's "retry charge")."""
    report = ChargeReport()
    _hand_over(payment.pk, PaymentStatus.FAILED, report)
    return report


def _hand_over(pk: int, status: str, report: ChargeReport) -> None:
    try:
        with transaction.atomic():
            payment = (
                PROFIT_SHARES.select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(pk=pk, status=status)
                .first()
            )
            if payment is None:
                return  # charged, paid or being charged by someone else
            if status == PaymentStatus.PENDING and payment.gateway_invoice_id:
                return
            gateway = gateway_named(payment.gateway)
            invoice_id = gateway.charge_profit_share(
                payment, idempotency_key=idempotency_key(payment)
            )
            # The gateway's event may have recorded it already (in-process delivery).
            PROFIT_SHARES.filter(pk=pk, gateway_invoice_id="").update(
                gateway_invoice_id=invoice_id, updated_at=timezone.now()
            )
            payment.refresh_from_db()
        report.charged.append(payment)
    except Exception as exc:  # one payment must not stop the others
        logger.exception("Charging profit share payment %s failed", pk)
        report.errors.append(f"profit share payment {pk}: {exc}")


def apply_paid(payment: Payment, subscription: UserSubscription) -> None:
    """A verified paid event for ``payment`` (recorded paid by the caller, once)."""
    performance = payment.managed_bot_performance
    if performance is not None:
        profit.record_profit_share_payment(performance, payment.amount)
        still_unpaid = _unpaid(managed_bot_performance=performance).exists()
        if performance.pause_reason == UNPAID and not still_unpaid:
            _set_pause(performance, None, "")
    if subscription.status == SubscriptionStatus.PAST_DUE and not _owes(subscription):
        state.transition(subscription, Event.PROFIT_SHARE_PAID)


def apply_failed(payment: Payment, subscription: UserSubscription) -> None:
    """A verified failed event for ``payment``: the subscription is past due."""
    if state.allowed(subscription.status, Event.PAYMENT_FAILED):
        state.transition(subscription, Event.PAYMENT_FAILED, payment=payment)


def _unpaid(**filters: Any) -> QuerySet[Payment]:
    return PROFIT_SHARES.filter(status=PaymentStatus.FAILED, **filters)


def _owes(subscription: UserSubscription) -> bool:
    """An unpaid profit share, or a subscription invoice whose latest charge failed."""
    if _unpaid(subscription=subscription).exists():
        return True
    latest = (
        Payment.objects.filter(subscription=subscription, kind=PaymentKind.SUBSCRIPTION)
        .order_by("-created_at", "-pk")
        .values_list("status", flat=True)
        .first()
    )
    return latest == PaymentStatus.FAILED


def pause_unpaid(now: datetime | None = None) -> int:
    """Pause the open investments whose charge is unpaid PAST_DUE_GRACE_SECONDS on."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=subscriptions_settings.PAST_DUE_GRACE_SECONDS)
    overdue = _unpaid(created_at__lte=cutoff).values("managed_bot_performance")
    return ManagedBotPerformance.objects.filter(
        pk__in=overdue, paused_at__isnull=True, closed_at__isnull=True
    ).update(paused_at=now, pause_reason=UNPAID)


def pause(performance: ManagedBotPerformance, now: datetime | None = None) -> None:
    """The operator pauses an investor (lifted only by ``unpause``)."""
    _set_pause(performance, now or timezone.now(), OPERATOR)


def unpause(performance: ManagedBotPerformance) -> None:
    """Lift a pause. An unpaid share pauses the investor again on the next billing run."""
    _set_pause(performance, None, "")


def _set_pause(performance: ManagedBotPerformance, at: datetime | None, reason: str) -> None:
    ManagedBotPerformance.objects.filter(pk=performance.pk).update(
        paused_at=at, pause_reason=reason
    )
    performance.paused_at, performance.pause_reason = at, reason
