"""
The host contract: how the package reaches the host's models and user data.

Nothing else in the package names a host field directly. The host's two model
classes come from the top-level settings that migrations name
(``get_pair_config_model()``, ``get_order_model()``); every other question the
package asks about the host goes to one adapter, ``get_host_adapter()``, an
instance of ``TORGOVO_SUBSCRIPTIONS["HOST_ADAPTER_CLASS"]``::

    adapter = get_host_adapter()
    adapter.get_credentials(user)                   # ExchangeCredentials
    adapter.tradable_pair_configs(user)             # QuerySet of the host's PairConfig
    adapter.pair_config_value(pair_config, "symbol")
    adapter.order_field("quantity")                 # the host Order's field name

``DefaultHostAdapter`` answers from the settings (``CREDENTIALS``,
``CREDENTIALS_GETTER``, ``PAIR_CONFIG_FIELDS``, ``PAIRS_IN_USE_FUNCTION``,
``ORDER_FIELDS``, ``ORDER_VALUES``, ``TRADING_MANAGER_SIGNAL_ARGUMENT``). A host
whose data does not fit them subclasses it, overrides the one method that
differs, and names the subclass in ``HOST_ADAPTER_CLASS``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from django_torgovo_subscriptions.conf import (
    ORDER_MODEL_SETTING,
    PAIR_CONFIG_MODEL_SETTING,
    subscriptions_settings,
)

REQUIRED_ORDER_FIELDS = ("user", "side", "quantity", "price", "status")


def model_from_setting(setting_name: str, value: str) -> type[models.Model]:
    try:
        return apps.get_model(value, require_ready=False)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{setting_name} must be of the form 'app_label.ModelName', not {value!r}."
        ) from exc
    except LookupError as exc:
        raise ImproperlyConfigured(
            f"{setting_name} refers to model {value!r} that has not been installed."
        ) from exc


def get_pair_config_model() -> type[models.Model]:
    """The host's PairConfig model class."""
    return model_from_setting(PAIR_CONFIG_MODEL_SETTING, subscriptions_settings.pair_config_model)


def get_order_model() -> type[models.Model]:
    """The host's Order model class."""
    return model_from_setting(ORDER_MODEL_SETTING, subscriptions_settings.order_model)


def resolve_path(obj: Any, path: str) -> Any:
    """Follow a dotted attribute path ("trading_profile.api_key"); None stops the walk."""
    for part in path.split("."):
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class ExchangeCredentials:
    """A user's exchange credentials. repr() never shows the key or secret."""

    api_key: str
    api_secret: str
    demo: bool

    def __repr__(self) -> str:
        shown = "set" if self.api_key else "empty"
        return f"ExchangeCredentials(api_key=<{shown}>, api_secret=<hidden>, demo={self.demo})"

    __str__ = __repr__

    @property
    def is_complete(self) -> bool:
        return bool(self.api_key and self.api_secret)


NO_CREDENTIALS = ExchangeCredentials(api_key="", api_secret="", demo=True)


