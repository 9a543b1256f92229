"""
The PairConfigs a user may trade with a custom bot, and what their plan has left.

``tradable_pairs(user)`` is the host contract's tradable pairs (the user's
own, or the platform-wide ones; managed bots left out, as webhook generation
leaves them out), each annotated with the id of the user's active webhook on
it, in one query. ``pair_quota(user, subscription)`` is the plan's
``max_trading_pairs`` against the pairs the host adapter counts as in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from django_torgovo_subscriptions.host import get_host_adapter
from django_torgovo_subscriptions.models import (
    CustomBotWebhook,
    PlanType,
    UserSubscription,
    WebhookPurpose,
)

# Prefixed: the annotation must not collide with a field of the host's PairConfig.
ACTIVE_WEBHOOK = "torgovo_active_webhook_id"


@dataclass(frozen=True)
class PairQuota:
    """The plan's pair limit and the PairConfig ids that count against it."""

    max_trading_pairs: int
    in_use: frozenset[Any]

    @property
    def used(self) -> int:
        return len(self.in_use)

    @property
    def left(self) -> int:
        return max(0, self.max_trading_pairs - self.used)


def tradable_pairs(user: Any) -> QuerySet:
    """PairConfigs a custom bot of ``user`` may trade, by id, each with
    ``torgovo_active_webhook_id`` (the newest active webhook on it, or None)."""
    active = (
        CustomBotWebhook.objects.filter(
            user=user,
            is_active=True,
            purpose=WebhookPurpose.CUSTOM_BOT,
            pair_config=OuterRef("pk"),
        )
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    return (
        get_host_adapter()
        .tradable_pair_configs(user, exclude_managed=True)
        .annotate(**{ACTIVE_WEBHOOK: Subquery(active)})
        .order_by("pk")
    )


def active_webhook_id(pair_config: Any) -> int | None:
    """The annotation ``tradable_pairs()`` put on a row."""
    return getattr(pair_config, ACTIVE_WEBHOOK)


def pair_quota(user: Any, subscription: UserSubscription) -> PairQuota:
    """How many pairs the plan of ``user``'s custom-bot ``subscription`` allows, and
    which are in use."""
    in_use = get_host_adapter().pairs_in_use(user, PlanType.CUSTOM_BOT)
    return PairQuota(subscription.plan.max_trading_pairs, frozenset(in_use))
