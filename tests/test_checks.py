"""Every system check id, one by one (called directly), plus `manage.py check`."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from django_torgovo_subscriptions.checks import check_settings
from django_torgovo_subscriptions.host import DefaultHostAdapter, ExchangeCredentials
from example_project import settings as example

# The example host as deployed: its PUBLIC_BASE_URL environment variable set
# (unset, a server without DEBUG warns W040).
BASE = {**example.TORGOVO_SUBSCRIPTIONS, "PUBLIC_BASE_URL": "https://torgovo.example"}


def config(**overrides):
    """The example host's settings with some entries (or dict entries) replaced."""
    merged = dict(BASE)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(BASE.get(key), dict):
            value = {**BASE[key], **value}
        merged[key] = value
    return merged


def ids(**overrides):
    with override_settings(TORGOVO_SUBSCRIPTIONS=config(**overrides)):
        return [message.id for message in check_settings()]


def messages():
    return {m.id: m for m in check_settings()}


@pytest.mark.django_db  # Django 6.1's model checks open the database
def test_the_example_host_is_clean(settings):
    settings.DEBUG = example.DEBUG  # as the demo runs (DJANGO_DEBUG unset)
    assert settings.DEBUG is True
    assert check_settings() == []
    out = StringIO()
    call_command("check", stdout=out)
    assert "no issues" in out.getvalue()


@pytest.mark.django_db
def test_the_example_host_without_debug_asks_only_for_public_base_url(settings):
    # DJANGO_DEBUG=0 and no PUBLIC_BASE_URL in the environment: webhook URLs
    # follow the request's Host, which a deployment behind a proxy must fix.
    settings.DEBUG = False
    assert [message.id for message in check_settings()] == ["subscriptions.W040"]
    with override_settings(TORGOVO_SUBSCRIPTIONS=config(PUBLIC_BASE_URL="https://t.example")):
        assert check_settings() == []


@pytest.mark.django_db
def test_manage_py_check_fails_on_a_wrong_setting():
    with override_settings(TORGOVO_SUBSCRIPTIONS={**BASE, "DEFAULT_CURRENCY": "usd"}):
        with pytest.raises(SystemCheckError, match=r"subscriptions\.E013"):
            call_command("check")


def test_e001_pair_config_model_missing_or_wrong(settings):
    settings.TORGOVO_SUBSCRIPTIONS = BASE
    settings.TORGOVO_PAIR_CONFIG_MODEL = "trading.Nope"
    found = messages()
    assert list(found) == ["subscriptions.E001"]
    assert "has not been installed" in found["subscriptions.E001"].msg
    assert "trading.PairConfig" in found["subscriptions.E001"].hint
    settings.TORGOVO_PAIR_CONFIG_MODEL = "PairConfig"
    assert "form 'app_label.ModelName'" in messages()["subscriptions.E001"].msg
    del settings.TORGOVO_PAIR_CONFIG_MODEL
    assert messages()["subscriptions.E001"].msg == "TORGOVO_PAIR_CONFIG_MODEL is not set."


def test_e002_order_model_wrong(settings):
    settings.TORGOVO_SUBSCRIPTIONS = BASE
    settings.TORGOVO_ORDER_MODEL = "trading.Orders"
    assert list(messages()) == ["subscriptions.E002"]


def test_e003_settings_not_a_dict():
    with override_settings(TORGOVO_SUBSCRIPTIONS=["TRADING_MANAGER_CLASS"]):
        assert [m.id for m in check_settings()] == ["subscriptions.E003"]


def test_e004_unknown_key():
    with override_settings(TORGOVO_SUBSCRIPTIONS={**BASE, "TRADING_MANGER_CLASS": "x"}):
        found = messages()
    assert list(found) == ["subscriptions.E004"]
    assert "'TRADING_MANGER_CLASS'" in found["subscriptions.E004"].msg


def test_e005_dotted_path_does_not_import():
    assert ids(TRADING_MANAGER_CLASS="trading.bot_manager.Missing") == ["subscriptions.E005"]
    assert ids(HOST_ADAPTER_CLASS="tests.test_checks.Missing") == ["subscriptions.E005"]
    assert ids(CREDENTIALS_GETTER="no.such.module") == ["subscriptions.E005"]
    assert ids(CREDENTIALS_GETTER=42) == ["subscriptions.E005"]


