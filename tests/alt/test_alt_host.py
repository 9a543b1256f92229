"""
The same package, pointed at a host shaped unlike the example: credentials on
a profile (read by a host adapter subclass), and by settings alone
platform-wide strategies with no owner, trades with a UUID key and lower-case
choices, an engine returning session ids.
"""

import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from model_bakery import baker
from rest_framework.test import APIClient

from django_torgovo_subscriptions import host
from django_torgovo_subscriptions.checks import check_settings
from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.services.execution import execute_signal
from django_torgovo_subscriptions.trading import TradeSignal
from tests.brokerage.adapter import BrokerageHostAdapter
from tests.brokerage.engine import Engine
from tests.brokerage.models import Strategy, Trade
from tests.factories import make_plan, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def trader():
    return baker.make("brokerage.Trader", username="trader")


def test_checks_are_clean_for_the_differently_shaped_host():
    assert check_settings() == []
    call_command("check")


def test_package_tables_point_at_the_hosts_own_models(trader):
    strategy = baker.make(Strategy, market="ETH/USDT")
    performance = ManagedBotPerformance.objects.create(
        user=trader, subscription=make_subscription(trader), managed_bot=strategy
    )
    performance.refresh_from_db()
    assert isinstance(performance.managed_bot, Strategy)
    assert ManagedBotPerformance._meta.get_field("managed_bot").related_model is Strategy


def test_the_hosts_adapter_overrides_only_the_credentials():
    adapter = host.get_host_adapter()
    assert type(adapter) is BrokerageHostAdapter
    overridden = {
        name
        for name, value in vars(BrokerageHostAdapter).items()
        if callable(value) and not name.startswith("_")
    }
    assert overridden == {"get_credentials"}
    assert adapter.pair_config_field("symbol") == "market"  # the rest: from the settings


def test_credentials_come_from_the_profile(trader):
    baker.make(
        "brokerage.TradingProfile", trader=trader, api_key="k-1", api_secret="s-1", demo_mode=False
    )
    trader.refresh_from_db()
    credentials = host.get_host_adapter().get_credentials(trader)
    assert (credentials.api_key, credentials.api_secret, credentials.demo) == ("k-1", "s-1", False)


def test_a_missing_profile_means_no_credentials_and_demo(trader):
    credentials = host.get_host_adapter().get_credentials(trader)
    assert not credentials.is_complete and credentials.demo


def test_platform_wide_strategies_are_tradable_by_anyone_when_enabled(trader):
    enabled = baker.make(Strategy, enabled=True, _quantity=2)
    baker.make(Strategy, enabled=False)
    assert set(host.get_host_adapter().tradable_pair_configs(trader)) == set(enabled)


def test_a_trade_is_written_to_the_hosts_uuid_keyed_table_with_its_names_and_values(trader):
    strategy = baker.make(Strategy, market="ETH/USDT")
    Engine.started.clear()

    execution = execute_signal(
        trader,
        strategy,
        TradeSignal(
            side="sell",
            symbol="ETHUSDT",
            quantity=Decimal("1.25"),
            price=Decimal("3012.40"),
            client_order_id="tv-9",
        ),
    )

    trade = Trade.objects.get()
    assert execution.order == trade
    assert isinstance(trade.pk, uuid.UUID)
    assert (trade.account, trade.strategy, trade.market) == (trader, strategy, "ETHUSDT")
    assert (trade.direction, trade.state, trade.origin) == ("sell", "executed", "webhook")
    assert (trade.amount, trade.fill_price) == (Decimal("1.25"), Decimal("3012.40"))
    assert trade.venue_ref == f"session-{strategy.pk}-1"
    # The engine got the signal through **kwargs under the default argument name.
    assert Engine.started[0]["signal"]["symbol"] == "ETHUSDT"


def test_the_api_works_on_the_other_host():
    make_plan(slug="basic", name="Basic")
    response = APIClient().get("/api/subscription-plans/")
    assert [p["slug"] for p in response.json()["results"]] == ["basic"]
