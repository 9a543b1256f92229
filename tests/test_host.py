"""The host contract: DefaultHostAdapter's answers, one method at a time, on the example host."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from model_bakery import baker

from django_torgovo_subscriptions.host import (
    DefaultHostAdapter,
    ExchangeCredentials,
    get_host_adapter,
)
from django_torgovo_subscriptions.models import CustomBotWebhook, PlanType
from django_torgovo_subscriptions.services.quota import default_pairs_in_use
from example_project import settings as example

pytestmark = pytest.mark.django_db


def host_settings(**overrides):
    return override_settings(TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, **overrides})


def profile_credentials(user):
    """A CREDENTIALS_GETTER as a host would write one."""
    return ExchangeCredentials(api_key=f"key-of-{user.username}", api_secret="s", demo=False)


def counted_by_the_host(user, plan_type):
    """A PAIRS_IN_USE_FUNCTION as a host would write one."""
    return [f"{plan_type}-{user.username}", f"{plan_type}-{user.username}", "other"]


@pytest.fixture
def adapter():
    return get_host_adapter()


# --- get_host_adapter -----------------------------------------------------------


def test_the_default_adapter_is_created_once_and_shared():
    assert type(get_host_adapter()) is DefaultHostAdapter
    assert get_host_adapter() is get_host_adapter()


class OtherAdapter(DefaultHostAdapter):
    pass


def test_the_adapter_class_setting_is_read_again_when_the_settings_change():
    default = get_host_adapter()
    with host_settings(HOST_ADAPTER_CLASS="tests.test_host.OtherAdapter"):
        assert type(get_host_adapter()) is OtherAdapter
    assert get_host_adapter() is not default
    assert type(get_host_adapter()) is DefaultHostAdapter


@pytest.mark.parametrize("value", ["tests.test_host.profile_credentials", None])
def test_an_adapter_class_that_is_not_a_default_adapter_is_a_configuration_error(value):
    with host_settings(HOST_ADAPTER_CLASS=value):
        with pytest.raises(ImproperlyConfigured, match=r"subclass of .*\.host\.DefaultHostAdapter"):
            get_host_adapter()


# --- get_credentials ------------------------------------------------------------


def test_credentials_are_read_through_the_configured_attribute_paths(adapter):
    user = baker.make("accounts.User", API="pk_live_123", SECRET="sk_live_456", Demo=False)
    credentials = adapter.get_credentials(user)
    assert credentials == ExchangeCredentials("pk_live_123", "sk_live_456", demo=False)
    assert credentials.is_complete


def test_credentials_repr_never_shows_the_key_or_secret(adapter):
    user = baker.make("accounts.User", API="pk_live_123", SECRET="sk_live_456")
    shown = repr(adapter.get_credentials(user)) + str(adapter.get_credentials(user))
    assert "pk_live_123" not in shown and "sk_live_456" not in shown
    assert "demo=True" in shown


def test_credentials_getter_overrides_the_paths():
    user = baker.make("accounts.User", username="ali")
    with host_settings(CREDENTIALS_GETTER="tests.test_host.profile_credentials"):
        assert get_host_adapter().get_credentials(user).api_key == "key-of-ali"


def test_a_getter_returning_something_else_is_a_configuration_error():
    with host_settings(CREDENTIALS_GETTER="builtins.str"):
        with pytest.raises(ImproperlyConfigured, match="ExchangeCredentials"):
            get_host_adapter().get_credentials(baker.make("accounts.User"))


# --- PairConfig -----------------------------------------------------------------


def test_pair_config_field_names_the_hosts_field_or_none(adapter):
    assert adapter.pair_config_field("owner") == "user"
    assert adapter.pair_config_field("is_managed") == "is_managed"
    assert adapter.pair_config_field("colour") is None
    with host_settings(PAIR_CONFIG_FIELDS={"is_managed": None}):
        assert get_host_adapter().pair_config_field("is_managed") is None


def test_pair_config_value_reads_the_mapped_field_or_gives_the_default(adapter):
    pair_config = baker.make("trading.PairConfig", symbol="ETH/USDT", exchange="bybit")
    assert adapter.pair_config_value(pair_config, "symbol") == "ETH/USDT"
    assert adapter.pair_config_value(pair_config, "exchange") == "bybit"
    assert adapter.pair_config_value(pair_config, "colour") is None
    assert adapter.pair_config_value(pair_config, "colour", default="red") == "red"


def test_owned_pair_configs_are_only_the_users_own_and_active_ones(adapter):
    user, other = baker.make("accounts.User", _quantity=2)
    mine = baker.make("trading.PairConfig", user=user, is_active=True)
    baker.make("trading.PairConfig", user=user, is_active=False)
    baker.make("trading.PairConfig", user=other, is_active=True)
    assert list(adapter.tradable_pair_configs(user)) == [mine]


def test_can_trade_agrees_with_the_queryset_row_by_row(adapter, django_assert_num_queries):
    user, other = baker.make("accounts.User", _quantity=2)
    rows = [
        baker.make("trading.PairConfig", user=owner, is_active=active, is_managed=managed)
        for owner in (user, other)
        for active in (True, False)
        for managed in (True, False)
    ]
    for exclude_managed in (False, True):
        allowed = set(adapter.tradable_pair_configs(user, exclude_managed=exclude_managed))
        with django_assert_num_queries(0):
            assert allowed == {
                r for r in rows if adapter.can_trade(user, r, exclude_managed=exclude_managed)
            }
        assert len(allowed) == (1 if exclude_managed else 2)


def test_managed_pair_configs_are_the_active_flagged_ones_or_none_without_a_flag(adapter):
    managed = baker.make("trading.PairConfig", is_managed=True, is_active=True)
    baker.make("trading.PairConfig", is_managed=True, is_active=False)
    baker.make("trading.PairConfig", is_managed=False, is_active=True)
    assert list(adapter.managed_pair_configs()) == [managed]
    with host_settings(PAIR_CONFIG_FIELDS={"is_managed": None}):
        assert get_host_adapter().managed_pair_configs() is None


# --- pairs in use ---------------------------------------------------------------


def test_pairs_in_use_are_the_packages_own_count_by_default(adapter, user):
    pair_config = baker.make("trading.PairConfig", user=user)
    baker.make(CustomBotWebhook, user=user, pair_config=pair_config, is_active=True)
    assert adapter.pairs_in_use(user, PlanType.CUSTOM_BOT) == {pair_config.pk}
    assert adapter.pairs_in_use(user, PlanType.CUSTOM_BOT) == default_pairs_in_use(
        user, PlanType.CUSTOM_BOT
    )
    assert adapter.pairs_in_use(user, PlanType.MANAGED_BOT) == set()


def test_pairs_in_use_come_from_the_configured_function_as_a_set(user):
    with host_settings(PAIRS_IN_USE_FUNCTION="tests.test_host.counted_by_the_host"):
        assert get_host_adapter().pairs_in_use(user, "custom_bot") == {"custom_bot-alice", "other"}


# --- Order ----------------------------------------------------------------------


def test_order_field_names_the_hosts_field_or_none(adapter):
    assert adapter.order_field("quantity") == "quantity"
    assert adapter.order_field("external_id") == "exchange_order_id"
    assert adapter.order_field("client_order_id") is None
    assert adapter.order_field("colour") is None


def test_order_value_maps_a_logical_value_to_the_stored_one(adapter):
    assert adapter.order_value("side", "buy") == "BUY"
    assert adapter.order_value("source", "managed") == "MANAGED"
    assert adapter.order_value("status", "pending") == "pending"  # unmapped: as is


def test_logical_order_value_maps_a_stored_value_back(adapter):
    assert adapter.logical_order_value("status", "FILLED") == "executed"
    assert adapter.logical_order_value("status", "PENDING") is None


def test_order_values_map_both_ways(adapter):
    assert adapter.order_value("side", "buy") == "BUY"
    assert adapter.logical_order_value("status", "FILLED") == "executed"
    assert adapter.logical_order_value("status", "PENDING") is None


# --- TradingManager -------------------------------------------------------------


def test_the_trading_manager_signal_argument_is_the_configured_keyword(adapter):
    assert adapter.trading_manager_signal_argument() == "session_config"
    with host_settings(TRADING_MANAGER_SIGNAL_ARGUMENT=None):
        assert get_host_adapter().trading_manager_signal_argument() is None


def test_the_example_hosts_count_is_its_bots_and_the_packages_pairs_in_one_query(
    user, django_assert_num_queries
):
    from tests.factories import make_plan, make_subscription
    from trading.quota import pairs_in_use

    hooked, botted, both = (baker.make("trading.PairConfig", user=user) for _ in range(3))
    managed, invested = (baker.make("trading.PairConfig", user=user, is_managed=True) for _ in "ab")
    for pair_config in (hooked, both):
        baker.make(CustomBotWebhook, user=user, pair_config=pair_config, is_active=True)
    baker.make(CustomBotWebhook, user=user, is_active=False)
    for pair_config in (botted, both, managed):
        baker.make("trading.Bot", user=user, pair_config=pair_config)
    investment = make_subscription(user, plan=make_plan(PlanType.MANAGED_BOT, slug="managed"))
    baker.make(
        "subscriptions.ManagedBotPerformance",
        user=user,
        managed_bot=invested,
        subscription=investment,
    )
    with django_assert_num_queries(1):
        assert pairs_in_use(user, PlanType.CUSTOM_BOT) == {hooked.pk, botted.pk, both.pk}
    with django_assert_num_queries(1):
        assert pairs_in_use(user, PlanType.MANAGED_BOT) == {managed.pk, invested.pk}
