"""Scenarios for the managed-bot examples."""

from decimal import Decimal

from django_torgovo_subscriptions.models import (
    ManagedBotOffer,
    ManagedBotPerformance,
    SubscriptionStatus,
)
from django_torgovo_subscriptions.services import subscriptions
from django_torgovo_subscriptions.services.managed_bot import offers as managed
from django_torgovo_subscriptions.services.managed_bot import signal_webhooks
from tests.docs_scenarios import Context, scenario


def seed_offer() -> ManagedBotOffer:
    return ManagedBotOffer.objects.get(name="BTC Momentum")


@scenario("managed_offer")
def managed_offer(ctx: Context) -> dict:
    """The seed's managed bot is on offer (minimum investment 100.00)."""
    return {"OFFER_ID": seed_offer().id}


@scenario("invested")
def invested(ctx: Context) -> dict:
    """The demo user invested 1000.00 in the seed's managed bot."""
    performance = managed.invest(ctx.user, seed_offer(), Decimal("1000.00"))
    return {
        "OFFER_ID": performance.managed_bot.torgovo_managed_offer.id,
        "PERFORMANCE_ID": performance.id,
    }


@scenario("invested_with_history")
def invested_with_history(ctx: Context) -> dict:
    """The demo user invested 1000.00 three days ago; the bot bought the day after
    and sold yesterday at a profit of 50.00 (after fees); recalculated."""
    from datetime import timedelta

    from django.utils import timezone

    from django_torgovo_subscriptions.services.managed_bot import profit
    from trading.models import Order

    performance = managed.invest(ctx.user, seed_offer(), Decimal("1000.00"))
    now = timezone.now()
    performance.orders_since = now - timedelta(days=3)
    performance.save(update_fields=["orders_since"])
    for side, price, fee, days_ago in (("BUY", "40000", "4", 2), ("SELL", "40600", "6", 1)):
        order = Order.objects.create(
            user=ctx.user,
            pair_config=performance.managed_bot,
            symbol="BTC/USDT",
            side=side,
            quantity=Decimal("0.1"),
            price=Decimal(price),
            fee=Decimal(fee),
            status="FILLED",
            source="MANAGED",
        )
        Order.objects.filter(pk=order.pk).update(created_at=now - timedelta(days=days_ago))
    profit.recalculate(performance)
    return {"PERFORMANCE_ID": performance.id}


@scenario("managed_signal_webhook")
def managed_signal_webhook(ctx: Context) -> dict:
    """The demo user is invested (subscription live); the bot's owner, "platform", has an
    operator signal webhook for it."""
    variables = invested(ctx)
    performance = ManagedBotPerformance.objects.select_related("subscription").get(
        pk=variables["PERFORMANCE_ID"]
    )
    if performance.subscription.status == SubscriptionStatus.PENDING_PAYMENT:
        subscriptions.activate(performance.subscription)
    offer = seed_offer()
    issued = signal_webhooks.generate_signal_webhook(offer.managed_bot.user, offer.managed_bot)
    return {**variables, "SIGNAL_SECRET": issued.secret}
