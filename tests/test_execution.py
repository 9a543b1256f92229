"""
Executing a trade signal and recording it as a host Order (example host).

The shared ``user`` is in Demo mode (accounts.User.Demo defaults to True): the
example host's own trading manager refuses live trading.
"""

from decimal import Decimal

import pytest
from django.test import override_settings

from django_torgovo_subscriptions.services.execution import execute_signal
from django_torgovo_subscriptions.trading import TradeResult, TradeSignal, get_trading_manager
from django_torgovo_subscriptions.trading.host_manager import HostTradingManagerAdapter
from django_torgovo_subscriptions.trading.paper import PaperTradingManager
from example_project import settings as example
from trading.models import Order

pytestmark = pytest.mark.django_db

PAPER = {
    **example.TORGOVO_SUBSCRIPTIONS,
    "TRADING_MANAGER_CLASS": "django_torgovo_subscriptions.trading.paper.PaperTradingManager",
}


def signal(**kwargs):
    values = {
        "side": "buy",
        "symbol": "BTCUSDT",
        "quantity": Decimal("0.5"),
        "price": Decimal("64250.5"),
        "client_order_id": "tv-123",
    }
    return TradeSignal(**{**values, **kwargs})


@override_settings(TORGOVO_SUBSCRIPTIONS=PAPER)
def test_paper_trading_fills_at_the_signal_price_into_the_mapped_order_fields(user, pair_config):
    assert isinstance(get_trading_manager(), PaperTradingManager)
    execution = execute_signal(user, pair_config, signal(side="sell"))

    order = Order.objects.get()
    assert execution.order == order
    assert execution.result.executed
    assert (order.user, order.pair_config, order.symbol) == (user, pair_config, "BTCUSDT")
    assert order.side == "SELL"  # the host's own choice value
    assert order.status == "FILLED"
    assert order.source == "WEBHOOK"
    assert order.quantity == Decimal("0.5")
    assert order.price == Decimal("64250.5")
    assert order.exchange_order_id.startswith("paper-")
    assert order.fee == 0


@override_settings(TORGOVO_SUBSCRIPTIONS=PAPER)
def test_paper_trading_without_a_price_is_a_failed_order(user, pair_config):
    execution = execute_signal(user, pair_config, signal(price=None))
    order = Order.objects.get()
    assert execution.result.error_code == "price_required"
    assert order.status == "FAILED"
    assert "signal price" in order.error_message
    assert order.price == 0


def test_the_hosts_own_manager_is_adapted_and_its_order_is_not_written_twice(user, pair_config):
    manager = get_trading_manager()
    assert isinstance(manager, HostTradingManagerAdapter)

    execution = execute_signal(
        user, pair_config, signal(quantity=Decimal("2"), price=Decimal("3000"))
    )

    order = Order.objects.get()
    assert execution.order == order
    assert order.exchange_order_id.startswith("demo-")  # written by trading.bot_manager
    assert order.side == "BUY"
    assert order.source == "WEBHOOK"
    # The host manager charges a 0.1% fee; the result reads it back through the field map.
    assert execution.result.fee == order.fee == Decimal("6")
    assert execution.result.price == Decimal("3000")


def test_an_exception_in_the_host_manager_becomes_a_failed_order(pair_config, user):
    user.Demo = False  # the example host refuses live trading
    user.save()
    execution = execute_signal(user, pair_config, signal())

    order = Order.objects.get()
    assert order.status == "FAILED"
    assert execution.result.error_code == "execution_error"
    assert "Live trading is not configured" in order.error_message
    assert order.quantity == Decimal("0.5") and order.price == Decimal("64250.5")


class SessionManager:
    """A host manager whose start_bot returns a session id and takes **kwargs."""

    calls = []

    def create_bot(self, user, pair_config):
        self.calls.append(("create_bot", pair_config.pk))

    def start_bot(self, user, pair_config, exchange=None, **kwargs):
        self.calls.append(("start_bot", kwargs))
        return 4711


def test_a_host_manager_returning_a_session_id_gets_an_order_at_the_signal_figures(
    user, pair_config
):
    config = {
        **example.TORGOVO_SUBSCRIPTIONS,
        "TRADING_MANAGER_CLASS": "tests.test_execution.SessionManager",
        "TRADING_MANAGER_SIGNAL_ARGUMENT": "signal",
    }
    SessionManager.calls.clear()
    with override_settings(TORGOVO_SUBSCRIPTIONS=config):
        execute_signal(user, pair_config, signal())

    assert SessionManager.calls[0] == ("create_bot", pair_config.pk)
    passed = SessionManager.calls[1][1]["signal"]
    assert passed["side"] == "buy" and passed["quantity"] == Decimal("0.5")
    order = Order.objects.get()
    assert (order.status, order.exchange_order_id, order.price) == (
        "FILLED",
        "4711",
        Decimal("64250.5"),
    )


def test_a_client_order_id_made_up_by_the_manager_is_what_the_order_records():
    from django_torgovo_subscriptions.trading.orders import OrderWriter

    made_up = TradeResult(
        status="executed", quantity=Decimal("1"), price=Decimal("2"), client_order_id="generated-42"
    )
    assert (
        OrderWriter().values(None, None, signal(client_order_id=""), made_up)["client_order_id"]
        == "generated-42"
    )
    assert (
        OrderWriter().values(None, None, signal(), TradeResult(status="executed"))[
            "client_order_id"
        ]
        == "tv-123"
    )
