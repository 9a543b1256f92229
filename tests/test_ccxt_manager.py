"""
CcxtTradingManager against a fake Binance at ccxt's HTTP boundary.

Two local HTTP servers play Binance's live API and its testnet (see
tests/fake_exchange.py); ccxt reaches them over real HTTP because
CCXT_EXCHANGE_CONFIG points binance's ``urls['api']`` and ``urls['test']`` at
them. Nothing in the package is patched.
"""

import sys
import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from model_bakery import baker

from django_torgovo_subscriptions.services.execution import execute_signal
from django_torgovo_subscriptions.trading import TradeSignal
from django_torgovo_subscriptions.trading.ccxt import CcxtTradingManager, clear_market_cache
from example_project import settings as example
from tests.fake_exchange import (
    API_KEY,
    API_SECRET,
    INSUFFICIENT_BALANCE,
    FakeBinance,
)
from trading.models import Order

ccxt = pytest.importorskip("ccxt")

pytestmark = pytest.mark.django_db

CCXT_MANAGER = "django_torgovo_subscriptions.trading.ccxt.CcxtTradingManager"
ORDER = ("POST", "/api/v3/order")
LOOKUP = ("GET", "/api/v3/order")
MARKETS = ("GET", "/api/v3/exchangeInfo")
TIMEOUT_MS = 750


@pytest.fixture
def live():
    server = FakeBinance("live").start()
    yield server
    server.stop()


@pytest.fixture
def testnet():
    server = FakeBinance("testnet").start()
    yield server
    server.stop()


def ccxt_settings(live, testnet, **overrides):
    binance = {
        "urls": {"api": live.ccxt_urls(), "test": testnet.ccxt_urls()},
        "timeout": TIMEOUT_MS,
        "options": {"fetchMarkets": {"types": ["spot"]}},
    }
    return {
        **example.TORGOVO_SUBSCRIPTIONS,
        "TRADING_MANAGER_CLASS": CCXT_MANAGER,
        "CCXT_EXCHANGE_CONFIG": {"binance": binance},
        "CCXT_ORDER_LOOKUP_DELAYS": (0, 0),
        **overrides,
    }


@pytest.fixture(autouse=True)
def configured(live, testnet, settings):
    clear_market_cache()
    settings.TORGOVO_SUBSCRIPTIONS = ccxt_settings(live, testnet)
    yield
    clear_market_cache()


@pytest.fixture
def binance_trader():
    return baker.make("accounts.User", API=API_KEY, SECRET=API_SECRET, Demo=False)


@pytest.fixture
def binance_pair_config(binance_trader):
    return baker.make(
        "trading.PairConfig", user=binance_trader, exchange="binance", symbol="BTC/USDT"
    )


def signal(**kwargs):
    values = {
        "side": "buy",
        "symbol": "BTCUSDT",
        "quantity": Decimal("0.123456789"),
        "price": Decimal("64000"),
        "client_order_id": "tv-123",
    }
    return TradeSignal(**{**values, **kwargs})


def trade(user, pair_config, **kwargs):
    return CcxtTradingManager().start_bot(user, pair_config, signal=signal(**kwargs))


def assert_failed(result, code):
    assert (result.status, result.error_code) == ("failed", code), result.error_message
    assert API_SECRET not in result.error_message
    assert API_KEY not in result.error_message
    assert API_SECRET not in repr(result.raw)


# --- filled orders ------------------------------------------------------------


