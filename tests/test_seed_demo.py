from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from django_torgovo_subscriptions.models import PlanType, SubscriptionPlan
from trading.models import PairConfig

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_plans_bots_and_a_token_and_is_idempotent():
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    assert set(SubscriptionPlan.objects.values_list("plan_type", flat=True)) == {
        PlanType.CUSTOM_BOT,
        PlanType.MANAGED_BOT,
    }
    assert SubscriptionPlan.objects.count() == 3
    assert PairConfig.objects.filter(is_managed=True).count() == 1
    token = Token.objects.get(user__username="demo")
    assert f"Token: {token.key}" in first.getvalue()
    assert f"Token: {token.key}" in second.getvalue()
    assert f'"Authorization: Token {token.key}"' in first.getvalue()
