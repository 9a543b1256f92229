"""
The subscription lifecycle: subscribe, cancel, change, expire.

Every status change goes through ``services.subscription_state``, whose
``TRANSITIONS`` table is the state diagram (drawn in
docs/API_DOCUMENTATION.md#subscription-status).

A row grants access when its status is trial, active or cancelled *and* its
end_date is still ahead, so a lapsed row never counts, even before the
``expire_subscriptions`` sweep has run. The database allows one open row per
user and plan type (see ``UserSubscription.Meta.constraints``); ``subscribe``
turns a violation into ``AlreadySubscribed``.

A gateway that bills on its own (Stripe) is told of a change the user makes
here (cancel, renewal off or on) *first*, inside the service's transaction,
as dj-stripe's ``Subscription.cancel()`` does: when it cannot be told
(``GatewayError``, 502) the change rolls back and the user can retry, so the
row never claims a cancellation the gateway does not know of. Changes that
come from the gateway (``services.payments``) do not call it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from django_torgovo_subscriptions.exceptions import (
    AlreadySubscribed,
    FeatureNotIncluded,
    InvalidTransition,
    PairLimitReached,
    PlanUnavailable,
    SubscriptionChanged,
    SubscriptionExpired,
    SubscriptionRequired,
)
from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import (
    PlanType,
    SubscriptionPlan,
    SubscriptionStatus,
    UserSubscription,
)
from django_torgovo_subscriptions.payments import get_gateway
from django_torgovo_subscriptions.services import subscription_state as state
from django_torgovo_subscriptions.services.gateways import gateway_for
from django_torgovo_subscriptions.services.subscription_state import Event


def payment_gateway_configured() -> bool:
    return get_gateway() is not None


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
    free = not payment_gateway_configured() or not plan.monthly_price
    try:
        return state.create(
            user, plan, Event.SUBSCRIBED_FREE if free else Event.SUBSCRIBED, now=now
        )
    except IntegrityError as exc:
        raise AlreadySubscribed(
            f"You already have a {plan.get_plan_type_display()} subscription. "
            "Change or cancel it instead of subscribing again."
        ) from exc


def activate(subscription: UserSubscription, now: datetime | None = None) -> UserSubscription:
    """Turn a pending subscription active after its first confirmed payment."""
    return state.transition(subscription, Event.PAID, now=now)


def renew(subscription: UserSubscription) -> UserSubscription:
    """Extend the subscription by one calendar month from its current end."""
    return state.transition(subscription, Event.RENEWED)


@transaction.atomic
def cancel(subscription: UserSubscription, now: datetime | None = None) -> UserSubscription:
    """
    Cancel: renewal stops at once, access runs on to the paid end_date.

    A subscription that was never paid (pending_payment), or has no paid time
    left (past_due), ends at once and frees the user's slot; its gateway
    subscription is then cancelled outright, so payment retries stop too.
    """
    now = now or timezone.now()
    subscription = _locked(subscription)
    state.check(subscription, Event.CANCELLED)
    _tell_gateway(subscription, auto_renew=False, end_now=not subscription.is_live(now))
    return state.transition(subscription, Event.CANCELLED, now=now)


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
    if subscription.status == SubscriptionStatus.EXPIRED or (
        subscription.status == SubscriptionStatus.CANCELLED and not subscription.is_live(now)
    ):
        raise InvalidTransition("An ended subscription cannot be changed; subscribe again instead.")
    if plan is not None and plan.pk != subscription.plan_id:
        _change_plan(subscription, plan)
    if auto_renew is not None:
        _tell_gateway(subscription, auto_renew=auto_renew)
        if auto_renew and subscription.status == SubscriptionStatus.CANCELLED:
            state.transition(subscription, Event.RESUMED, now=now)
        subscription.auto_renew = auto_renew
    subscription.save(update_fields=["plan", "auto_renew", "updated_at"])
    return subscription


def _tell_gateway(
    subscription: UserSubscription, *, auto_renew: bool, end_now: bool = False
) -> None:
    """
    Tell the gateway billing ``subscription`` that its renewal changes to
    ``auto_renew``, before the change is written: ``end_now`` cancels the
    gateway subscription outright (no paid time left), otherwise its renewal
    at the period's end is switched. Nothing to tell when no gateway
    subscription is linked, or when the renewal does not change and nothing is
    to end (an unpaid invoice is retried by the gateway until its subscription
    is cancelled, whatever the renewal). ``GatewayError`` propagates and rolls
    the caller's transaction back.
    """
    if not subscription.gateway_subscription_id:
        return
    if subscription.auto_renew == auto_renew and not end_now:
        return
    gateway = gateway_for(subscription)
    if gateway is None:
        return
    if end_now:
        gateway.cancel_subscription(subscription.gateway_subscription_id)
    else:
        gateway.set_auto_renew(subscription, auto_renew)


def _change_plan(subscription: UserSubscription, plan: SubscriptionPlan) -> None:
    if not plan.is_active:
        raise PlanUnavailable()
    if plan.plan_type != subscription.plan_type:
        raise InvalidTransition(
            "A plan can only be changed to another plan of the same type.",
            code="plan_type_mismatch",
        )
    if payment_gateway_configured() and subscription.status != SubscriptionStatus.PENDING_PAYMENT:
        raise InvalidTransition(
            "A paid subscription cannot change plan here; cancel it and subscribe to the new plan.",
            code="plan_change_unavailable",
        )
    in_use = get_host_adapter().pairs_in_use(subscription.user, subscription.plan_type)
    if len(in_use) > plan.max_trading_pairs:
        # The pairs in use are the package's webhooks and managed bots, and whatever
        # bots the host counts (PAIRS_IN_USE_FUNCTION): name both ways to free one.
        raise PairLimitReached(
            f"You trade {len(in_use)} pair{'s' if len(in_use) != 1 else ''} and {plan.name} "
            f"allows {plan.max_trading_pairs}. Deactivate some webhooks or stop some bots "
            "first."
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
        try:
            # No lock: a renewal that moved end_date since the read wins.
            state.transition(subscription, Event.PERIOD_ENDED, updated_at=now)
        except SubscriptionChanged:
            continue
        expired += 1
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
