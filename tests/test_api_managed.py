"""Managed-bot offers and investing, through HTTP (example host)."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from model_bakery import baker

from django_torgovo_subscriptions.models import (
    ManagedBotOffer,
    ManagedBotPerformance,
    PlanType,
    SubscriptionStatus,
    UserSubscription,
)
from tests.factories import make_plan, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    return make_plan(PlanType.MANAGED_BOT, slug="growth", name="Growth",
                     monthly_price=Decimal("0"), profit_share_percentage=Decimal("20"),
                     guaranteed_monthly_return=Decimal("2"), max_trading_pairs=2)


def make_offer(plan, **kwargs):
    bot = baker.make("trading.PairConfig", is_managed=True, exchange="binance", symbol="BTC/USDT")
    kwargs.setdefault("minimum_investment", Decimal("100"))
    return ManagedBotOffer.objects.create(managed_bot=bot, plan=plan, name=kwargs.pop("name", "BTC"),
                                          **kwargs)


def invest(api, offer, amount="250.00"):
    return api.post("/api/managed-bot/subscribe/",
                    {"offer_id": offer.id, "initial_investment": amount}, format="json")


def test_available_lists_open_offers_with_terms_and_current_figures(anon, plan, other_user):
    offer = make_offer(plan, name="BTC Momentum", description="Trend following")
    make_offer(plan, name="Closed", is_active=False)
    make_offer(make_plan(PlanType.MANAGED_BOT, slug="old", is_active=False), name="Old plan")
    subscription = make_subscription(other_user, plan)
    ManagedBotPerformance.objects.create(
        user=other_user, subscription=subscription, managed_bot=offer.managed_bot,
        initial_investment=Decimal("1000"), current_balance=Decimal("1100"),
        total_profit=Decimal("150"), total_loss=Decimal("50"))

    body = anon.get("/api/managed-bot/available/").json()

    assert body["count"] == 1
    result = body["results"][0]
    assert {k: result[k] for k in ("id", "name", "description", "exchange", "symbol",
                                   "minimum_investment")} == {
        "id": offer.id, "name": "BTC Momentum", "description": "Trend following",
        "exchange": "binance", "symbol": "BTC/USDT", "minimum_investment": "100.00"}
    assert result["plan"]["profit_share_percentage"] == "20.00"
    assert result["plan"]["guaranteed_monthly_return"] == "2.00"
    assert result["performance"] == {"investors": 1, "total_invested": "1000.00",
                                     "net_profit": "100.00", "return_percentage": "10.00"}


def test_available_without_investors_has_null_return(anon, plan):
    make_offer(plan)
    performance = anon.get("/api/managed-bot/available/").json()["results"][0]["performance"]
    assert performance == {"investors": 0, "total_invested": "0.00", "net_profit": "0.00",
                           "return_percentage": None}


def test_available_query_count_is_constant(anon, plan):
    make_offer(plan)
    with CaptureQueriesContext(connection) as few:
        anon.get("/api/managed-bot/available/")
    for i in range(8):
        make_offer(plan, name=f"bot {i}")
    with CaptureQueriesContext(connection) as many:
        assert anon.get("/api/managed-bot/available/").json()["count"] == 9
    assert len(many) == len(few)


def test_investing_creates_the_subscription_and_the_performance_row(api, user, plan):
    offer = make_offer(plan)
    response = invest(api, offer, "250.50")
    assert response.status_code == 201
    body = response.json()
    performance = ManagedBotPerformance.objects.get(user=user)
    assert body["performance_id"] == performance.pk
    assert body["initial_investment"] == "250.50"
    assert body["subscription"]["plan"]["slug"] == "growth"
    assert body["subscription"]["id"] == performance.subscription_id
    assert performance.initial_investment == performance.current_balance == Decimal("250.50")
    assert performance.managed_bot == offer.managed_bot


def test_investing_below_the_minimum_is_refused_and_writes_nothing(api, user, plan):
    response = invest(api, make_offer(plan), "99.99")
    assert response.status_code == 400
    assert response.json() == {
        "code": "investment_too_small",
        "detail": "The minimum investment in BTC is 100.00 USD.",
        "fields": {"initial_investment": ["At least 100.00."]},
    }
    assert not UserSubscription.objects.exists() and not ManagedBotPerformance.objects.exists()


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "1e400", "NaN", "12.345", None])
def test_bad_amounts_are_validation_errors(api, plan, amount):
    response = invest(api, make_offer(plan), amount)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "initial_investment" in response.json()["fields"]


def test_unknown_or_closed_offers(api, plan):
    assert invest(api, type("Offer", (), {"id": 4242})).json()["fields"]["offer_id"] == [
        "No managed bot offer has id 4242."]
    closed = make_offer(plan, is_active=False)
    response = invest(api, closed)
    assert (response.status_code, response.json()["code"]) == (400, "offer_unavailable")


def test_a_second_bot_joins_the_same_subscription_within_the_pair_quota(api, user, plan):
    first, second, third = (make_offer(plan, name=n) for n in "ABC")
    assert invest(api, first).status_code == 201
    assert invest(api, second).status_code == 201
    assert UserSubscription.objects.filter(user=user).count() == 1
    response = invest(api, third)
    assert (response.status_code, response.json()["code"]) == (403, "pair_limit_reached")
    again = invest(api, first)
    assert (again.status_code, again.json()["code"]) == (409, "already_subscribed")
    assert ManagedBotPerformance.objects.filter(user=user).count() == 2


def test_a_bot_of_another_plan_while_subscribed_is_a_409(api, user, plan):
    make_subscription(user, make_plan(PlanType.MANAGED_BOT, slug="other"))
    response = invest(api, make_offer(plan))
    assert (response.status_code, response.json()["code"]) == (409, "already_subscribed")
    assert not ManagedBotPerformance.objects.exists()


def test_investing_needs_authentication(anon, plan):
    assert invest(anon, make_offer(plan)).status_code == 401


def test_sync_managed_offers_from_the_host_flag(plan):
    flagged = baker.make("trading.PairConfig", is_managed=True, is_active=True, name="Flagged")
    baker.make("trading.PairConfig", is_managed=False)
    out = StringIO()
    call_command("sync_managed_offers", "--plan", "growth", "--minimum", "50", stdout=out)
    offer = ManagedBotOffer.objects.get()
    assert (offer.managed_bot, offer.plan, offer.minimum_investment) == (flagged, plan, Decimal("50"))
    assert "Created 1 offer(s), deactivated 0." in out.getvalue()

    flagged.is_managed = False
    flagged.save()
    call_command("sync_managed_offers", "--plan", "growth", stdout=out)
    offer.refresh_from_db()
    assert offer.is_active is False
    with pytest.raises(CommandError, match="No managed_bot plan"):
        call_command("sync_managed_offers", "--plan", "nope")
