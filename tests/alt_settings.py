"""
Test settings for a host shaped unlike the example: settings point the package
at it (field maps, models, trading manager), and a host adapter subclass
overriding one method reads the credentials from the trader's profile.
"""

from tests.settings import *  # noqa: F403

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "tests.brokerage",
    "django_torgovo_subscriptions",
]
AUTH_USER_MODEL = "brokerage.Trader"
ROOT_URLCONF = "tests.alt_urls"

TORGOVO_PAIR_CONFIG_MODEL = "brokerage.Strategy"
TORGOVO_ORDER_MODEL = "brokerage.Trade"
TORGOVO_SUBSCRIPTIONS = {
    "TRADING_MANAGER_CLASS": "tests.brokerage.engine.Engine",
    "PUBLIC_BASE_URL": "https://brokerage.example",
    "THROTTLE_RATES": UNREACHED_THROTTLE_RATES,  # noqa: F405  (tests.settings)
    "HOST_ADAPTER_CLASS": "tests.brokerage.adapter.BrokerageHostAdapter",
    "ORDER_FIELDS": {
        "user": "account",
        "pair_config": "strategy",
        "symbol": "market",
        "side": "direction",
        "quantity": "amount",
        "price": "fill_price",
        "status": "state",
        "external_id": "venue_ref",
        "fee": "commission",
        "source": "origin",
        "error": "failure_reason",
        "created_at": "placed_at",
    },
    "PAIR_CONFIG_FIELDS": {
        "owner": None,
        "symbol": "market",
        "exchange": "venue",
        "is_active": "enabled",
        "name": "title",
    },
}
