"""
The host contract: how the package reaches the host's models and user data.

Nothing else in the package names a host field directly; it goes through the
helpers here, which read the field maps from ``subscriptions_settings``.
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


# --- exchange credentials -------------------------------------------------


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


def get_credentials(user: Any) -> ExchangeCredentials:
    """Read the user's exchange API key, secret and Demo flag from the host."""
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
        # A one-to-one profile that was never created: no credentials.
        return ExchangeCredentials(api_key="", api_secret="", demo=True)
    return ExchangeCredentials(api_key=api_key or "", api_secret=api_secret or "", demo=bool(demo))


# --- PairConfig -----------------------------------------------------------


def pair_config_field(name: str) -> str | None:
    """The host PairConfig field for a logical name (owner, symbol, exchange...)."""
    return subscriptions_settings.PAIR_CONFIG_FIELDS.get(name)


def pair_config_value(pair_config: Any, name: str, default: Any = None) -> Any:
    field = pair_config_field(name)
    if not field:
        return default
    return getattr(pair_config, field)


def tradable_pair_configs(user: Any, *, exclude_managed: bool = False) -> models.QuerySet:
    """PairConfigs the user may trade: their own, or all when they are platform-wide;
    active ones only where the host has the flag, and no managed bots if asked."""
    queryset = get_pair_config_model()._default_manager.all()
    active_field = pair_config_field("is_active")
    if active_field:
        queryset = queryset.filter(**{active_field: True})
    managed_field = pair_config_field("is_managed")
    if exclude_managed and managed_field:
        queryset = queryset.exclude(**{managed_field: True})
    owner_field = pair_config_field("owner")
    if owner_field:
        queryset = queryset.filter(**{owner_field: user})
    return queryset


def can_trade(user: Any, pair_config: Any, *, exclude_managed: bool = False) -> bool:
    """``pair_config in tradable_pair_configs(user, ...)`` for a loaded row, without a query."""
    if not pair_config_value(pair_config, "is_active", default=True):
        return False
    if exclude_managed and pair_config_value(pair_config, "is_managed", default=False):
        return False
    owner_field = pair_config_field("owner")
    if not owner_field:
        return True
    attname = type(pair_config)._meta.get_field(owner_field).attname
    return getattr(pair_config, attname) == user.pk


# --- Order ----------------------------------------------------------------


def order_field(name: str) -> str | None:
    """The host Order field for a logical name (user, side, quantity...), or None."""
    return subscriptions_settings.ORDER_FIELDS.get(name)


def order_value(field: str, logical: str) -> Any:
    """The host's stored value for a logical choice ("buy", "executed", "webhook")."""
    values = subscriptions_settings.ORDER_VALUES.get(field, {})
    return values.get(logical, logical)


def logical_order_value(field: str, stored: Any) -> str | None:
    """The logical value for a host's stored choice; None when it is not mapped."""
    for logical, value in subscriptions_settings.ORDER_VALUES.get(field, {}).items():
        if value == stored:
            return logical
    return None


@functools.cache
def _model_field_names(model: type[models.Model]) -> frozenset[str]:
    return frozenset(f.name for f in model._meta.get_fields())


def model_has_field(model: type[models.Model], name: str) -> bool:
    return name in _model_field_names(model)


def clear_caches() -> None:
    """Forget cached model metadata (called when the settings change in tests)."""
    _model_field_names.cache_clear()
