"""
A managed signal through CcxtTradingManager against the fake Binance
(tests/fake_exchange.py, over real HTTP): each investor trades with their own
keys, and one investor's refusal (bad keys, below the exchange's minimum)
leaves a record with its reason while the others trade.
"""

import pytest

from django_torgovo_subscriptions.models import ManagedTrade
from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out
from django_torgovo_subscriptions.trading.ccxt import clear_market_cache
from example_project import settings as example
from tests.fake_exchange import API_KEY, API_SECRET, FakeBinance
from tests.fanout_support import invest, make_offer
from tests.profit_support import make_trader
from trading.models import Order

pytest.importorskip("ccxt")

pytestmark = pytest.mark.django_db

OTHER_KEY, OTHER_SECRET = "k" * 64, "s" * 64


@pytest.fixture
def binance(settings):
    live = FakeBinance("live").start()
    live.secrets[OTHER_KEY] = OTHER_SECRET  # a second investor's own account
    clear_market_cache()
    settings.TORGOVO_SUBSCRIPTIONS = {
        **example.TORGOVO_SUBSCRIPTIONS,
        "TRADING_MANAGER_CLASS": "django_torgovo_subscriptions.trading.ccxt.CcxtTradingManager",
        "CCXT_EXCHANGE_CONFIG": {
            "binance": {
                "urls": {"api": live.ccxt_urls()},
                "options": {"fetchMarkets": {"types": ["spot"]}},
            }
        },
        "CCXT_ORDER_LOOKUP_DELAYS": (0,),
    }
    yield live
    clear_market_cache()
    live.stop()


def test_bad_keys_and_a_size_below_the_minimum_fail_alone(binance):
    offer = make_offer(make_trader(is_staff=True), exchange="binance", symbol="BTC/USDT")
    first = invest(offer, "1000", API=API_KEY, SECRET=API_SECRET, Demo=False)
    bad_keys = invest(offer, "1000", API=API_KEY, SECRET="wrong" * 12, Demo=False)
    too_small = invest(offer, "8", API=OTHER_KEY, SECRET=OTHER_SECRET, Demo=False)
    second = invest(offer, "500", API=OTHER_KEY, SECRET=OTHER_SECRET, Demo=False)

    fanned = fan_out(offer.managed_bot, "buy", "0.5", price="64000", signal_id="tv-1")

    trades = {t.performance_id: t for t in ManagedTrade.objects.filter(signal=fanned.signal)}
    assert {pk: (t.outcome, t.code) for pk, t in trades.items()} == {
        first.pk: ("executed", ""),
        bad_keys.pk: ("failed", "authentication_failed"),
        too_small.pk: ("failed", "below_minimum"),  # 4 USDT < Binance's 5 USDT minimum
        second.pk: ("executed", ""),
    }
    # Each order went out under its investor's own key, sized by their allocation and
    # rounded to the market's amount step by the manager.
    placed = binance.hits("POST", "/api/v3/order")
    sent = {(r.headers["x-mbx-apikey"], r.params["quantity"]) for r in placed}
    assert {(API_KEY, "0.00781"), (OTHER_KEY, "0.0039")} <= sent
    assert {r.params["newClientOrderId"] for r in placed} >= {
        f"mb{fanned.signal.pk}-{first.pk}",
        f"mb{fanned.signal.pk}-{second.pk}",
    }
    for performance in (first, second):
        order = Order.objects.get(pk=trades[performance.pk].order_id)
        assert (order.user, order.status, order.source) == (performance.user, "FILLED", "MANAGED")
    for performance in (bad_keys, too_small):
        order = Order.objects.get(pk=trades[performance.pk].order_id)
        assert (order.status, order.source) == ("FAILED", "MANAGED")
        assert API_SECRET not in trades[performance.pk].error
    assert Order.objects.count() == 4

    # Sent again, the signal places no order on the exchange for anyone.
    fan_out(offer.managed_bot, "buy", "0.5", price="64000", signal_id="tv-1")
    assert len(binance.hits("POST", "/api/v3/order")) == len(placed)
    assert Order.objects.count() == 4
