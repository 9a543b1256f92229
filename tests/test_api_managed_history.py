"""GET managed-bot/performance/{id}/history/ and the sparklines of managed-bot/available/."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from model_bakery import baker

from django_torgovo_subscriptions.models import ManagedBotOffer
from django_torgovo_subscriptions.services.managed_bot.profit import recalculate, settle_period
from tests.factories import make_plan
from tests.profit_support import at, make_order, make_performance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def history_url(performance, query=""):
    return f"/api/managed-bot/performance/{performance.pk}/history/{query}"


@pytest.fixture
def traded(user):
    """1000 invested on 2024-01-01: +50 on Jan 3, -20 on Feb 6; January settled (20%)."""
    performance = make_performance(
        user, orders_since=at("2024-01-01 00:00"), initial_investment=D("1000")
    )
    make_order(performance, side="buy", quantity="1", price="100", when="2024-01-02 10:00")
    make_order(performance, side="sell", quantity="1", price="150", when="2024-01-03 10:00")
    make_order(performance, side="buy", quantity="1", price="100", when="2024-02-05 10:00")
    make_order(performance, side="sell", quantity="1", price="80", when="2024-02-06 10:00")
    recalculate(performance)
    settle_period(performance, 2024, 1)
    return performance


def by_date(body):
    return {point.pop("date"): point for point in body["points"]}


def test_history_has_a_point_per_day_with_the_mark_and_share_in_force(api, traded):
    response = api.get(history_url(traded))
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("performance_id", "currency", "initial_investment")} == {
        "performance_id": traded.pk,
        "currency": "USD",
        "initial_investment": "1000.00",
    }
    assert (body["from"], body["to"]) == (None, None)
    points = by_date(body)
    # One point a day from the first order to today (2024-06-15), days without
    # orders carrying the day before's figures.
    assert len(points) == (date(2024, 6, 15) - date(2024, 1, 2)).days + 1
    assert points["2024-01-02"] == {
        "balance": "1000.00",
        "cumulative_net": "0.00",
        "high_water_mark": "0.00",
        "share_accrued": "0.00",
    }
    assert points["2024-01-03"] == {
        "balance": "1050.00",
        "cumulative_net": "50.00",
        "high_water_mark": "0.00",
        "share_accrued": "10.00",  # 20% of 50, not settled yet
    }
    # January was settled at its end (the close of Jan 31): the mark is 50 from then on.
    assert points["2024-01-30"]["high_water_mark"] == "0.00"
    assert points["2024-01-31"]["high_water_mark"] == "50.00"
    assert points["2024-02-06"] == {
        "balance": "1030.00",
        "cumulative_net": "30.00",
        "high_water_mark": "50.00",
        "share_accrued": "10.00",  # the drawdown never gives the share back
    }
    assert points["2024-06-15"] == points["2024-02-06"]


def test_from_and_to_limit_the_range(api, traded):
    body = api.get(history_url(traded, "?from=2024-02-05&to=2024-02-07")).json()
    assert (body["from"], body["to"]) == ("2024-02-05", "2024-02-07")
    assert [(p["date"], p["cumulative_net"]) for p in body["points"]] == [
        ("2024-02-05", "50.00"),
        ("2024-02-06", "30.00"),
        ("2024-02-07", "30.00"),
    ]
    assert len(api.get(history_url(traded, "?from=2024-06-14")).json()["points"]) == 2
    assert api.get(history_url(traded, "?to=2023-12-31")).json()["points"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?from=yesterday", "from"),
        ("?to=2024-02-30", "to"),
        ("?from=2024-03-01&to=2024-02-01", "from"),
    ],
)
def test_junk_dates_are_a_400_with_a_stable_code(api, traded, query, field):
    response = api.get(history_url(traded, query))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_date_range"
    assert list(body["fields"]) == [field]


def test_only_the_users_own_rows(api, anon, traded, other_user):
    theirs = make_performance(other_user)
    response = api.get(history_url(theirs))
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert api.get("/api/managed-bot/performance/99999/history/").status_code == 404
    assert anon.get(history_url(traded)).status_code == 401


def test_the_query_count_does_not_grow_with_the_points(api, traded, django_assert_num_queries):
    # token, performance row (with plan and offer), points, settled periods
    with django_assert_num_queries(4):
        one = api.get(history_url(traded, "?from=2024-03-01&to=2024-03-01")).json()
    with django_assert_num_queries(4):
        every = api.get(history_url(traded)).json()
    assert (len(one["points"]), len(every["points"])) == (1, 166)


def test_an_investment_without_orders_has_no_points_yet(api, user):
    performance = make_performance(user, orders_since=at("2024-06-01 00:00"))
    recalculate(performance)
    assert api.get(history_url(performance)).json()["points"] == []


# --- sparklines on managed-bot/available/ ----------------------------------------


def test_available_carries_the_last_30_days_of_the_current_investors(anon):
    bot = baker.make("trading.PairConfig", is_managed=True, symbol="BTC/USDT")
    ManagedBotOffer.objects.create(
        managed_bot=bot, plan=make_plan("managed_bot", slug="spark"), name="Spark"
    )
    first = make_performance(
        bot=bot, orders_since=at("2024-05-01 00:00"), initial_investment=D("1000")
    )
    second = make_performance(
        bot=bot, orders_since=at("2024-05-01 00:00"), initial_investment=D("3000")
    )
    make_order(first, side="buy", quantity="1", price="100", when="2024-06-09 10:00")
    make_order(first, side="sell", quantity="1", price="200", when="2024-06-10 10:00")
    make_order(second, side="buy", quantity="1", price="100", when="2024-04-20 10:00")
    make_order(second, side="buy", quantity="1", price="100", when="2024-06-01 10:00")
    make_order(second, side="sell", quantity="1", price="50", when="2024-06-12 10:00")
    recalculate(first)
    recalculate(second)

    offer = anon.get("/api/managed-bot/available/").json()["results"][0]
    series = {p["date"]: p["return_percentage"] for p in offer["sparkline"]}
    assert next(iter(series)) == "2024-06-01"  # the second's first order; April is before investing
    assert len(series) == 15
    assert series["2024-06-08"] == "0.00"  # only the second, nothing realized
    assert series["2024-06-10"] == "2.50"  # +100 over 4000 invested
    assert series["2024-06-12"] == series["2024-06-15"] == "1.25"  # +100 - 50


def test_available_sparklines_add_one_query_for_the_page(anon):
    plan = make_plan("managed_bot", slug="spark")
    for i in range(3):
        bot = baker.make("trading.PairConfig", is_managed=True)
        ManagedBotOffer.objects.create(managed_bot=bot, plan=plan, name=f"bot {i}")
        performance = make_performance(bot=bot, orders_since=at("2024-06-01 00:00"))
        make_order(performance, side="buy", quantity="1", price="1", when="2024-06-02 10:00")
        recalculate(performance)
    with CaptureQueriesContext(connection) as queries:
        body = anon.get("/api/managed-bot/available/").json()
    assert all(len(offer["sparkline"]) == 14 for offer in body["results"])
    assert len(queries) == 3  # count, page, sparklines