def test_e006_trading_manager_without_the_contract_methods():
    with override_settings(
        TORGOVO_SUBSCRIPTIONS={**BASE, "TRADING_MANAGER_CLASS": "decimal.Decimal"}
    ):
        found = messages()
    assert list(found) == ["subscriptions.E006"]
    assert "create_bot or start_bot" in found["subscriptions.E006"].msg


def test_w001_host_start_bot_cannot_receive_the_signal():
    assert ids(TRADING_MANAGER_SIGNAL_ARGUMENT="trade") == ["subscriptions.W001"]
    assert ids(TRADING_MANAGER_SIGNAL_ARGUMENT=None) == []


def test_e007_order_field_map_names_a_missing_field():
    with override_settings(TORGOVO_SUBSCRIPTIONS=config(ORDER_FIELDS={"fee": "commission"})):
        found = messages()
    assert list(found) == ["subscriptions.E007"]
    assert "'commission'" in found["subscriptions.E007"].msg
    assert found["subscriptions.E007"].obj._meta.label == "trading.Order"


def test_e008_required_order_field_unset():
    assert ids(ORDER_FIELDS={"price": None}) == ["subscriptions.E008"]


def test_e009_order_value_not_a_host_choice():
    with override_settings(
        TORGOVO_SUBSCRIPTIONS=config(
            ORDER_VALUES={"status": {"executed": "DONE", "failed": "FAILED"}}
        )
    ):
        found = messages()
    assert list(found) == ["subscriptions.E009"]
    assert "'FILLED'" in found["subscriptions.E009"].hint


def test_e010_pair_config_field_map_names_a_missing_field():
    assert ids(PAIR_CONFIG_FIELDS={"owner": "owner"}) == ["subscriptions.E010"]


def test_e011_credential_path_cannot_be_read():
    with override_settings(
        TORGOVO_SUBSCRIPTIONS=config(CREDENTIALS={"API_KEY": "profile.api_key"})
    ):
        found = messages()
    assert list(found) == ["subscriptions.E011"]
    assert "accounts.User has no field or attribute 'profile'" in found["subscriptions.E011"].msg
    # A relation is followed: the user's auth token exists, its 'nope' does not.
    assert ids(CREDENTIALS={"API_KEY": "auth_token.nope"}) == ["subscriptions.E011"]
    assert ids(CREDENTIALS={"API_KEY": "auth_token.key"}) == []


def test_e012_credential_path_not_a_string():
    assert ids(CREDENTIALS={"DEMO": None}) == ["subscriptions.E012"]


def test_a_credentials_getter_replaces_the_paths():
    assert (
        ids(CREDENTIALS={"DEMO": None}, CREDENTIALS_GETTER="tests.test_host.profile_credentials")
        == []
    )


def test_e013_currency():
    assert ids(DEFAULT_CURRENCY="dollars") == ["subscriptions.E013"]


def test_e014_dict_setting_not_a_dict():
    assert ids(ORDER_FIELDS=["user"]) == ["subscriptions.E014"]


@pytest.mark.parametrize(
    "rules",
    [
        "/api/",
        [{"prefix": "api/"}],
        [{"prefix": "/api/", "plan_type": "gold"}],
        [{"prefix": "/api/", "plans": "custom_bot"}],
    ],
)
def test_e015_protected_paths_shape(rules):
    assert ids(PROTECTED_PATHS=rules) == ["subscriptions.E015"]


def test_valid_protected_paths_pass():
    assert (
        ids(PROTECTED_PATHS=[{"prefix": "/api/x/", "plan_type": "managed_bot", "feature": "f"}])
        == []
    )


def test_w002_orders_without_a_creation_time():
    assert ids(ORDER_FIELDS={"created_at": None}) == ["subscriptions.W002"]