class DefaultHostAdapter:
    """
    Answers the package's questions about the host from the settings.

    To change one answer, subclass this class, override that method and set
    ``TORGOVO_SUBSCRIPTIONS["HOST_ADAPTER_CLASS"]`` to the subclass's dotted
    path. The class is instantiated once, without arguments, and its instance
    shared: keep no per-request state on it.
    """

    # --- exchange credentials -------------------------------------------------

    def get_credentials(self, user: Any) -> ExchangeCredentials:
        """The user's exchange API key, secret and Demo flag.

        ``CREDENTIALS_GETTER(user)`` when that is set, else the attribute
        paths of ``CREDENTIALS``; a one-to-one profile that does not exist
        means no credentials (and Demo)."""
        getter = subscriptions_settings.CREDENTIALS_GETTER
        if getter is not None:
            credentials = getter(user)
            if not isinstance(credentials, ExchangeCredentials):
                raise ImproperlyConfigured(
                    "CREDENTIALS_GETTER must return an ExchangeCredentials instance."
                )
            return credentials
        paths = subscriptions_settings.CREDENTIALS
        try:
            api_key = resolve_path(user, paths["API_KEY"])
            api_secret = resolve_path(user, paths["API_SECRET"])
            demo = resolve_path(user, paths["DEMO"])
        except models.ObjectDoesNotExist:
            return NO_CREDENTIALS
        return ExchangeCredentials(
            api_key=api_key or "", api_secret=api_secret or "", demo=bool(demo)
        )

    # --- PairConfig -----------------------------------------------------------

    def pair_config_field(self, name: str) -> str | None:
        """The host PairConfig field for a logical name (owner, symbol, exchange,
        is_active, is_managed, name, minimum_investment), or None when the host
        has none (``PAIR_CONFIG_FIELDS``)."""
        return subscriptions_settings.PAIR_CONFIG_FIELDS.get(name)

    def pair_config_value(self, pair_config: Any, name: str, default: Any = None) -> Any:
        """A PairConfig's value for a logical field; ``default`` when the host has none."""
        field = self.pair_config_field(name)
        if not field:
            return default
        return getattr(pair_config, field)

    def pair_config_name(self, pair_config: Any) -> str:
        """The name shown to people for a PairConfig: the host's ``name`` field when
        mapped and not empty, else ``str(pair_config)``."""
        name = self.pair_config_value(pair_config, "name")
        return str(name) if name not in (None, "") else str(pair_config)

    def tradable_pair_configs(self, user: Any, *, exclude_managed: bool = False) -> models.QuerySet:
        """PairConfigs the user may trade: their own, or all when they are platform-wide;
        active ones only where the host has the flag, and no managed bots if asked."""
        queryset = get_pair_config_model()._default_manager.all()
        active_field = self.pair_config_field("is_active")
        if active_field:
            queryset = queryset.filter(**{active_field: True})
        managed_field = self.pair_config_field("is_managed")
        if exclude_managed and managed_field:
            queryset = queryset.exclude(**{managed_field: True})
        owner_field = self.pair_config_field("owner")
        if owner_field:
            queryset = queryset.filter(**{owner_field: user})
        return queryset

    def can_trade(self, user: Any, pair_config: Any, *, exclude_managed: bool = False) -> bool:
        """``pair_config in tradable_pair_configs(user, ...)`` for one loaded row.

        Answered without a query from the field map; a subclass that overrides
        ``tradable_pair_configs()`` alone is asked through it (one query), so
        the two never disagree."""
        if type(self).tradable_pair_configs is not DefaultHostAdapter.tradable_pair_configs:
            tradable = self.tradable_pair_configs(user, exclude_managed=exclude_managed)
            return tradable.filter(pk=pair_config.pk).exists()
        if not self.pair_config_value(pair_config, "is_active", default=True):
            return False
        if exclude_managed and self.pair_config_value(pair_config, "is_managed", default=False):
            return False
        owner_field = self.pair_config_field("owner")
        if not owner_field:
            return True
        attname = type(pair_config)._meta.get_field(owner_field).attname
        return getattr(pair_config, attname) == user.pk

    def managed_pair_configs(self) -> models.QuerySet | None:
        """Active PairConfigs the host flags as managed bots; None when it has no flag."""
        managed_field = self.pair_config_field("is_managed")
        if not managed_field:
            return None
        queryset = get_pair_config_model()._default_manager.filter(**{managed_field: True})
        active_field = self.pair_config_field("is_active")
        if active_field:
            queryset = queryset.filter(**{active_field: True})
        return queryset

    # --- pair quota -------------------------------------------------------------

    def pairs_in_use(self, user: Any, plan_type: str) -> set[Any]:
        """PairConfig ids the user trades under ``plan_type``, counted against the plan's
        ``max_trading_pairs`` (``PAIRS_IN_USE_FUNCTION``)."""
        counter = subscriptions_settings.PAIRS_IN_USE_FUNCTION
        return set(counter(user, plan_type))

    # --- Order ------------------------------------------------------------------

    def order_field(self, name: str) -> str | None:
        """The host Order field for a logical name (user, side, quantity...), or None
        when the host has none (``ORDER_FIELDS``)."""
        return subscriptions_settings.ORDER_FIELDS.get(name)

    def order_value(self, field: str, logical: str) -> Any:
        """The host's stored value for a logical choice of a logical field
        (``order_value("status", "executed")``); unmapped values pass through
        (``ORDER_VALUES``)."""
        values = subscriptions_settings.ORDER_VALUES.get(field, {})
        return values.get(logical, logical)

    def logical_order_value(self, field: str, stored: Any) -> str | None:
        """The logical value for a host's stored choice; None when it is not mapped."""
        for logical, value in subscriptions_settings.ORDER_VALUES.get(field, {}).items():
            if value == stored:
                return logical
        return None

    # --- TradingManager ---------------------------------------------------------

    def trading_manager_signal_argument(self) -> str | None:
        """The keyword under which the host TradingManager's ``start_bot()`` takes the
        trade signal dict; None: it takes none (``TRADING_MANAGER_SIGNAL_ARGUMENT``)."""
        return subscriptions_settings.TRADING_MANAGER_SIGNAL_ARGUMENT


@functools.cache
def get_host_adapter() -> DefaultHostAdapter:
    """The configured host adapter, created on first use and shared."""
    adapter_class = subscriptions_settings.HOST_ADAPTER_CLASS
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, DefaultHostAdapter)):
        raise ImproperlyConfigured(
            f"HOST_ADAPTER_CLASS must be a subclass of {DefaultHostAdapter.__module__}."
            f"{DefaultHostAdapter.__qualname__}, not {adapter_class!r}."
        )
    return adapter_class()


@functools.cache
def _model_field_names(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.get_fields())


def model_has_field(model: type[models.Model], name: str) -> bool:
    return name in _model_field_names(model)


def clear_caches() -> None:
    """Forget the adapter and cached model metadata (called when the settings change)."""
    get_host_adapter.cache_clear()
    _model_field_names.cache_clear()
