"""The guarantee: each settled period records its shortfall in money and signals it."""

from decimal import Decimal as D

import pytest

from django_torgovo_subscriptions.models import ManagedBotSettledPeriod
from django_torgovo_subscriptions.services.managed_bot.profit import settle_on_exit, settle_period
from django_torgovo_subscriptions.signals import managed_guarantee_shortfall
from tests.profit_support import at, make_order, make_performance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def guaranteed():
    """1000 invested on 2024-01-01 on a plan guaranteeing 2% a month (20.00)."""
    performance = make_performance(
        orders_since=at("2024-01-01 00:00"), initial_investment=D("1000")
    )
    plan = performance.subscription.plan
    plan.guaranteed_monthly_return = D("2.00")
    plan.save()
    return performance


@pytest.fixture
def shortfalls():
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    managed_guarantee_shortfall.connect(receiver)
    yield received
    managed_guarantee_shortfall.disconnect(receiver)


def trade(performance, day, buy, sell):
    make_order(performance, side="buy", quantity="1", price=buy, when=f"{day} 10:00")
    make_order(performance, side="sell", quantity="1", price=sell, when=f"{day} 11:00")


def test_each_settled_month_records_the_shortfall_and_signals_it(guaranteed, shortfalls):
    trade(guaranteed, "2024-01-10", "100", "110")  # January +10
    trade(guaranteed, "2024-03-10", "100", "150")  # March +50
    for month in (1, 2, 3, 4):
        settle_period(guaranteed, 2024, month)

    rows = list(
        ManagedBotSettledPeriod.objects.filter(performance=guaranteed).values_list(
            "month",
            "net_profit",
            "guaranteed_return",
            "guarantee_shortfall",
            "guarantee_shortfall_new",
        )
    )
    assert rows == [
        ("2024-01", D("10.00"), D("20.00"), D("10.00"), D("10.00")),
        ("2024-02", D("10.00"), D("40.00"), D("30.00"), D("20.00")),
        ("2024-03", D("60.00"), D("60.00"), D("0.00"), D("0.00")),
        ("2024-04", D("60.00"), D("80.00"), D("20.00"), D("0.00")),  # below February's 30
    ]
    assert [(s["shortfall"], s["new_shortfall"]) for s in shortfalls] == [
        (D("10.00"), D("10.00")),
        (D("30.00"), D("20.00")),
        (D("20.00"), D("0.00")),
    ]
    first = shortfalls[0]
    assert first["performance"] == guaranteed
    assert first["settled_period"].month == "2024-01"


def test_settling_again_records_and_signals_nothing_more(guaranteed, shortfalls):
    settle_period(guaranteed, 2024, 2)
    settle_period(guaranteed, 2024, 2)
    settle_period(guaranteed, 2024, 1)  # earlier: already covered
    assert ManagedBotSettledPeriod.objects.count() == 1
    assert len(shortfalls) == 1


def test_a_plan_without_a_guarantee_records_the_period_with_no_shortfall(shortfalls):
    performance = make_performance(orders_since=at("2024-01-01 00:00"))
    trade(performance, "2024-01-10", "100", "90")
    settle_period(performance, 2024, 1)
    period = ManagedBotSettledPeriod.objects.get()
    assert (period.net_profit, period.amount, period.high_water_mark) == (D("-10.00"), 0, 0)
    assert period.guarantee_shortfall is None and period.guaranteed_return is None
    assert shortfalls == []


def test_the_exit_is_a_final_period_of_its_own_month(guaranteed, shortfalls):
    trade(guaranteed, "2024-03-10", "100", "300")  # +200: 2% x 5 months = 100 covered
    settle_period(guaranteed, 2024, 2)
    settle_on_exit(guaranteed, at=at("2024-06-10 09:00"))
    periods = list(ManagedBotSettledPeriod.objects.order_by("period_end"))
    assert [(p.month, p.final) for p in periods] == [("2024-02", False), ("2024-06", True)]
    exit_period = periods[-1]
    assert (exit_period.net_profit, exit_period.amount) == (D("200.00"), D("40.00"))
    assert (exit_period.guaranteed_return, exit_period.guarantee_shortfall) == (
        D("100.00"),
        D("0.00"),
    )
    assert exit_period.profit_share_accrued == D("40")
    assert len(shortfalls) == 1  # February's 40.00


def test_a_receiver_that_fails_rolls_the_settlement_back(guaranteed):
    def failing(sender, **kwargs):
        raise RuntimeError("compensation service down")

    managed_guarantee_shortfall.connect(failing)
    try:
        with pytest.raises(RuntimeError):
            settle_period(guaranteed, 2024, 1)
    finally:
        managed_guarantee_shortfall.disconnect(failing)
    guaranteed.refresh_from_db()
    assert guaranteed.settled_until is None
    assert not ManagedBotSettledPeriod.objects.exists()
    settle_period(guaranteed, 2024, 1)  # the next run settles it
    assert ManagedBotSettledPeriod.objects.count() == 1


def test_the_admin_lists_the_settled_periods_read_only(admin_client, guaranteed):
    settle_period(guaranteed, 2024, 1)
    url = "/admin/subscriptions/managedbotsettledperiod/"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b"2024-01" in response.content
    period = ManagedBotSettledPeriod.objects.get()
    assert admin_client.get(f"{url}{period.pk}/change/").status_code == 200  # a view only
    assert admin_client.post(f"{url}{period.pk}/delete/").status_code == 403
    assert admin_client.get(f"{url}add/").status_code == 403
