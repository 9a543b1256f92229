"""
Create demo data: plans of both types, a managed bot, a demo user with a token.

Safe to run again: existing rows are reused, and the token stays the same.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from rest_framework.authtoken.models import Token

from django_torgovo_subscriptions.models import ManagedBotOffer, PlanType, SubscriptionPlan
from trading.models import PairConfig

PLANS = [
    {
        "slug": "custom-bot-basic",
        "name": "Custom Bot Basic",
        "plan_type": PlanType.CUSTOM_BOT,
        "monthly_price": Decimal("29.00"),
        "description": "Trade your own TradingView strategy on one pair.",
        "features": ["tradingview_webhook", "paper_trading"],
        "max_trading_pairs": 1,
    },
    {
        "slug": "custom-bot-pro",
        "name": "Custom Bot Pro",
        "plan_type": PlanType.CUSTOM_BOT,
        "monthly_price": Decimal("79.00"),
        "description": "Up to five TradingView strategies at once.",
        "features": ["tradingview_webhook", "paper_trading", "live_trading"],
        "max_trading_pairs": 5,
    },
    {
        "slug": "managed-growth",
        "name": "Managed Growth",
        "plan_type": PlanType.MANAGED_BOT,
        "monthly_price": Decimal("0.00"),
        "description": "The platform trades for you and keeps 20% of the profit it makes.",
        "features": ["managed_trading", "monthly_report"],
        "profit_share_percentage": Decimal("20.00"),
        "guaranteed_monthly_return": Decimal("2.00"),
        "max_trading_pairs": 1,
    },
]

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo-password"


class Command(BaseCommand):
    help = "Create demo plans, a managed bot, and a demo user with an API token."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, base_url, **options):
        for plan in PLANS:
            SubscriptionPlan.objects.update_or_create(slug=plan["slug"], defaults=plan)

        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "demo@example.com", "Demo": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        token, _ = Token.objects.get_or_create(user=user)

        operator, _ = User.objects.get_or_create(username="platform", defaults={"Demo": True})
        managed_bot, _ = PairConfig.objects.get_or_create(
            user=operator,
            name="BTC momentum (managed)",
            defaults={
                "symbol": "BTC/USDT",
                "exchange": "binance",
                "is_managed": True,
                "order_size": Decimal("0.01"),
            },
        )
        ManagedBotOffer.objects.get_or_create(
            managed_bot=managed_bot,
            defaults={
                "plan": SubscriptionPlan.objects.get(slug="managed-growth"),
                "name": "BTC Momentum",
                "description": "Trend-following on BTC/USDT, run by the platform.",
                "minimum_investment": Decimal("100.00"),
            },
        )
        PairConfig.objects.get_or_create(
            user=user,
            name="My ETH strategy",
            defaults={"symbol": "ETH/USDT", "exchange": "binance", "order_size": Decimal("0.5")},
        )

        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"User: {DEMO_USERNAME} / {DEMO_PASSWORD}")
        self.stdout.write(f"Token: {token.key}")
        self.stdout.write("Try:")
        self.stdout.write(
            f'  curl -H "Authorization: Token {token.key}" {base_url}/api/subscription-plans/'
        )
