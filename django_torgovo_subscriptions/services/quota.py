"""
Trading-pair quotas and the guard that runs before a bot is created.

A plan's ``max_trading_pairs`` caps how many distinct PairConfigs a user trades
under it. By default the package counts what it knows: PairConfigs with an
active custom-bot webhook, and managed bots the user is invested in. A host
that runs other bots counts its own with ``PAIRS_IN_USE_FUNCTION`` or its host
adapter's ``pairs_in_use()``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.exceptions import PairLimitReached
from django_torgovo_subscriptions.host import DefaultHostAdapter, get_host_adapter
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    ManagedBotPerformance,
    PlanType,
    UserSubscription,
    WebhookPurpose,
)


def package_pairs_in_use(user: Any, plan_type: str) -> QuerySet:
    """The query of ``default_pairs_in_use``: PairConfig ids (one column, unordered,
    possibly repeated). A host counting its own bots too can ``union()`` it with
    theirs, and count both in one query (example_project/trading/quota.py)."""
    if plan_type == PlanType.MANAGED_BOT:
        rows = ManagedBotPerformance.objects.filter(
            user=user, subscription__in=UserSubscription.objects.open()
        ).values_list("managed_bot_id", flat=True)
    else:
        rows = CustomBotWebhook.objects.filter(
            user=user, is_active=True, purpose=WebhookPurpose.CUSTOM_BOT
        ).values_list("pair_config_id", flat=True)
    return rows.order_by()


def default_pairs_in_use(user: Any, plan_type: str) -> set[Any]:
    """PairConfig ids the user trades under ``plan_type``, from the package's own rows."""
    return set(package_pairs_in_use(user, plan_type))


def counts_only_package_pairs() -> bool:
    """True when the pairs in use are ``default_pairs_in_use``'s, so an active
    webhook's own pair is always among them; False when the host counts."""
    return (
        type(get_host_adapter()).pairs_in_use is DefaultHostAdapter.pairs_in_use
        and subscriptions_settings.PAIRS_IN_USE_FUNCTION is default_pairs_in_use
    )


def plan_type_for(pair_config: Any) -> str:
    """managed_bot for a PairConfig the host flags as managed, else custom_bot."""
    is_managed = get_host_adapter().pair_config_value(pair_config, "is_managed", default=False)
    return PlanType.MANAGED_BOT if is_managed else PlanType.CUSTOM_BOT


def lock_subscription(subscription: UserSubscription) -> UserSubscription:
    """
    The subscription row again, locked until the transaction ends (with its
    plan): requests that would each take the last free pair of one
    subscription wait for each other, so the second counts the first's pair.
    """
    return (
        UserSubscription.objects.select_for_update(of=("self",))
        .select_related("plan")
        .get(pk=subscription.pk)
    )


def check_pair_quota(subscription: UserSubscription, pair_config: Any) -> None:
    """Raise ``PairLimitReached`` if trading ``pair_config`` would exceed the plan."""
    in_use = get_host_adapter().pairs_in_use(subscription.user, subscription.plan_type)
    limit = subscription.plan.max_trading_pairs
    if pair_config.pk not in in_use and len(in_use) >= limit:
        raise PairLimitReached(
            f"Your {subscription.plan.name} plan allows {limit} trading "
            f"pair{'s' if limit != 1 else ''} and all are in use. Upgrade your plan or "
            "deactivate a bot first."
        )


def guard_bot_creation(user: Any, pair_config: Any) -> UserSubscription:
    """
    Call before the host's ``create_bot()``: the user needs a live subscription
    of the right type, and the PairConfig must fit the plan's pair quota.
    Returns the subscription; raises a ``SubscriptionsError`` otherwise.

    Inside a transaction (``transaction.atomic()`` around the guard and the
    creation of the bot, or ``ATOMIC_REQUESTS``) the subscription row stays
    locked until the bot is recorded, so concurrent creations cannot both take
    the last free pair. Outside one it checks without a lock.
    """
    from django_torgovo_subscriptions.services.subscriptions import require_access

    subscription = require_access(user, plan_type_for(pair_config))
    if transaction.get_connection().in_atomic_block:
        subscription = lock_subscription(subscription)
    check_pair_quota(subscription, pair_config)
    return subscription
