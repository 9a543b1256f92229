"""
An alert's quantity and price must fit the example host's Order fields,
numeric(20, 8): beyond them, a 400 that names the limit, before any trade
(issue 13, item 7). The alt host's (24, 10) is tests/alt/test_webhook_alt.py's.
"""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings

from django_torgovo_subscriptions.models import WebhookEvent
from django_torgovo_subscriptions.trading.orders import DecimalLimit
from tests.webhook_support import (
    alert_body,
    assert_figure_fits_or_is_refused,
    host_figures,
    post_alert,
    without_rate_limits,
)
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]

WHOLE_DIGITS, PLACES = 12, 8


@pytest.fixture
def unlimited():
    with without_rate_limits():
        yield


@pytest.mark.parametrize("name", ["quantity", "price"])
@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=host_figures(WHOLE_DIGITS, PLACES))
@example(value=Decimal("999999999999.99999999"))  # the largest that fits
@example(value=Decimal("1000000000000"))  # one digit too many before the point
@example(value=Decimal("0.000000001"))  # one decimal place too many
@example(value=Decimal("0.0100000000000"))  # trailing zeros are no places
def test_figures_beyond_the_order_fields_are_refused(client, secret, unlimited, name, value):
    assert_figure_fits_or_is_refused(client, secret, name, value, WHOLE_DIGITS, PLACES, Order)


def test_the_refusal_names_the_hosts_limit_and_trades_nothing(client, secret):
    response = post_alert(client, secret, alert_body(secret, price="64250.123456789"))
    assert response.status_code == 400
    assert response.json() == {
        "code": "price_out_of_range",
        "detail": "'price' 64250.123456789 is beyond what this platform's orders hold: "
        "at most 12 digits before the decimal point and 8 after it.",
    }
    event = WebhookEvent.objects.get()
    assert (event.outcome, event.status_code, event.signal) == ("rejected", 400, None)
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("value", "fits"),
    [
        ("99.99", True),
        ("100", False),
        ("0.01", True),
        ("0.001", False),
        ("1.5000", True),
        ("1E+2", False),
        ("1E+1", True),
        ("0.10E-1", True),
    ],
)
def test_a_decimal_limit_counts_digits_as_a_database_does(value, fits):
    assert DecimalLimit(max_digits=4, decimal_places=2).fits(Decimal(value)) is fits