def test_a_market_buy_is_filled_with_precision_applied_and_the_client_order_id(
    binance_trader, binance_pair_config, live
):
    result = trade(binance_trader, binance_pair_config)

    assert result.executed
    [request] = live.hits(*ORDER)
    assert request.params["newClientOrderId"] == "tv-123"
    assert request.params["quantity"] == "0.12345"  # LOT_SIZE step 0.00001, truncated
    assert (request.params["type"], request.params["side"]) == ("MARKET", "BUY")
    assert result.quantity == Decimal("0.12345")
    # Two fills: 0.07407 @ 64000.00 and 0.04938 @ 64001.00.
    assert result.price == Decimal("64000.4")
    # 0.1% commission in BTC, converted to USDT at the average price.
    assert result.fee == Decimal("0.00012345") * Decimal("64000.4")
    assert result.external_id == str(live.orders[0]["orderId"])
    assert result.raw["clientOrderId"] == "tv-123"
    assert result.raw["status"] == "closed"


def test_a_sell_fee_in_the_quote_currency_is_summed_as_is(
    binance_trader, binance_pair_config, live
):
    result = trade(binance_trader, binance_pair_config, side="sell", quantity=Decimal("0.1"))

    assert result.executed
    commissions = [Decimal(f["commission"]) for f in live.orders[0]["fills"]]
    assert {f["commissionAsset"] for f in live.orders[0]["fills"]} == {"USDT"}
    assert result.fee == sum(commissions)


def test_without_a_client_order_id_one_is_generated(binance_trader, binance_pair_config, live):
    result = trade(binance_trader, binance_pair_config, client_order_id="")

    sent = live.hits(*ORDER)[0].params["newClientOrderId"]
    assert len(sent) == 32 and sent.isalnum()
    assert result.raw["clientOrderId"] == sent
    assert result.client_order_id == sent  # kept for the Order row and reconciliation


@pytest.mark.parametrize(
    "ticker, market_id",
    [
        ("BINANCE:ETHUSDT", "ETHUSDT"),
        ("ETH/BTC", "ETHBTC"),
        ("ethbtc", "ETHBTC"),
    ],
)
def test_tradingview_tickers_map_to_the_exchange_market(
    binance_trader, binance_pair_config, live, ticker, market_id
):
    result = trade(
        binance_trader, binance_pair_config, symbol=ticker, quantity=Decimal("0.5"), price=None
    )

    assert result.executed, result.error_message
    assert live.hits(*ORDER)[0].params["symbol"] == market_id


def test_a_limit_order_rounds_its_price_and_is_recorded_at_the_requested_figures(
    binance_trader, binance_pair_config, live
):
    result = trade(
        binance_trader,
        binance_pair_config,
        price=Decimal("63999.996"),
        extra={"order_type": "limit"},
    )

    params = live.hits(*ORDER)[0].params
    assert (params["type"], params["price"], params["timeInForce"]) == ("LIMIT", "64000", "GTC")
    assert result.executed and result.raw["status"] == "open"
    assert (result.quantity, result.price, result.fee) == (
        Decimal("0.12345"),
        Decimal("64000"),
        Decimal("0"),
    )


# --- sandbox and markets --------------------------------------------------------


def test_a_demo_user_trades_on_the_testnet(binance_trader, binance_pair_config, live, testnet):
    binance_trader.Demo = True
    binance_trader.save()

    assert trade(binance_trader, binance_pair_config).executed

    assert len(testnet.hits(*MARKETS)) == 1 and len(testnet.hits(*ORDER)) == 1
    assert live.requests == []


def test_a_live_user_trades_on_the_live_api(binance_trader, binance_pair_config, live, testnet):
    assert trade(binance_trader, binance_pair_config).executed

    assert len(live.hits(*ORDER)) == 1
    assert testnet.requests == []


def test_markets_are_loaded_once_for_many_trades_and_users(
    binance_trader, binance_pair_config, live
):
    other = baker.make("accounts.User", API=API_KEY, SECRET=API_SECRET, Demo=False)

    assert trade(binance_trader, binance_pair_config).executed
    assert trade(other, binance_pair_config, client_order_id="tv-124").executed

    assert len(live.hits(*MARKETS)) == 1
    assert len(live.hits(*ORDER)) == 2
    # Markets are loaded without credentials, so nothing user-specific is cached.
    assert "x-mbx-apikey" not in live.hits(*MARKETS)[0].headers


