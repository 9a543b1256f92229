from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from django_torgovo_subscriptions.models import PlanType
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def test_active_plans_are_listed_with_decimals_as_strings():
    plan = make_plan(PlanType.MANAGED_BOT, name="Managed", slug="managed",
                     monthly_price=Decimal("0"), profit_share_percentage=Decimal("20"))
    make_plan(name="Old", slug="old", is_active=False)

    response = APIClient().get("/api/subscription-plans/")

    assert response.status_code == 200
    assert [p["slug"] for p in response.json()] == ["managed"]
    body = response.json()[0]
    assert body["id"] == plan.id
    assert body["monthly_price"] == "0.00"
    assert body["profit_share_percentage"] == "20.00"
    assert body["plan_type"] == "managed_bot"
