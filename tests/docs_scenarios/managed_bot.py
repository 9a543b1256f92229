"""Scenarios for the managed-bot examples."""

from decimal import Decimal

from django_torgovo_subscriptions.models import ManagedBotOffer
from django_torgovo_subscriptions.services.managed_bot import offers as managed
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
