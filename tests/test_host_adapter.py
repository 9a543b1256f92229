"""
A host adapter subclass that overrides one method changes the package's
behaviour end to end: a webhook alert trades with credentials kept outside the
user model, the generate endpoint and the receiver agree on an overridden set
of tradable PairConfigs, and the receiver asks an overridden pair count.
"""

import pytest
from django.test import override_settings
from model_bakery import baker

from django_torgovo_subscriptions.host import DefaultHostAdapter, ExchangeCredentials
from django_torgovo_subscriptions.models import WebhookEvent
from example_project import settings as example
from tests.fake_exchange import API_KEY, API_SECRET, FakeBinance
from tests.webhook_support import (
    alert_body,
    btc_pair_config,
    issue,
    post_alert,
    subscribe,
    subscribed_webhook,
)
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

GENERATE = "/api/custom-bot/webhook/generate/"

# A secrets store the host keeps its users' exchange keys in: username -> (key, secret).
VAULT: dict[str, tuple[str, str]] = {}


class VaultCredentialsAdapter(DefaultHostAdapter):
    """Exchange keys come from the vault, not from the user's columns."""

    def get_credentials(self, user):
        api_key, api_secret = VAULT.get(user.username, ("", ""))
        return ExchangeCredentials(api_key=api_key, api_secret=api_secret, demo=False)


class TvBotsAdapter(DefaultHostAdapter):
    """Custom bots may trade only the PairConfigs the host named "tv-...";
    ``can_trade()`` is left to the default, which must agree."""

    def tradable_pair_configs(self, user, *, exclude_managed=False):
        queryset = super().tradable_pair_configs(user, exclude_managed=exclude_managed)
        return queryset.filter(name__startswith="tv-")


class HostBotsAdapter(DefaultHostAdapter):
    """The host runs bots of its own: two other pairs are always in use."""

    def pairs_in_use(self, user, plan_type):
        return {-1, -2}


def adapter_settings(adapter_class, **overrides):
    path = f"{__name__}.{adapter_class.__name__}"
    return override_settings(
        TORGOVO_SUBSCRIPTIONS={
            **example.TORGOVO_SUBSCRIPTIONS,
            "HOST_ADAPTER_CLASS": path,
            **overrides,
        }
    )


@pytest.fixture
def vault():
    VAULT.clear()
    yield VAULT
    VAULT.clear()


@pytest.fixture
def binance():
    pytest.importorskip("ccxt")
    from django_torgovo_subscriptions.trading.ccxt import clear_market_cache

    server = FakeBinance("live").start()
    clear_market_cache()
    yield server
    clear_market_cache()
    server.stop()


def ccxt_overrides(binance):
    config = {
        "urls": {"api": binance.ccxt_urls()},
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }
    return {
        "TRADING_MANAGER_CLASS": "django_torgovo_subscriptions.trading.ccxt.CcxtTradingManager",
        "CCXT_EXCHANGE_CONFIG": {"binance": config},
        "CCXT_ORDER_LOOKUP_DELAYS": (0, 0),
    }


def test_a_webhook_alert_trades_with_the_credentials_the_adapter_gives(
    client, user, vault, binance
):
    webhook, secret = subscribed_webhook(user)
    assert (user.API, user.SECRET) == ("", "")
    vault["alice"] = (API_KEY, API_SECRET)

    with adapter_settings(VaultCredentialsAdapter, **ccxt_overrides(binance)):
        response = post_alert(client, secret)

    assert response.status_code == 200 and response.json()["status"] == "executed"
    [sent] = binance.hits("POST", "/api/v3/order")
    assert sent.headers["x-mbx-apikey"] == API_KEY
    order = Order.objects.get()
    assert (order.status, order.user, order.pair_config) == ("FILLED", user, webhook.pair_config)
    assert order.exchange_order_id == str(binance.orders[0]["orderId"])


def test_without_the_adapter_the_same_alert_has_no_credentials(client, user, vault, binance):
    _, secret = subscribed_webhook(user)
    vault["alice"] = (API_KEY, API_SECRET)
    user.Demo = False
    user.save()

    config = {**example.TORGOVO_SUBSCRIPTIONS, **ccxt_overrides(binance)}
    with override_settings(TORGOVO_SUBSCRIPTIONS=config):
        body = post_alert(client, secret).json()

    assert (body["status"], body["code"]) == ("failed", "credentials_missing")
    assert binance.hits("POST", "/api/v3/order") == []


def test_generate_offers_only_the_pair_configs_the_adapter_lists(api, user):
    subscribe(user, max_pairs=2)
    tv_bot = baker.make("trading.PairConfig", user=user, name="tv-btc", symbol="BTC/USDT")
    other = baker.make("trading.PairConfig", user=user, name="grid-eth", symbol="ETH/USDT")

    with adapter_settings(TvBotsAdapter):
        refused = api.post(GENERATE, {"pair_config": other.pk}, format="json")
        accepted = api.post(GENERATE, {"pair_config": tv_bot.pk}, format="json")

    assert refused.status_code == 400 and "pair_config" in refused.json()["fields"]
    assert accepted.status_code == 201
    # The default adapter offers both.
    assert api.post(GENERATE, {"pair_config": other.pk}, format="json").status_code == 201


def test_the_receiver_agrees_with_the_overridden_tradable_pair_configs(client, user):
    subscribe(user)
    pair_config = btc_pair_config(user)
    pair_config.name = "tv-btc"
    pair_config.save()
    _, secret = issue(user, pair_config)

    with adapter_settings(TvBotsAdapter):
        assert post_alert(client, secret).json()["status"] == "executed"
        pair_config.name = "grid-btc"
        pair_config.save()
        refused = post_alert(client, secret, alert_body(secret, price="64300"))

    assert (refused.status_code, refused.json()["code"]) == (403, "pair_config_unavailable")
    assert Order.objects.count() == 1


def test_the_receiver_asks_an_overridden_pair_count(client, user):
    _, secret = subscribed_webhook(user)

    with adapter_settings(HostBotsAdapter):
        refused = post_alert(client, secret)

    assert (refused.status_code, refused.json()["code"]) == (403, "pair_limit_reached")
    assert WebhookEvent.objects.get().code == "pair_limit_reached"
    assert not Order.objects.exists()
