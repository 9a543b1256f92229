"""
Managed-bot billing on the differently shaped host (brokerage.Strategy and
Trade through the field map): the worked example charged month by month with
the billing run every day, and a declined share that pauses the investor
until it is paid. Same scenarios as tests/test_managed_billing.py.
"""

from decimal import Decimal

import pytest

from tests.brokerage.models import Strategy
from tests.managed_billing_support import (
    assert_each_investor_paid_their_share,
    failed_charge_pauses_until_paid,
    signal_to_paid_share,
    worked_example_month_by_month,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dummy")]


def test_the_worked_example_is_charged_and_the_subscription_lasts():
    seen = worked_example_month_by_month()
    assert isinstance(seen["performance"].managed_bot, Strategy)
    assert seen["payments"] == [
        ("profit_share", "2027-01", Decimal("108.99"), "paid"),
        ("profit_share", "2027-03", Decimal("52.84"), "paid"),
    ]
    assert seen["performance"].profit_share_paid == Decimal("161.83")
    assert seen["live"] and seen["performance"].closed_at is None


def test_a_declined_share_pauses_the_investor_until_it_is_paid():
    steps = failed_charge_pauses_until_paid(7 * 24 * 3600)
    assert steps["declined"]["subscription"] == "past_due"
    assert steps["after_grace"]["paused"] == (True, "profit_share_unpaid")
    assert steps["much_later"]["subscription"] == "past_due"
    assert steps["paid"]["subscription"] == "active" and steps["paid"]["paused"] == (False, "")


def test_an_operator_signal_ends_in_a_paid_profit_share_for_each_investor():
    assert_each_investor_paid_their_share(signal_to_paid_share())
