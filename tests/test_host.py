"""The host contract: credentials and PairConfig access, on the example host."""

import pytest
from django.test import override_settings
from model_bakery import baker

from django_torgovo_subscriptions import host
from django_torgovo_subscriptions.host import ExchangeCredentials
from example_project import settings as example

pytestmark = pytest.mark.django_db


def profile_credentials(user):
    """A CREDENTIALS_GETTER as a host would write one."""
    return ExchangeCredentials(api_key=f"key-of-{user.username}", api_secret="s", demo=False)


def test_credentials_are_read_through_the_configured_attribute_paths():
    user = baker.make("accounts.User", API="pk_live_123", SECRET="sk_live_456", Demo=False)
    credentials = host.get_credentials(user)
    assert credentials == ExchangeCredentials("pk_live_123", "sk_live_456", demo=False)
    assert credentials.is_complete


def test_credentials_repr_never_shows_the_key_or_secret():
    user = baker.make("accounts.User", API="pk_live_123", SECRET="sk_live_456")
    shown = repr(host.get_credentials(user)) + str(host.get_credentials(user))
    assert "pk_live_123" not in shown and "sk_live_456" not in shown
    assert "demo=True" in shown


def test_credentials_getter_overrides_the_paths():
    user = baker.make("accounts.User", username="ali")
    config = {
        **example.TORGOVO_SUBSCRIPTIONS,
        "CREDENTIALS_GETTER": "tests.test_host.profile_credentials",
    }
    with override_settings(TORGOVO_SUBSCRIPTIONS=config):
        assert host.get_credentials(user).api_key == "key-of-ali"


def test_a_getter_returning_something_else_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    config = {**example.TORGOVO_SUBSCRIPTIONS, "CREDENTIALS_GETTER": "builtins.str"}
    with override_settings(TORGOVO_SUBSCRIPTIONS=config):
        with pytest.raises(ImproperlyConfigured, match="ExchangeCredentials"):
            host.get_credentials(baker.make("accounts.User"))


def test_owned_pair_configs_are_only_the_users_own_and_active_ones():
    user, other = baker.make("accounts.User", _quantity=2)
    mine = baker.make("trading.PairConfig", user=user, is_active=True)
    baker.make("trading.PairConfig", user=user, is_active=False)
    baker.make("trading.PairConfig", user=other, is_active=True)
    assert list(host.tradable_pair_configs(user)) == [mine]


def test_order_values_map_both_ways():
    assert host.order_value("side", "buy") == "BUY"
    assert host.logical_order_value("status", "FILLED") == "executed"
    assert host.logical_order_value("status", "PENDING") is None


def test_can_trade_agrees_with_the_queryset_row_by_row():
    user, other = baker.make("accounts.User", _quantity=2)
    rows = [
        baker.make("trading.PairConfig", user=owner, is_active=active, is_managed=managed)
        for owner in (user, other)
        for active in (True, False)
        for managed in (True, False)
    ]
    for exclude_managed in (False, True):
        allowed = set(host.tradable_pair_configs(user, exclude_managed=exclude_managed))
        assert allowed == {
            r for r in rows if host.can_trade(user, r, exclude_managed=exclude_managed)
        }
        assert len(allowed) == (1 if exclude_managed else 2)
