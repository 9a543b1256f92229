"""GET custom-bot/pairs/ on the example host: the user's own tradable PairConfigs,
the webhook on each, and the plan's pair quota."""

from datetime import timedelta

import pytest
from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions.services.custom_bot import issuing
from tests.factories import one_page
from tests.webhook_support import issue, listed_pair, subscribe
from trading.models import PairConfig

pytestmark = [pytest.mark.django_db]
PAIRS = "/api/custom-bot/pairs/"


def make_pair(user, name, symbol="BTC/USDT", **fields):
    return baker.make("trading.PairConfig", user=user, name=name, symbol=symbol, **fields)


def test_lists_own_tradable_pairs_with_their_webhook_and_the_quota(api, user, other_user):
    subscribe(user, max_pairs=2)
    eth = make_pair(user, "My ETH strategy", "ETH/USDT", exchange="kraken")
    btc = make_pair(user, "My BTC strategy")
    make_pair(user, "Paused", is_active=False)
    make_pair(user, "A managed bot", is_managed=True)
    make_pair(other_user, "Not mine")
    issuing.deactivate(issue(user, btc)[0])  # a deactivated webhook takes no slot
    webhook, _secret = issue(user, eth)

    response = api.get(PAIRS)

    assert response.status_code == 200
    assert response.json() == one_page(
        [
            listed_pair(eth, "My ETH strategy", "ETH/USDT", "kraken", webhook),
            listed_pair(btc, "My BTC strategy", "BTC/USDT", "binance"),
        ],
        pair_quota={"max_trading_pairs": 2, "used": 1, "left": 1},
    )


def test_a_full_quota_has_none_left_and_the_newest_active_webhook_is_named(api, user):
    subscribe(user, max_pairs=1)
    pair = make_pair(user, "My BTC strategy")
    issue(user, pair)
    newest, _secret = issue(user, pair)  # a second webhook on the same pair takes no slot

    body = api.get(PAIRS).json()

    assert [(p["id"], p["webhook_id"], p["in_use"]) for p in body["results"]] == [
        (pair.pk, newest.pk, True)
    ]
    assert body["pair_quota"] == {"max_trading_pairs": 1, "used": 1, "left": 0}


def test_needs_a_live_custom_bot_subscription_like_generate(api, anon, user):
    make_pair(user, "My BTC strategy")
    response = api.get(PAIRS)
    assert response.status_code == 403 and response.json()["code"] == "subscription_required"
    subscribe(user, end_date=timezone.now() - timedelta(days=1))
    response = api.get(PAIRS)
    assert response.status_code == 403 and response.json()["code"] == "subscription_expired"
    response = anon.get(PAIRS)
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


def test_the_query_count_does_not_grow_with_the_pairs(api, user, django_assert_num_queries):
    subscribe(user, max_pairs=50)
    issue(user, make_pair(user, "First"))
    # 4 of the package's and 1 of the example host's count of its own bots and the
    # package's pairs (PAIRS_IN_USE_FUNCTION, one UNION).
    with django_assert_num_queries(5):
        assert api.get(PAIRS).json()["count"] == 1
    for i in range(30):
        pair = make_pair(user, f"Pair {i}")
        if i % 2:
            issue(user, pair)
    with django_assert_num_queries(5):
        body = api.get(PAIRS + "?page_size=100").json()
    assert body["count"] == 31 and body["pair_quota"]["used"] == 16


def host_bots_in_use(user, plan_type):
    """A host that counts its own running bots (PAIRS_IN_USE_FUNCTION): those named "Host bot"."""
    return set(PairConfig.objects.filter(user=user, name="Host bot").values_list("pk", flat=True))


def test_pairs_the_host_counts_are_in_use_without_a_webhook(api, user, settings):
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAIRS_IN_USE_FUNCTION": f"{__name__}.host_bots_in_use",
    }
    subscribe(user, max_pairs=3)
    host_bot = make_pair(user, "Host bot")
    free = make_pair(user, "Free")

    body = api.get(PAIRS).json()

    assert [(p["id"], p["webhook_active"], p["in_use"]) for p in body["results"]] == [
        (host_bot.pk, False, True),
        (free.pk, False, False),
    ]
    assert body["pair_quota"] == {"max_trading_pairs": 3, "used": 1, "left": 2}
