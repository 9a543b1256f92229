"""The PROFIT_* settings, read and checked in profit.config only."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_torgovo_subscriptions.services.managed_bot.profit.config import (
    chunk_size,
    order_delay,
    pending_window,
)


def configure(settings, **values):
    settings.TORGOVO_SUBSCRIPTIONS = {**settings.TORGOVO_SUBSCRIPTIONS, **values}


def test_the_defaults():
    assert order_delay() == timedelta(seconds=5)
    assert pending_window() == timedelta(days=7)
    assert chunk_size() == 2000


def test_values_are_read_when_called(settings):
    configure(settings, PROFIT_ORDER_DELAY=0.5, PROFIT_PENDING_ORDER_DAYS=0, PROFIT_CHUNK_SIZE=1)
    assert order_delay() == timedelta(seconds=0.5)
    assert pending_window() == timedelta(0)
    assert chunk_size() == 1
    configure(settings, PROFIT_ORDER_DELAY=timedelta(minutes=1))
    assert order_delay() == timedelta(minutes=1)


@pytest.mark.parametrize("value", [-1, True, "5", None])
def test_a_bad_order_delay_names_the_setting(settings, value):
    configure(settings, PROFIT_ORDER_DELAY=value)
    with pytest.raises(ImproperlyConfigured, match="PROFIT_ORDER_DELAY must be a number of"):
        order_delay()


@pytest.mark.parametrize("value", [-0.5, False, "7"])
def test_a_bad_pending_window_names_the_setting(settings, value):
    configure(settings, PROFIT_PENDING_ORDER_DAYS=value)
    with pytest.raises(ImproperlyConfigured, match="PROFIT_PENDING_ORDER_DAYS must be a number"):
        pending_window()


@pytest.mark.parametrize("value", [0, 2.5, True, "100"])
def test_a_bad_chunk_size_names_the_setting(settings, value):
    configure(settings, PROFIT_CHUNK_SIZE=value)
    with pytest.raises(ImproperlyConfigured, match="PROFIT_CHUNK_SIZE must be a positive"):
        chunk_size()
