"""The package's own receivers of its signals, connected in AppConfig.ready()."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from django_torgovo_subscriptions.signals import subscription_cancelled, subscription_expired

logger = logging.getLogger(__name__)


@receiver(subscription_cancelled, dispatch_uid="subscriptions.settle_managed_on_withdrawal")
def settle_managed_bots_on_withdrawal(sender: Any, subscription: Any, **kwargs: Any) -> None:
    """
    Cancelling a managed-bot subscription withdraws the investor at once:
    the share is settled up to this moment and each performance is closed, so
    new signals skip them (the remaining paid time grants nothing to trade).
    """
    at = min(subscription.cancelled_at or timezone.now(), timezone.now())
    _settle_exits(subscription, at)


@receiver(subscription_expired, dispatch_uid="subscriptions.settle_managed_on_exit")
def settle_managed_bots_on_exit(sender: Any, subscription: Any, **kwargs: Any) -> None:
    """When a managed-bot subscription ends, settle the profit share of each bot in it."""
    _settle_exits(subscription, subscription.end_date)


def _settle_exits(subscription: Any, at: Any) -> None:
    from django_torgovo_subscriptions.models import ManagedBotPerformance, PlanType
    from django_torgovo_subscriptions.services.managed_bot import profit

    if subscription.plan_type != PlanType.MANAGED_BOT:
        return
    for performance in ManagedBotPerformance.objects.filter(
        subscription=subscription, closed_at__isnull=True
    ):
        with transaction.atomic():
            settlement = profit.settle_on_exit(performance, at=at)
        logger.info(
            "Settled managed bot %s for subscription %s: share %s",
            performance.managed_bot_id,
            subscription.pk,
            settlement.amount,
        )
