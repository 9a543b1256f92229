"""
The subscription lifecycle.

    pending_payment --paid--> active --period ends--> expired
          |                   |  ^ \\--payment fails--> past_due
          |            cancel |  | resume (auto_renew=true, before end_date)
          v                   v  |
      cancelled (no access)   cancelled (access until end_date) --> expired

A row grants access when its status is trial, active or cancelled *and* its
end_date is still ahead, so a lapsed row never counts, even before the
``expire_subscriptions`` sweep has run. The database allows one open row per
user and plan type (see ``UserSubscription.Meta.constraints``); ``subscribe``
turns a violation into ``AlreadySubscribed``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_torgovo_subscriptions import signals
from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import (
    AlreadySubscribed,
    FeatureNotIncluded,
    InvalidTransition,
    PairLimitReached,
    PlanUnavailable,
    SubscriptionExpired,
    SubscriptionRequired,
)
from django_torgovo_subscriptions.models import (
    PlanType,
    SubscriptionPlan,
    SubscriptionStatus,
    UserSubscription,
)
from django_torgovo_subscriptions.periods import add_months, next_period_end
from django_torgovo_subscriptions.services.quota import pairs_in_use

Status = SubscriptionStatus


def payment_gateway_configured() -> bool:
    return subscriptions_settings.PAYMENT_GATEWAY_CLASS is not None


def subscribe(user: Any, plan: SubscriptionPlan, now: datetime | None = None) -> UserSubscription:
    """
    Create the user's subscription to ``plan``.

    With a payment gateway configured the row waits in ``pending_payment``
    until a verified payment activates it; without one, or for a plan with
    nothing to pay monthly (a managed bot that only takes a profit share), it
    is active at once for one calendar month.
    """
    now = now or timezone.now()
    if not plan.is_active:
        raise PlanUnavailable()
    expire_lapsed(now=now, user=user)
    subscription = UserSubscription(user=user, plan=plan, status=Status.PENDING_PAYMENT)
    if not payment_gateway_configured() or not plan.monthly_price:
        start_period(subscription, now)
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError as exc:
        raise AlreadySubscribed(
            f"You already have a {plan.get_plan_type_display()} subscription. "
            "Change or cancel it instead of subscribing again."
        ) from exc
    if subscription.status == Status.ACTIVE:
        signals.subscription_activated.send(sender=UserSubscription, subscription=subscription)
    return subscription


def start_period(subscription: UserSubscription, now: datetime) -> None:
    """Make ``subscription`` active for one month from ``now`` (not saved)."""
    subscription.status = Status.ACTIVE
    subscription.start_date = now
    subscription.end_date = add_months(now, 1)


def activate(subscription: UserSubscription, now: datetime | None = None) -> UserSubscription:
    """Turn a pending subscription active after its first confirmed payment."""
    if subscription.status != Status.PENDING_PAYMENT:
        raise InvalidTransition(
            f"Only a pending subscription can be activated, not {subscription.status}."
        )
    start_period(subscription, now or timezone.now())
    subscription.save(update_fields=["status", "start_date", "end_date", "updated_at"])
    signals.subscription_activated.send(sender=UserSubscription, subscription=subscription)
    return subscription


def renew(subscription: UserSubscription) -> UserSubscription:
    """Extend the subscription by one calendar month from its current end."""
    subscription.end_date = next_period_end(subscription.start_date, subscription.end_date)
    subscription.status = Status.ACTIVE
    subscription.save(update_fields=["status", "end_date", "updated_at"])
    signals.subscription_renewed.send(sender=UserSubscription, subscription=subscription)
    return subscription


@transaction.atomic
def cancel(subscription: UserSubscription, now: datetime | None = None) -> UserSubscription:
    """
    Cancel: renewal stops at once, access runs on to the paid end_date.

    A subscription that was never paid (pending_payment) has no period, so it
    ends at once and frees the user's slot.
    """
    now = now or timezone.now()
    subscription = _locked(subscription)
    if subscription.status in (Status.CANCELLED, Status.EXPIRED):
        raise InvalidTransition(f"The subscription is already {subscription.status}.")
    if subscription.status == Status.PENDING_PAYMENT or not subscription.is_live(now):
        subscription.end_date = None
    subscription.status = Status.CANCELLED
    subscription.cancelled_at = now
    subscription.auto_renew = False
    subscription.save(
        update_fields=["status", "cancelled_at", "auto_renew", "end_date", "updated_at"]
    )
    signals.subscription_cancelled.send(sender=UserSubscription, subscription=subscription)
    return subscription


@transaction.atomic
def update(
    subscription: UserSubscription,
    *,
    auto_renew: bool | None = None,
    plan: SubscriptionPlan | None = None,
    now: datetime | None = None,
) -> UserSubscription:
    """
    Change renewal or plan.

    ``auto_renew=True`` on a cancelled subscription still in its period
    resumes it. A plan change keeps the plan type and the period; with a
    payment gateway it is only possible before the first payment, since the
    gateway would otherwise charge the old price.
    """
    now = now or timezone.now()
    subscription = _locked(subscription)
    if subscription.status == Status.EXPIRED or (
        subscription.status == Status.CANCELLED and not subscription.is_live(now)
    ):
        raise InvalidTransition("An ended subscription cannot be changed; subscribe again instead.")
    if plan is not None and plan.pk != subscription.plan_id:
        _change_plan(subscription, plan)
    if auto_renew is not None:
        subscription.auto_renew = auto_renew
        if auto_renew and subscription.status == Status.CANCELLED:
            subscription.status = Status.ACTIVE
            subscription.cancelled_at = None
    subscription.save()
    return subscription


def _change_plan(subscription: UserSubscription, plan: SubscriptionPlan) -> None:
    if not plan.is_active:
        raise PlanUnavailable()
    if plan.plan_type != subscription.plan_type:
        raise InvalidTransition(
            "A plan can only be changed to another plan of the same type.",
            code="plan_type_mismatch",
        )
    if payment_gateway_configured() and subscription.status != Status.PENDING_PAYMENT:
        raise InvalidTransition(
            "A paid subscription cannot change plan here; cancel it and subscribe to the new plan.",
            code="plan_change_unavailable",
        )
    in_use = pairs_in_use(subscription.user, subscription.plan_type)
    if len(in_use) > plan.max_trading_pairs:
        raise PairLimitReached(
            f"You trade {len(in_use)} pairs and {plan.name} allows {plan.max_trading_pairs}. "
            "Deactivate some webhooks first."
        )
    subscription.plan = plan


def _locked(subscription: UserSubscription) -> UserSubscription:
    return (
        UserSubscription.objects.select_for_update().select_related("plan").get(pk=subscription.pk)
    )


def expire_lapsed(now: datetime | None = None, user: Any = None) -> int:
    """Move rows whose period has ended to ``expired``. Idempotent; returns the count."""
    now = now or timezone.now()
    lapsed = UserSubscription.objects.lapsed(now)
    if user is not None:
        lapsed = lapsed.filter(user=user)
    expired = 0
    for subscription in lapsed.select_related("plan").iterator():
        changed = UserSubscription.objects.filter(
            pk=subscription.pk, status=subscription.status, end_date__lte=now
        ).update(status=Status.EXPIRED, auto_renew=False, updated_at=now)
        if changed:
            expired += 1
            subscription.status = Status.EXPIRED
            signals.subscription_expired.send(sender=UserSubscription, subscription=subscription)
    return expired


def live_subscriptions(
    user: Any, now: datetime | None = None
) -> dict[str, UserSubscription | None]:
    """The access-granting subscription per plan type (None where there is none)."""
    live = {plan_type.value: None for plan_type in PlanType}
    for subscription in UserSubscription.objects.live(now).filter(user=user).select_related("plan"):
        live[subscription.plan_type] = subscription
    return live


def require_access(
    user: Any, plan_type: str | None = None, feature: str | None = None, now: datetime | None = None
) -> UserSubscription:
    """
    The user's live subscription (of ``plan_type``, including ``feature``).

    Raises ``SubscriptionExpired`` when the user had one that has ended,
    ``SubscriptionRequired`` when they never had one, and
    ``FeatureNotIncluded`` when theirs lacks the feature.
    """
    now = now or timezone.now()
    rows = UserSubscription.objects.filter(user=user).select_related("plan")
    if plan_type:
        rows = rows.filter(plan_type=plan_type)
    live = [s for s in rows.live(now)]
    if not live:
        if rows.exclude(start_date=None).exists():
            raise SubscriptionExpired()
        raise SubscriptionRequired(_required_message(plan_type))
    if feature:
        for subscription in live:
            if feature in (subscription.plan.features or []):
                return subscription
        raise FeatureNotIncluded(
            f"Your plan does not include '{feature}'. Upgrade to a plan that does."
        )
    return live[0]


def _required_message(plan_type: str | None) -> str:
    if plan_type:
        label = PlanType(plan_type).label if plan_type in PlanType.values else plan_type
        return f"This needs an active {label} subscription. Subscribe to a plan to continue."
    return SubscriptionRequired.default_detail
