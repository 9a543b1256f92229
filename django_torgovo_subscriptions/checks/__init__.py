"""
System checks for the package's settings and the host models they name.

Every problem a host can make in its settings is reported by ``manage.py
check`` with a stable id (``subscriptions.E0xx``/``W0xx``) and a hint, rather
than as a traceback on the first request. Ids are never reused.

The field-name checks validate what the host adapter answers against the host's
models; with the default adapter those answers are the settings' field maps.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models

from django_torgovo_subscriptions import host
from django_torgovo_subscriptions.checks.custom_bot import check_webhook_settings
from django_torgovo_subscriptions.checks.managed_bot import (
    check_managed_bot_settings,
    check_managed_settings,
)
from django_torgovo_subscriptions.checks.payments import check_payment_settings
from django_torgovo_subscriptions.checks.throttling import check_throttle_settings
from django_torgovo_subscriptions.conf import (
    DEFAULTS,
    IMPORT_STRINGS,
    MERGED_DICTS,
    ORDER_MODEL_SETTING,
    PAIR_CONFIG_MODEL_SETTING,
    SETTINGS_NAME,
    import_from_string,
    subscriptions_settings,
)

TAG = "subscriptions"
CREDENTIAL_KEYS = ("API_KEY", "API_SECRET", "DEMO")


@register(TAG)
def check_settings(app_configs: Iterable[Any] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """Run every check; later ones are skipped when the settings dict is unusable."""
    errors: list[CheckMessage] = []
    errors += check_model_settings()
    user_settings = getattr(settings, SETTINGS_NAME, {})
    if not isinstance(user_settings, dict):
        return [
            *errors,
            Error(
                f"{SETTINGS_NAME} must be a dict.",
                hint=f"Set {SETTINGS_NAME} = {{...}} with the keys listed in the README.",
                id="subscriptions.E003",
            ),
        ]
    errors += check_unknown_keys(user_settings)
    errors += check_dict_settings()
    if any(e.id == "subscriptions.E014" for e in errors):
        return errors
    errors += check_import_strings()
    errors += check_host_adapter()
    adapter = configured_host_adapter()
    errors += check_trading_manager(adapter)
    errors += check_currency()
    if adapter is not None:
        if not any(e.id in ("subscriptions.E001", "subscriptions.E002") for e in errors):
            errors += check_order_fields(adapter)
            errors += check_order_values(adapter)
            errors += check_pair_config_fields(adapter)
            errors += check_managed_bot_settings(adapter)
        errors += check_credentials(adapter)
    errors += check_protected_paths()
    errors += check_payment_settings()
    errors += check_webhook_settings()
    errors += check_throttle_settings()
    errors += check_managed_settings()
    return errors


def check_model_settings() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for setting_name, check_id, example in (
        (PAIR_CONFIG_MODEL_SETTING, "subscriptions.E001", "trading.PairConfig"),
        (ORDER_MODEL_SETTING, "subscriptions.E002", "trading.Order"),
    ):
        value = getattr(settings, setting_name, None)
        hint = f"Set {setting_name} = '{example}' (app_label.ModelName of an installed model)."
        if not value:
            errors.append(Error(f"{setting_name} is not set.", hint=hint, id=check_id))
            continue
        try:
            host.model_from_setting(setting_name, value)
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), hint=hint, id=check_id))
    return errors


def check_unknown_keys(user_settings: dict[str, Any]) -> list[CheckMessage]:
    return [
        Error(
            f"{SETTINGS_NAME} has an unknown key {key!r}.",
            hint="Check the spelling against the settings table in the README.",
            id="subscriptions.E004",
        )
        for key in sorted(set(user_settings) - set(DEFAULTS))
    ]


def check_dict_settings() -> list[CheckMessage]:
    return [
        Error(
            f"{SETTINGS_NAME}[{name!r}] must be a dict.",
            hint=f"The default is {DEFAULTS[name]!r}; override only the entries that differ.",
            id="subscriptions.E014",
        )
        for name in MERGED_DICTS
        if not isinstance(subscriptions_settings.raw(name), dict)
    ]


def check_import_strings() -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name in IMPORT_STRINGS:
        value = subscriptions_settings.raw(name)
        if value is None or callable(value):
            continue
        if not isinstance(value, str):
            errors.append(
                Error(
                    f"{SETTINGS_NAME}[{name!r}] must be a dotted path string.",
                    hint="For example 'myapp.module.ClassName'.",
                    id="subscriptions.E005",
                )
            )
            continue
        try:
            import_from_string(value, name)
        except ImportError as exc:
            errors.append(
                Error(
                    str(exc),
                    hint="Make sure the module is importable and the name is spelled right.",
                    id="subscriptions.E005",
                )
            )
    return errors


def configured_host_adapter() -> host.DefaultHostAdapter | None:
    """The host adapter, or None when HOST_ADAPTER_CLASS is unusable (E005, E016)."""
    try:
        return host.get_host_adapter()
    except (ImportError, ImproperlyConfigured):
        return None


def check_host_adapter() -> list[CheckMessage]:
    """HOST_ADAPTER_CLASS names a DefaultHostAdapter subclass (when it imports at all)."""
    try:
        host.get_host_adapter()
    except ImportError:
        return []  # reported by E005
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="Subclass django_torgovo_subscriptions.host.DefaultHostAdapter and "
                "override only the methods whose answer differs for your host.",
                id="subscriptions.E016",
            )
        ]
    return []


def check_trading_manager(adapter: host.DefaultHostAdapter | None) -> list[CheckMessage]:
    from django_torgovo_subscriptions.trading.base import BaseTradingManager
    from django_torgovo_subscriptions.trading.host_manager import accepts_keyword

    value = subscriptions_settings.raw("TRADING_MANAGER_CLASS")
    try:
        manager_class = subscriptions_settings.TRADING_MANAGER_CLASS
    except ImportError:
        return []  # reported by E005
    missing = [
        m for m in ("create_bot", "start_bot") if not callable(getattr(manager_class, m, None))
    ]
    if missing:
        return [
            Error(
                f"TRADING_MANAGER_CLASS {value!r} has no {' or '.join(missing)}() method.",
                hint="Name a class with create_bot(user, pair_config) and "
                "start_bot(user, pair_config, ...), or subclass "
                "django_torgovo_subscriptions.trading.base.BaseTradingManager.",
                id="subscriptions.E006",
            )
        ]
    if adapter is None or (
        isinstance(manager_class, type) and issubclass(manager_class, BaseTradingManager)
    ):
        return []
    argument = adapter.trading_manager_signal_argument()
    if argument and not accepts_keyword(manager_class.start_bot, argument):
        return [
            Warning(
                f"{value}.start_bot() takes no {argument!r} argument, so it will not "
                "receive the trade signal (side, symbol, quantity, price).",
                hint="Set TRADING_MANAGER_SIGNAL_ARGUMENT to the keyword your start_bot() "
                "takes for the trade details (e.g. 'session_config'), or to None if it "
                "needs none.",
                id="subscriptions.W001",
            )
        ]
    return []


def check_currency() -> list[CheckMessage]:
    currency = subscriptions_settings.raw("DEFAULT_CURRENCY")
    if isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency):
        return []
    return [
        Error(
            f"DEFAULT_CURRENCY must be a three-letter upper-case ISO 4217 code, not {currency!r}.",
            hint="For example 'USD'.",
            id="subscriptions.E013",
        )
    ]


def _field_errors(
    model: type[models.Model], field_map: dict[str, Any], setting_key: str, check_id: str
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for logical, field_name in field_map.items():
        if field_name and not host.model_has_field(model, field_name):
            errors.append(
                Error(
                    f"{setting_key}[{logical!r}] names {field_name!r}, which "
                    f"{model._meta.label} does not have.",
                    hint=f"Use one of {model._meta.label}'s fields, or None if it has none "
                    "for this purpose.",
                    obj=model,
                    id=check_id,
                )
            )
    return errors


def check_order_fields(adapter: host.DefaultHostAdapter) -> list[CheckMessage]:
    model = host.get_order_model()
    field_map = {
        logical: adapter.order_field(logical) for logical in subscriptions_settings.ORDER_FIELDS
    }
    errors = _field_errors(model, field_map, "ORDER_FIELDS", "subscriptions.E007")
    for logical in host.REQUIRED_ORDER_FIELDS:
        if not field_map.get(logical):
            errors.append(
                Error(
                    f"ORDER_FIELDS[{logical!r}] is required but not set.",
                    hint=f"Name the {model._meta.label} field that holds the order's {logical}.",
                    obj=model,
                    id="subscriptions.E008",
                )
            )
    if not field_map.get("created_at"):
        errors.append(
            Warning(
                "ORDER_FIELDS['created_at'] is not set, so managed-bot profits cannot be "
                "calculated (they read orders in time order).",
                hint=f"Name the {model._meta.label} field holding the order's creation time.",
                obj=model,
                id="subscriptions.W002",
            )
        )
    return errors


def check_order_values(adapter: host.DefaultHostAdapter) -> list[CheckMessage]:
    model = host.get_order_model()
    errors: list[CheckMessage] = []
    for logical_field, values in subscriptions_settings.ORDER_VALUES.items():
        field_name = adapter.order_field(logical_field)
        if not field_name or not host.model_has_field(model, field_name):
            continue
        try:
            field = model._meta.get_field(field_name)
        except FieldDoesNotExist:
            continue
        allowed = {str(choice) for choice, _label in (field.flatchoices or [])}
        if not allowed:
            continue
        for logical in values:
            stored = adapter.order_value(logical_field, logical)
            if str(stored) not in allowed:
                errors.append(
                    Error(
                        f"ORDER_VALUES[{logical_field!r}][{logical!r}] is {stored!r}, which is "
                        f"not a choice of {model._meta.label}.{field_name}.",
                        hint=f"Use one of {sorted(allowed)}.",
                        obj=model,
                        id="subscriptions.E009",
                    )
                )
    return errors


def check_pair_config_fields(adapter: host.DefaultHostAdapter) -> list[CheckMessage]:
    model = host.get_pair_config_model()
    field_map = {
        logical: adapter.pair_config_field(logical)
        for logical in subscriptions_settings.PAIR_CONFIG_FIELDS
    }
    return _field_errors(model, field_map, "PAIR_CONFIG_FIELDS", "subscriptions.E010")


def _path_problem(model: type[models.Model], path: str) -> str | None:
    """Why an attribute path cannot be read from instances of ``model``, or None."""
    current: type[models.Model] | None = model
    for part in path.split("."):
        if current is None:
            return None  # past a plain attribute: cannot be checked statically
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:
            if hasattr(current, part):
                current = None
                continue
            return f"{current._meta.label} has no field or attribute {part!r}"
        current = field.related_model if field.is_relation else None
    return None


def check_credentials(adapter: host.DefaultHostAdapter) -> list[CheckMessage]:
    """The CREDENTIALS paths, unless a getter or the adapter's own get_credentials() is used."""
    own_method = type(adapter).get_credentials is not host.DefaultHostAdapter.get_credentials
    if own_method or subscriptions_settings.raw("CREDENTIALS_GETTER"):
        return []
    from django.contrib.auth import get_user_model

    paths = subscriptions_settings.raw("CREDENTIALS")
    user_model = get_user_model()
    errors: list[CheckMessage] = []
    for key in CREDENTIAL_KEYS:
        path = paths.get(key)
        if not isinstance(path, str) or not path:
            errors.append(
                Error(
                    f"CREDENTIALS[{key!r}] must be an attribute path string.",
                    hint="For example 'api_key' or 'trading_profile.api_key'.",
                    id="subscriptions.E012",
                )
            )
            continue
        problem = _path_problem(user_model, path)
        if problem:
            errors.append(
                Error(
                    f"CREDENTIALS[{key!r}] = {path!r} cannot be read: {problem}.",
                    hint="Give the path from the user to the value, e.g. "
                    "'trading_profile.api_key', set CREDENTIALS_GETTER to a callable, or "
                    "override get_credentials() in a HOST_ADAPTER_CLASS.",
                    obj=user_model,
                    id="subscriptions.E011",
                )
            )
    return errors


def check_protected_paths() -> list[CheckMessage]:
    from django_torgovo_subscriptions.models import PlanType

    rules = subscriptions_settings.raw("PROTECTED_PATHS")
    hint = (
        'Use a list of dicts like {"prefix": "/api/bots/", "plan_type": "custom_bot"}; '
        f"plan_type is one of {PlanType.values} or None."
    )
    if not isinstance(rules, list | tuple):
        return [Error("PROTECTED_PATHS must be a list.", hint=hint, id="subscriptions.E015")]
    errors: list[CheckMessage] = []
    for index, rule in enumerate(rules):
        valid = (
            isinstance(rule, dict)
            and isinstance(rule.get("prefix"), str)
            and rule["prefix"].startswith("/")
            and rule.get("plan_type") in (None, *PlanType.values)
            and set(rule) <= {"prefix", "plan_type", "feature"}
        )
        if not valid:
            errors.append(
                Error(
                    f"PROTECTED_PATHS[{index}] is not a valid rule: {rule!r}.",
                    hint=hint,
                    id="subscriptions.E015",
                )
            )
    return errors