def test_e016_host_adapter_class_not_a_default_adapter_subclass():
    with override_settings(
        TORGOVO_SUBSCRIPTIONS=config(HOST_ADAPTER_CLASS="tests.test_host.profile_credentials")
    ):
        found = messages()
    assert list(found) == ["subscriptions.E016"]
    assert "DefaultHostAdapter" in found["subscriptions.E016"].msg
    assert "Subclass django_torgovo_subscriptions.host.DefaultHostAdapter" in (
        found["subscriptions.E016"].hint
    )
    assert ids(HOST_ADAPTER_CLASS=None) == ["subscriptions.E016"]


class PlainAdapter(DefaultHostAdapter):
    pass


def test_a_host_adapter_subclass_passes():
    assert ids(HOST_ADAPTER_CLASS="tests.test_checks.PlainAdapter") == []


class MarketColumnAdapter(DefaultHostAdapter):
    """Names PairConfig and Order fields of its own, outside the settings."""

    def pair_config_field(self, name):
        return "market" if name == "symbol" else super().pair_config_field(name)

    def order_field(self, name):
        return "commission" if name == "fee" else super().order_field(name)

    def order_value(self, field, logical):
        return (
            "DONE"
            if (field, logical) == ("status", "executed")
            else super().order_value(field, logical)
        )


def test_field_map_checks_validate_what_the_adapter_answers():
    with override_settings(
        TORGOVO_SUBSCRIPTIONS=config(HOST_ADAPTER_CLASS="tests.test_checks.MarketColumnAdapter")
    ):
        found = {m.id: m for m in check_settings()}
    assert sorted(found) == ["subscriptions.E007", "subscriptions.E009", "subscriptions.E010"]
    assert "'commission'" in found["subscriptions.E007"].msg
    assert "'DONE'" in found["subscriptions.E009"].msg
    assert "'market'" in found["subscriptions.E010"].msg


class OwnCredentialsAdapter(DefaultHostAdapter):
    def get_credentials(self, user):
        return ExchangeCredentials(api_key="", api_secret="", demo=True)


def test_an_adapter_with_its_own_get_credentials_replaces_the_paths():
    assert ids(CREDENTIALS={"DEMO": None}) == ["subscriptions.E012"]
    assert (
        ids(
            CREDENTIALS={"DEMO": None},
            HOST_ADAPTER_CLASS="tests.test_checks.OwnCredentialsAdapter",
        )
        == []
    )


class NoSignalAdapter(DefaultHostAdapter):
    def trading_manager_signal_argument(self):
        return "trade"


def test_w001_asks_the_adapter_for_the_signal_keyword():
    assert ids(HOST_ADAPTER_CLASS="tests.test_checks.NoSignalAdapter") == ["subscriptions.W001"]


def test_an_unusable_host_adapter_skips_the_checks_that_need_it():
    assert ids(HOST_ADAPTER_CLASS="nowhere.Adapter", ORDER_FIELDS={"fee": "commission"}) == [
        "subscriptions.E005"
    ]


def test_e010_covers_the_name_and_minimum_investment_mappings():
    assert ids(PAIR_CONFIG_FIELDS={"name": "title"}) == ["subscriptions.E010"]
    assert ids(PAIR_CONFIG_FIELDS={"minimum_investment": "minimum"}) == ["subscriptions.E010"]
    assert ids(PAIR_CONFIG_FIELDS={"minimum_investment": "order_size"}) == []


def test_e062_minimum_investment_field_is_not_a_number():
    with override_settings(
        TORGOVO_SUBSCRIPTIONS=config(PAIR_CONFIG_FIELDS={"minimum_investment": "symbol"})
    ):
        found = messages()
    assert list(found) == ["subscriptions.E062"]
    assert "trading.PairConfig.symbol" in found["subscriptions.E062"].msg


@pytest.mark.parametrize("value", ["managed", [1], {"managed": True}])
def test_e060_profit_order_sources_shape(value):
    assert ids(PROFIT_ORDER_SOURCES=value) == ["subscriptions.E060"]


def test_e061_profit_order_sources_need_a_source_field():
    assert ids(PROFIT_ORDER_SOURCES=["managed"]) == []
    found = ids(PROFIT_ORDER_SOURCES=["managed"], ORDER_FIELDS={"source": None})
    assert found == ["subscriptions.E061"]
