"""
The alt host's adapter: exchange keys live on a TradingProfile, and a trader
without one trades in Demo with no keys. Everything else is the settings'.
"""

from django_torgovo_subscriptions.host import DefaultHostAdapter, ExchangeCredentials
from tests.brokerage.models import TradingProfile


class BrokerageHostAdapter(DefaultHostAdapter):
    def get_credentials(self, user):
        try:
            profile = user.trading_profile
        except TradingProfile.DoesNotExist:
            return ExchangeCredentials(api_key="", api_secret="", demo=True)
        return ExchangeCredentials(
            api_key=profile.api_key, api_secret=profile.api_secret, demo=profile.demo_mode
        )
