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
