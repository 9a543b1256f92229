"""Races that only a real database shows: run on PostgreSQL (skipped on SQLite)."""

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from django_torgovo_subscriptions.models import PlanType, UserSubscription
from tests.concurrency import run_concurrently
from tests.factories import make_plan

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]


def test_concurrent_subscribes_leave_exactly_one_open_row(user):
    token = Token.objects.create(user=user).key
    plans = [make_plan(PlanType.CUSTOM_BOT, slug=f"p{i}") for i in range(2)]

    def subscribe(plan):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        response = client.post("/api/subscriptions/", {"plan_id": plan.id}, format="json")
        return response.status_code, response.json().get("code")

    for round_plan in (plans[0], plans[1], plans[0]):
        UserSubscription.objects.all().delete()
        results = run_concurrently(8, lambda _, plan=round_plan: subscribe(plan))
        assert sorted(r[0] for r in results) == [201] + [409] * 7
        assert {r[1] for r in results if r[0] == 409} == {"already_subscribed"}
        assert UserSubscription.objects.open().filter(user=user).count() == 1


BOTS = ("/api/bots/",)
BOTS_AND_WEBHOOKS = ("/api/bots/", "/api/custom-bot/webhook/generate/")


@pytest.mark.parametrize("endpoints", [BOTS, BOTS_AND_WEBHOOKS], ids=["bots", "bots-and-webhooks"])
def test_concurrent_creations_take_no_more_pairs_than_the_plan_allows(user, endpoints):
    """Eight creations on eight different pairs at once, on a two-pair plan:
    bots (POST /api/bots/), or bots and webhooks by turns. The lock on the
    subscription, which both take, lets exactly two through."""
    from model_bakery import baker

    from django_torgovo_subscriptions.models import CustomBotWebhook
    from tests.factories import make_subscription
    from trading.models import Bot

    token = Token.objects.create(user=user).key
    make_subscription(user, make_plan(PlanType.CUSTOM_BOT, name="Duo", max_trading_pairs=2))
    pairs = baker.make("trading.PairConfig", user=user, _quantity=8)

    def create(index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        endpoint = endpoints[index % len(endpoints)]
        response = client.post(endpoint, {"pair_config": pairs[index].pk}, format="json")
        return response.status_code, response.json()

    results = run_concurrently(len(pairs), create)
    assert sorted(status for status, _ in results) == [201] * 2 + [403] * 6
    assert {body["code"] for status, body in results if status == 403} == {"pair_limit_reached"}
    taken = {pairs[i].pk for i, (status, _) in enumerate(results) if status == 201}
    recorded = [*Bot.objects.values_list("pair_config_id", flat=True)]
    recorded += CustomBotWebhook.objects.values_list("pair_config_id", flat=True)
    assert sorted(recorded) == sorted(taken)


def test_the_guard_outside_a_transaction_checks_without_a_lock(user):
    """A host that calls guard_bot_creation() in autocommit mode gets the check
    (no TransactionManagementError from a lock it cannot hold)."""
    from model_bakery import baker

    from django_torgovo_subscriptions.exceptions import PairLimitReached
    from django_torgovo_subscriptions.services.quota import guard_bot_creation
    from tests.factories import make_subscription
    from trading.models import Bot

    subscription = make_subscription(user, make_plan(PlanType.CUSTOM_BOT, max_trading_pairs=1))
    first, second = baker.make("trading.PairConfig", user=user, _quantity=2)
    assert connection.get_autocommit()
    assert guard_bot_creation(user, first) == subscription
    Bot.objects.create(user=user, pair_config=first)
    with pytest.raises(PairLimitReached):
        guard_bot_creation(user, second)
