from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_torgovo_subscriptions.models import PlanType
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def test_active_plans_are_listed_paginated_with_decimals_as_strings(anon):
    plan = make_plan(
        PlanType.MANAGED_BOT,
        name="Managed",
        slug="managed",
        monthly_price=Decimal("0"),
        profit_share_percentage=Decimal("20"),
        guaranteed_monthly_return=Decimal("2.5"),
        features=["managed_trading"],
    )
    make_plan(name="Old", slug="old", is_active=False)

    response = anon.get("/api/subscription-plans/")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    assert body["results"] == [
        {
            "id": plan.id,
            "plan_type": "managed_bot",
            "name": "Managed",
            "slug": "managed",
            "description": plan.description,
            "monthly_price": "0.00",
            "currency": "USD",
            "features": ["managed_trading"],
            "guaranteed_monthly_return": "2.50",
            "profit_share_percentage": "20.00",
            "max_trading_pairs": plan.max_trading_pairs,
        }
    ]


def test_plans_filter_by_plan_type(anon):
    make_plan(PlanType.CUSTOM_BOT, slug="custom")
    make_plan(PlanType.MANAGED_BOT, slug="managed")
    response = anon.get("/api/subscription-plans/?plan_type=custom_bot")
    assert [p["slug"] for p in response.json()["results"]] == ["custom"]


def test_an_unknown_plan_type_is_a_400_naming_the_allowed_values(anon):
    response = anon.get("/api/subscription-plans/?plan_type=gold")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["fields"]["plan_type"] == [
        "Unknown plan_type 'gold'. Allowed: custom_bot, managed_bot."
    ]


def test_pages_link_and_a_page_past_the_end_is_a_404(anon, settings):
    for i in range(5):
        make_plan(slug=f"p{i}", monthly_price=Decimal(i))
    body = anon.get("/api/subscription-plans/?page_size=2&page=2").json()
    assert [p["slug"] for p in body["results"]] == ["p2", "p3"]
    assert body["next"].endswith("page=3&page_size=2")
    settings.TORGOVO_SUBSCRIPTIONS = {**settings.TORGOVO_SUBSCRIPTIONS, "MAX_PAGE_SIZE": 3}
    assert len(anon.get("/api/subscription-plans/?page_size=3").json()["results"]) == 3
    response = anon.get("/api/subscription-plans/?page=9")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Invalid page."}


@pytest.mark.parametrize("page_size", ["abc", "-1", "0", "4", "1e3", " 2", "²", "9" * 5000, ""])
def test_a_junk_page_size_is_a_400_not_a_silent_default(anon, settings, page_size):
    settings.TORGOVO_SUBSCRIPTIONS = {**settings.TORGOVO_SUBSCRIPTIONS, "MAX_PAGE_SIZE": 3}
    make_plan(slug="p")
    response = anon.get("/api/subscription-plans/", {"page_size": page_size})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_page_size"
    assert body["detail"].startswith("page_size must be a whole number from 1 to 3, not ")


def test_plan_list_query_count_does_not_grow_with_rows(anon):
    make_plan(slug="a")
    with CaptureQueriesContext(connection) as few:
        anon.get("/api/subscription-plans/")
    for i in range(15):
        make_plan(slug=f"more{i}")
    with CaptureQueriesContext(connection) as many:
        anon.get("/api/subscription-plans/")
    assert len(many) == len(few)
