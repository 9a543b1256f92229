"""
System checks of the managed-bot settings (ids subscriptions.E060-E069).

``PAIR_CONFIG_FIELDS`` names are checked against the host's PairConfig with
the others (E010); here: that the ``minimum_investment`` field holds a number
(E062), that ``PROFIT_ORDER_SOURCES`` is a list of logical sources (E060) the
host's Order can be filtered by (E061), and the managed-signal settings
(``MANAGED_EXECUTION``, ``MANAGED_CELERY_QUEUE``, ``MANAGED_CHUNK_SIZE``:
E065-E068). Run by ``checks.check_settings``.
"""

from __future__ import annotations

from django.core.checks import CheckMessage, Error
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from django_torgovo_subscriptions import host
from django_torgovo_subscriptions.checks.custom_bot import ExecutionSettings, check_execution
from django_torgovo_subscriptions.conf import subscriptions_settings

NUMBER_FIELDS = (models.DecimalField, models.IntegerField, models.FloatField)


def check_managed_bot_settings(adapter: host.DefaultHostAdapter) -> list[CheckMessage]:
    return [*check_minimum_investment_field(adapter), *check_order_sources(adapter)]


def check_minimum_investment_field(adapter: host.DefaultHostAdapter) -> list[CheckMessage]:
    field_name = adapter.pair_config_field("minimum_investment")
    model = host.get_pair_config_model()
    if not field_name:
        return []
    try:
        field = model._meta.get_field(field_name)
    except FieldDoesNotExist:
        return []  # reported as E010
    if isinstance(field, NUMBER_FIELDS):
        return []
    return [
        Error(
            f"PAIR_CONFIG_FIELDS['minimum_investment'] names {model._meta.label}.{field_name}, "
            "which does not hold a number.",
            hint="Name a DecimalField (or an integer or float field), or None.",
            obj=model,
            id="subscriptions.E062",
        )
    ]


def check_order_sources(adapter: host.DefaultHostAdapter) -> list[CheckMessage]:
    sources = subscriptions_settings.raw("PROFIT_ORDER_SOURCES")
    if sources is None:
        return []
    if not isinstance(sources, list | tuple) or not all(isinstance(s, str) for s in sources):
        return [
            Error(
                f"PROFIT_ORDER_SOURCES must be None or a list of source names, not {sources!r}.",
                hint='For example ["managed"] (logical ORDER_VALUES["source"] names).',
                id="subscriptions.E060",
            )
        ]
    if not adapter.order_field("source"):
        return [
            Error(
                "PROFIT_ORDER_SOURCES is set but ORDER_FIELDS['source'] is not, so orders "
                "cannot be told apart by source.",
                hint="Name the Order field holding the order's source, or set "
                "PROFIT_ORDER_SOURCES to None to count every order.",
                id="subscriptions.E061",
            )
        ]
    return []


MANAGED_EXECUTION = ExecutionSettings(
    mode="MANAGED_EXECUTION",
    queue="MANAGED_CELERY_QUEUE",
    invalid_mode="subscriptions.E065",
    no_celery="subscriptions.E066",
    invalid_queue="subscriptions.E067",
    hint="'inline' trades a managed signal for every investor in the caller's process; "
    "'celery' in Celery tasks, a chunk of investors each.",
)


def check_managed_settings() -> list[CheckMessage]:
    raw = subscriptions_settings.raw
    errors = check_execution(
        raw("MANAGED_EXECUTION"), raw("MANAGED_CELERY_QUEUE"), MANAGED_EXECUTION
    )
    chunk = raw("MANAGED_CHUNK_SIZE")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        errors.append(
            Error(
                f"MANAGED_CHUNK_SIZE must be a positive integer, not {chunk!r}.",
                id="subscriptions.E068",
            )
        )
    return errors