def test_concurrent_first_trades_load_the_markets_once(live):
    manager = CcxtTradingManager()
    threads = [
        threading.Thread(target=manager.markets_for, args=("binance", False)) for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(live.hits(*MARKETS)) == 1


def test_markets_are_reloaded_after_their_ttl(
    binance_trader, binance_pair_config, live, testnet, settings
):
    settings.TORGOVO_SUBSCRIPTIONS = ccxt_settings(live, testnet, CCXT_MARKETS_TTL=0)

    trade(binance_trader, binance_pair_config)
    trade(binance_trader, binance_pair_config, client_order_id="tv-124")

    assert len(live.hits(*MARKETS)) == 2


def test_a_demo_user_on_an_exchange_without_a_sandbox_is_refused(binance_trader, live, testnet):
    exchange_id = "kraken"
    assert not ccxt.kraken().urls.get("test")  # ccxt lists kraken without a sandbox URL
    binance_trader.Demo = True
    binance_trader.save()
    pair_config = baker.make("trading.PairConfig", user=binance_trader, exchange=exchange_id)

    assert_failed(trade(binance_trader, pair_config), "sandbox_unavailable")


# --- refused before sending ---------------------------------------------------


@pytest.mark.parametrize(
    "quantity, price, minimum",
    [
        (Decimal("0.000004"), Decimal("64000"), "0.00001 BTC"),  # rounds to 0 (LOT_SIZE)
        (Decimal("0.00005"), Decimal("64000"), "5 USDT"),  # 3.20 USDT < NOTIONAL 5
        (Decimal("0.00005"), None, "5 USDT"),  # no alert price: valued at the last price
    ],
)
def test_an_order_below_the_minimum_is_not_sent(
    binance_trader, binance_pair_config, live, quantity, price, minimum
):
    result = trade(binance_trader, binance_pair_config, quantity=quantity, price=price)

    assert_failed(result, "below_minimum")
    assert minimum in result.error_message
    assert live.hits(*ORDER) == []


def test_an_unknown_symbol_is_not_sent(binance_trader, binance_pair_config, live):
    result = trade(binance_trader, binance_pair_config, symbol="DOGEUSDT")

    assert_failed(result, "unknown_symbol")
    assert "DOGEUSDT" in result.error_message
    assert live.hits(*ORDER) == []


def test_missing_credentials_never_reach_the_exchange(binance_pair_config, live, testnet):
    user = baker.make("accounts.User", API="", SECRET="", Demo=False)

    assert_failed(trade(user, binance_pair_config), "credentials_missing")
    assert live.requests == [] and testnet.requests == []


def test_an_exchange_ccxt_does_not_know_is_refused(binance_trader, live):
    pair_config = baker.make("trading.PairConfig", user=binance_trader, exchange="nasdaq")

    assert_failed(trade(binance_trader, pair_config), "unsupported_exchange")
    assert live.requests == []


def test_without_ccxt_installed_the_error_names_the_extra(
    binance_trader, binance_pair_config, monkeypatch
):
    monkeypatch.setitem(sys.modules, "ccxt", None)  # what a missing package looks like

    with pytest.raises(ImproperlyConfigured, match=r"django-torgovo-subscriptions\[ccxt\]"):
        trade(binance_trader, binance_pair_config)


# --- refused by the exchange ------------------------------------------------------


def test_insufficient_balance_is_insufficient_funds(binance_trader, binance_pair_config, live):
    live.reject_orders(400, INSUFFICIENT_BALANCE)

    result = trade(binance_trader, binance_pair_config)

    assert_failed(result, "insufficient_funds")
    assert "insufficient balance" in result.error_message
    assert len(live.hits(*ORDER)) == 1


def test_an_invalid_api_key_is_authentication_failed(binance_trader, binance_pair_config, live):
    binance_trader.API = "not-a-key-binance-knows"
    binance_trader.save()

    result = trade(binance_trader, binance_pair_config)

    assert_failed(result, "authentication_failed")
    assert "-2015" in result.error_message
    assert "not-a-key-binance-knows" not in result.error_message


def test_a_rate_limit_answer_is_not_looked_up_or_retried(binance_trader, binance_pair_config, live):
    live.reject_orders(
        429,
        {
            "code": -1003,
            "msg": "Too many requests; current limit of IP is 6000 requests per minute.",
        },
    )

    result = trade(binance_trader, binance_pair_config)

    assert_failed(result, "exchange_rate_limited")
    assert len(live.hits(*ORDER)) == 1
    assert live.hits(*LOOKUP) == []


# --- no blind retry --------------------------------------------------------------------


def test_a_timed_out_order_that_was_placed_is_found_and_reported(
    binance_trader, binance_pair_config, live
):
    live.stall_orders(TIMEOUT_MS / 1000 * 3)

    result = trade(binance_trader, binance_pair_config)

    assert result.executed, result.error_message
    assert len(live.hits(*ORDER)) == 1  # never re-sent
    assert live.hits(*LOOKUP)[0].params["origClientOrderId"] == "tv-123"
    assert result.external_id == str(live.orders[0]["orderId"])
    assert result.quantity == Decimal("0.12345")
    assert result.price == Decimal("64000.4")
    # The lookup answer has no fills: the fee comes from the order's trades.
    assert result.fee == Decimal("0.00012345") * Decimal("64000.4")


def test_a_timed_out_order_that_cannot_be_found_is_status_unknown(
    binance_trader, binance_pair_config, live
):
    live.stall_orders(TIMEOUT_MS / 1000 * 3, keep=False)

    result = trade(binance_trader, binance_pair_config)

    assert_failed(result, "order_status_unknown")
    assert "tv-123" in result.error_message and "not re-sent" in result.error_message
    assert len(live.hits(*ORDER)) == 1
    assert len(live.hits(*LOOKUP)) == 2  # one per CCXT_ORDER_LOOKUP_DELAYS entry


def test_when_lookup_by_client_id_is_refused_recent_orders_are_scanned(
    binance_trader, binance_pair_config, live
):
    live.stall_orders(TIMEOUT_MS / 1000 * 3)
    live.lookup_error = (400, {"code": -1101, "msg": "Too many parameters sent for this endpoint."})

    result = trade(binance_trader, binance_pair_config)

    assert result.executed, result.error_message
    assert len(live.hits(*ORDER)) == 1
    assert len(live.hits("GET", "/api/v3/allOrders")) == 1


# --- through the execution service ------------------------------------------------------


def test_execute_signal_writes_the_host_order_with_the_exchange_order_id(
    binance_trader, binance_pair_config, live, testnet
):
    with override_settings(TORGOVO_SUBSCRIPTIONS=ccxt_settings(live, testnet)):
        execution = execute_signal(binance_trader, binance_pair_config, signal())

    order = Order.objects.get()
    assert execution.order == order
    assert order.exchange_order_id == str(live.orders[0]["orderId"])
    assert (order.status, order.side, order.source) == ("FILLED", "BUY", "WEBHOOK")
    assert order.quantity == Decimal("0.12345")
    assert order.price == Decimal("64000.4")
    assert order.fee == Decimal("7.90084938")


def test_execute_signal_records_an_exchange_refusal_as_a_failed_order(
    binance_trader, binance_pair_config, live
):
    live.reject_orders(400, INSUFFICIENT_BALANCE)

    execution = execute_signal(binance_trader, binance_pair_config, signal())

    order = Order.objects.get()
    assert execution.result.error_code == "insufficient_funds"
    assert order.status == "FAILED" and "insufficient balance" in order.error_message
    assert API_SECRET not in order.error_message
