"""GET custom-bot/pairs/ on the differently shaped host: platform-wide strategies
(no owner) named by their title, each with this trader's webhook on it."""

import pytest
from model_bakery import baker

from tests.brokerage.models import Strategy
from tests.factories import one_page
from tests.webhook_support import issue, listed_pair, subscribe

pytestmark = [pytest.mark.django_db]


def test_every_enabled_strategy_is_listed_with_this_traders_webhook(api, user, other_user):
    subscribe(user, max_pairs=3)
    subscribe(other_user)
    eth = baker.make(Strategy, title="ETH momentum", venue="kraken", market="ETH/USDT")
    btc = baker.make(Strategy, title="BTC swing", venue="bybit", market="BTC/USDT")
    baker.make(Strategy, title="Retired", enabled=False)
    webhook, _secret = issue(user, eth)
    issue(other_user, btc)  # someone else's webhook is not this trader's

    response = api.get("/api/custom-bot/pairs/")

    assert response.status_code == 200
    assert response.json() == one_page(
        [
            listed_pair(eth, "ETH momentum", "ETH/USDT", "kraken", webhook),
            listed_pair(btc, "BTC swing", "BTC/USDT", "bybit"),
        ],
        pair_quota={"max_trading_pairs": 3, "used": 1, "left": 2},
    )


def test_the_query_count_does_not_grow_with_the_strategies(api, user, django_assert_num_queries):
    subscribe(user, max_pairs=50)
    issue(user, baker.make(Strategy))
    with django_assert_num_queries(5):
        assert api.get("/api/custom-bot/pairs/").json()["count"] == 1
    for strategy in baker.make(Strategy, _quantity=20):
        issue(user, strategy)
    with django_assert_num_queries(5):
        assert api.get("/api/custom-bot/pairs/").json()["pair_quota"]["used"] == 21
