"""
Helpers for the managed-signal fan-out tests, written against the field map
only so both hosts use them: a managed bot on offer and its investors.
(No tests in this module.)
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from django_torgovo_subscriptions import host
from django_torgovo_subscriptions.models import (
    ManagedBotOffer,
    ManagedBotPerformance,
    PlanType,
    SubscriptionStatus,
)
from django_torgovo_subscriptions.services.managed_bot.profit import open_performance
from tests.factories import make_plan, make_subscription
from tests.profit_support import make_bot, make_trader

_plans = count(1)


def make_offer(operator=None, **bot_fields) -> ManagedBotOffer:
    """A managed bot (a host PairConfig owned by ``operator`` where the host has owners)
    on offer under a profit-share plan."""
    bot = make_bot(operator)
    for name, value in bot_fields.items():
        setattr(bot, host.get_host_adapter().pair_config_field(name), value)
    if bot_fields:
        bot.save()
    plan = make_plan(
        PlanType.MANAGED_BOT,
        monthly_price=Decimal("0"),
        profit_share_percentage=Decimal("20"),
        slug=f"managed-fanout-{next(_plans)}",
    )
    return ManagedBotOffer.objects.create(managed_bot=bot, plan=plan, name=f"Bot {bot.pk}")


def invest(
    offer: ManagedBotOffer,
    amount="1000",
    *,
    status=SubscriptionStatus.ACTIVE,
    days_left=30,
    user=None,
    **user_fields,
) -> ManagedBotPerformance:
    """An investor in ``offer``'s bot with a subscription in ``status``."""
    user = user or make_trader(**user_fields)
    subscription = make_subscription(user, offer.plan, status=status, days_left=days_left)
    return open_performance(
        user,
        subscription,
        offer.managed_bot,
        initial_investment=Decimal(amount),
        orders_since=timezone.now() - timedelta(days=1),
    )


def orders_of(performance: ManagedBotPerformance):
    """The host Orders of an investor on the bot, through the field map."""
    adapter = host.get_host_adapter()
    return host.get_order_model().objects.filter(
        **{
            adapter.order_field("user"): performance.user,
            adapter.order_field("pair_config"): performance.managed_bot,
        }
    )


def order_value(order, name):
    return getattr(order, host.get_host_adapter().order_field(name))
