import pytest
from django.test import override_settings

from django_torgovo_subscriptions.conf import DEFAULTS, subscriptions_settings
from django_torgovo_subscriptions.trading.paper import PaperTradingManager


def test_default_is_used_when_the_host_does_not_set_a_key():
    with override_settings(TORGOVO_SUBSCRIPTIONS={}):
        assert subscriptions_settings.DEFAULT_CURRENCY == DEFAULTS["DEFAULT_CURRENCY"] == "USD"
        assert subscriptions_settings.TRADING_MANAGER_CLASS is PaperTradingManager


def test_dotted_paths_are_imported_and_cache_is_reloaded_on_setting_changed():
    from trading.bot_manager import TradingManager

    assert subscriptions_settings.TRADING_MANAGER_CLASS is TradingManager
    with override_settings(TORGOVO_SUBSCRIPTIONS={"DEFAULT_CURRENCY": "EUR"}):
        assert subscriptions_settings.TRADING_MANAGER_CLASS is PaperTradingManager
        assert subscriptions_settings.DEFAULT_CURRENCY == "EUR"
    assert subscriptions_settings.TRADING_MANAGER_CLASS is TradingManager
    assert subscriptions_settings.DEFAULT_CURRENCY == "USD"


def test_dict_settings_are_merged_over_their_defaults():
    with override_settings(
        TORGOVO_SUBSCRIPTIONS={
            "ORDER_FIELDS": {"fee": "commission"},
            "ORDER_VALUES": {"side": {"buy": "B"}},
        }
    ):
        fields = subscriptions_settings.ORDER_FIELDS
        assert fields["fee"] == "commission"
        assert fields["quantity"] == "quantity"  # default kept
        assert subscriptions_settings.ORDER_VALUES["side"] == {"buy": "B", "sell": "sell"}


def test_unknown_setting_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="Invalid TORGOVO_SUBSCRIPTIONS setting: 'NOPE'"):
        subscriptions_settings.NOPE


def test_import_error_names_the_setting_and_the_value():
    with override_settings(TORGOVO_SUBSCRIPTIONS={"TRADING_MANAGER_CLASS": "nowhere.Manager"}):
        with pytest.raises(ImportError) as info:
            subscriptions_settings.TRADING_MANAGER_CLASS
    message = str(info.value)
    assert "nowhere.Manager" in message
    assert "TORGOVO_SUBSCRIPTIONS['TRADING_MANAGER_CLASS']" in message
