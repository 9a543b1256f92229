"""
The billing run (``manage.py billing``): everything time moves on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import SubscriptionChanged
from django_torgovo_subscriptions.models import SubscriptionStatus, UserSubscription
from django_torgovo_subscriptions.models.payments import (
    Payment,
    PaymentEvent,
    PaymentEventStatus,
    PaymentKind,
    PaymentStatus,
)
from django_torgovo_subscriptions.models.subscriptions import UNPRICED_MANAGED
from django_torgovo_subscriptions.payments import get_gateways
from django_torgovo_subscriptions.payments.base import BaseGateway
from django_torgovo_subscriptions.services import subscription_state as state
from django_torgovo_subscriptions.services import subscriptions as lifecycle
from django_torgovo_subscriptions.services.gateways import gateway_for
from django_torgovo_subscriptions.services.managed_bot import charges
from django_torgovo_subscriptions.services.managed_bot.charges import ChargeReport
from django_torgovo_subscriptions.services.subscription_state import Event

logger = logging.getLogger(__name__)


@dataclass
class BillingReport:
    renewals_charged: int = 0
    renewed_without_payment: int = 0
    profit_shares: ChargeReport = field(default_factory=ChargeReport)
    investors_paused: int = 0
    past_due_expired: int = 0
    expired: int = 0
    rejected_pruned: int = 0
    errors: list[str] = field(default_factory=list)


def run_billing(now: datetime | None = None) -> BillingReport:
    """
    Everything time moves on: charge renewals due at gateways without recurring
    billing (each gateway only the subscriptions that pay through it), renew
    managed plans with no monthly price, hand pending profit shares to the
    user's gateway, pause investors whose share is unpaid after the grace
    period, expire past_due subscriptions after it, expire lapsed ones,
    prune old rejected deliveries. Idempotent; safe to run every minute and
    concurrently (renewal events have deterministic ids, updates are conditional).
    """
    now = now or timezone.now()
    report = BillingReport()
    for gateway in get_gateways():
        if not gateway.native_recurring:
            charge_due_renewals(gateway, now, report)
    renew_unpriced_managed(now, report)
    charges.charge_pending(report.profit_shares)
    report.errors += report.profit_shares.errors
    report.investors_paused = charges.pause_unpaid(now)
    expire_past_due(now, report)
    report.expired = lifecycle.expire_lapsed(now=now)
    report.rejected_pruned = prune_rejected_events(now)
    return report


def _seconds(name: str) -> timedelta:
    return timedelta(seconds=getattr(subscriptions_settings, name))


def charge_due_renewals(gateway: BaseGateway, now: datetime, report: BillingReport) -> None:
    """
    Ask ``gateway`` to charge the next period of the subscriptions that pay
    through it; a gateway that ``renews_past_due`` also the past_due ones still
    in their grace period (their renewal invoice expired unpaid: the gateway
    opens a fresh one, or finds the open one).
    """
    window = Q(
        status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL],
        end_date__lte=now + _seconds("RENEWAL_LEAD_SECONDS"),
        end_date__gt=now - _seconds("RENEWAL_GRACE_SECONDS"),
    )
    if gateway.renews_past_due:
        window |= Q(
            status=SubscriptionStatus.PAST_DUE,
            end_date__gt=now - _seconds("PAST_DUE_GRACE_SECONDS"),
        )
    due = (
        UserSubscription.objects.filter(window, payment_method=gateway.name, auto_renew=True)
        .exclude(gateway_subscription_id="")
        .select_related("plan", "user")
    )
    for subscription in due.iterator():
        try:
            gateway.charge_renewal(subscription, now)
            report.renewals_charged += 1
        except Exception as exc:  # one bad row must not stop the run
            logger.exception("Renewal of subscription %s failed", subscription.pk)
            report.errors.append(f"subscription {subscription.pk}: {exc}")


def renew_unpriced_managed(now: datetime, report: BillingReport) -> None:
    """
    Renew the live managed-bot subscriptions whose plan has no monthly price
    (profit share only) at their period's end, without a payment, as many
    periods as have passed. A cancelled one (the investor withdrew) is not
    renewed; a past_due one (an unpaid profit share) waits until it is paid.
    """
    due = UserSubscription.objects.filter(
        UNPRICED_MANAGED,
        status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.TRIAL],
        auto_renew=True,
        end_date__lte=now,
    ).select_related("plan")
    for subscription in due.iterator():
        try:
            while subscription.end_date <= now:
                state.transition(subscription, Event.RENEWED, now=now)
                report.renewed_without_payment += 1
        except SubscriptionChanged:
            continue  # another run renewed it first
        except Exception as exc:
            logger.exception("Renewal of subscription %s failed", subscription.pk)
            report.errors.append(f"subscription {subscription.pk}: {exc}")


def expire_past_due(now: datetime, report: BillingReport) -> None:
    """
    Expire the past_due rows still unpaid PAST_DUE_GRACE_SECONDS after their
    end, one transaction each: cancel at the subscription's own gateway
    (``GatewayNotConfigured`` when it is gone: reported, retried), expire, send
    ``subscription_expired``. A failure (the gateway, a receiver of the
    signal) rolls that row back; it is reported and retried on the next run.
    A row that owes a managed bot's profit share is not expired: its
    investors are paused instead (``charges.pause_unpaid``) and the ledger
    stays open until the share is paid.
    """
    cutoff = now - _seconds("PAST_DUE_GRACE_SECONDS")
    unpaid_shares = Payment.objects.filter(
        kind=PaymentKind.PROFIT_SHARE, status=PaymentStatus.FAILED, subscription__isnull=False
    )
    candidates = (
        UserSubscription.objects.filter(status=SubscriptionStatus.PAST_DUE)
        .filter(Q(end_date__lte=cutoff) | Q(end_date__isnull=True, updated_at__lte=cutoff))
        .exclude(pk__in=unpaid_shares.values("subscription_id"))
        .values_list("pk", flat=True)
    )
    for pk in list(candidates):
        try:
            with transaction.atomic():
                subscription = UserSubscription.objects.select_for_update().get(pk=pk)
                if subscription.status != SubscriptionStatus.PAST_DUE:
                    continue  # paid meanwhile
                # Stop the gateway's retries first: once expired here, a late
                # successful retry would charge for a subscription we ended.
                if subscription.gateway_subscription_id:
                    gateway = gateway_for(subscription)
                    if gateway is not None:
                        gateway.cancel_subscription(subscription.gateway_subscription_id)
                state.transition(subscription, Event.GRACE_ENDED, now=now)
            report.past_due_expired += 1
        except Exception as exc:
            logger.exception("Expiring past_due subscription %s failed", pk)
            report.errors.append(f"subscription {pk}: {exc}")


def prune_rejected_events(now: datetime) -> int:
    retention = subscriptions_settings.REJECTED_PAYMENT_EVENT_RETENTION_SECONDS
    if retention is None:
        return 0
    deleted, _ = PaymentEvent.objects.filter(
        status=PaymentEventStatus.REJECTED, received_at__lt=now - timedelta(seconds=retention)
    ).delete()
    return deleted
