"""
The profit settings, read through ``subscriptions_settings`` and checked here only.

    order_delay()     PROFIT_ORDER_DELAY: seconds (or a timedelta) an order must be
                      old before a recalculation reads it
    pending_window()  PROFIT_PENDING_ORDER_DAYS: days a pending order passed by
                      the cursor is re-checked
    chunk_size()      PROFIT_CHUNK_SIZE: rows fetched per database round trip
    order_sources()   PROFIT_ORDER_SOURCES: the host's stored source values of the
                      orders that count, or None (all of them)

Each is read when called, so ``override_settings`` applies at once, and a
value of the wrong type raises ``ImproperlyConfigured`` naming the setting.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.host import get_host_adapter


def _non_negative_number(name: str, unit: str) -> int | float:
    value = getattr(subscriptions_settings, name)
    if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
        raise ImproperlyConfigured(f"{name} must be a number of {unit} >= 0.")
    return value


def order_delay() -> timedelta:
    if isinstance(subscriptions_settings.PROFIT_ORDER_DELAY, timedelta):
        return subscriptions_settings.PROFIT_ORDER_DELAY
    return timedelta(seconds=_non_negative_number("PROFIT_ORDER_DELAY", "seconds"))


def pending_window() -> timedelta:
    return timedelta(days=_non_negative_number("PROFIT_PENDING_ORDER_DAYS", "days"))


def chunk_size() -> int:
    value = subscriptions_settings.PROFIT_CHUNK_SIZE
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ImproperlyConfigured("PROFIT_CHUNK_SIZE must be a positive integer.")
    return value


def order_sources() -> list | None:
    sources = subscriptions_settings.PROFIT_ORDER_SOURCES
    if sources is None:
        return None
    if not isinstance(sources, list | tuple) or not all(isinstance(s, str) for s in sources):
        raise ImproperlyConfigured("PROFIT_ORDER_SOURCES must be None or a list of source names.")
    adapter = get_host_adapter()
    if not adapter.order_field("source"):
        raise ImproperlyConfigured("PROFIT_ORDER_SOURCES needs ORDER_FIELDS['source'].")
    return [adapter.order_value("source", source) for source in sources]
