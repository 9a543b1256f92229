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
    UserSubscription,
)
from tests.factories import make_plan, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def growth_plan():
    return make_plan(
        PlanType.MANAGED_BOT,
        slug="growth",
        name="Growth",
        monthly_price=Decimal("0"),
        profit_share_percentage=Decimal("20"),
        guaranteed_monthly_return=Decimal("2"),
        max_trading_pairs=2,
    )


def make_offer(plan, **kwargs):
    bot = baker.make("trading.PairConfig", is_managed=True, exchange="binance", symbol="BTC/USDT")
    kwargs.setdefault("minimum_investment", Decimal("100"))
    return ManagedBotOffer.objects.create(
        managed_bot=bot, plan=plan, name=kwargs.pop("name", "BTC"), **kwargs
    )


def invest(api, offer, amount="250.00"):
    return api.post(
        "/api/managed-bot/subscribe/",
        {"offer_id": offer.id, "initial_investment": amount},
        format="json",
    )


def test_available_lists_open_offers_with_terms_and_current_figures(anon, growth_plan, other_user):
    offer = make_offer(growth_plan, name="BTC Momentum", description="Trend following")
    make_offer(growth_plan, name="Closed", is_active=False)
    make_offer(make_plan(PlanType.MANAGED_BOT, slug="old", is_active=False), name="Old plan")
    subscription = make_subscription(other_user, growth_plan)
    ManagedBotPerformance.objects.create(
        user=other_user,
        subscription=subscription,
        managed_bot=offer.managed_bot,
        initial_investment=Decimal("1000"),
        current_balance=Decimal("1100"),
        total_profit=Decimal("150"),
        total_loss=Decimal("50"),
    )

    body = anon.get("/api/managed-bot/available/").json()

    assert body["count"] == 1
    result = body["results"][0]
    assert {
        k: result[k]
        for k in ("id", "name", "description", "exchange", "symbol", "minimum_investment")
    } == {
        "id": offer.id,
        "name": "BTC Momentum",
        "description": "Trend following",
        "exchange": "binance",
        "symbol": "BTC/USDT",
        "minimum_investment": "100.00",
    }
    assert result["plan"]["profit_share_percentage"] == "20.00"
    assert result["plan"]["guaranteed_monthly_return"] == "2.00"
    assert result["performance"] == {
        "investors": 1,
        "total_invested": "1000.00",
        "net_profit": "100.00",
        "return_percentage": "10.00",
    }


def test_available_without_investors_has_null_return(anon, growth_plan):
    make_offer(growth_plan)
    performance = anon.get("/api/managed-bot/available/").json()["results"][0]["performance"]
    assert performance == {
        "investors": 0,
        "total_invested": "0.00",
        "net_profit": "0.00",
        "return_percentage": None,
    }


def test_available_query_count_is_constant(anon, growth_plan):
    make_offer(growth_plan)
    with CaptureQueriesContext(connection) as few:
        anon.get("/api/managed-bot/available/")
    for i in range(8):
        make_offer(growth_plan, name=f"bot {i}")
    with CaptureQueriesContext(connection) as many:
        assert anon.get("/api/managed-bot/available/").json()["count"] == 9
    assert len(many) == len(few)


def test_investing_creates_the_subscription_and_the_performance_row(api, user, growth_plan):
    offer = make_offer(growth_plan)
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


def test_investing_below_the_minimum_is_refused_and_writes_nothing(api, user, growth_plan):
    response = invest(api, make_offer(growth_plan), "99.99")
    assert response.status_code == 400
    assert response.json() == {
        "code": "investment_too_small",
        "detail": "The minimum investment in BTC is 100.00 USD.",
        "fields": {"initial_investment": ["At least 100.00."]},
    }
    assert not UserSubscription.objects.exists() and not ManagedBotPerformance.objects.exists()


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "1e400", "NaN", "12.345", None])
def test_bad_amounts_are_validation_errors(api, growth_plan, amount):
    response = invest(api, make_offer(growth_plan), amount)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "initial_investment" in response.json()["fields"]


def test_unknown_or_closed_offers(api, growth_plan):
    assert invest(api, type("Offer", (), {"id": 4242})).json()["fields"]["offer_id"] == [
        "No managed bot offer has id 4242."
    ]
    closed = make_offer(growth_plan, is_active=False)
    response = invest(api, closed)
    assert (response.status_code, response.json()["code"]) == (400, "offer_unavailable")


def test_a_second_bot_joins_the_same_subscription_within_the_pair_quota(api, user, growth_plan):
    first, second, third = (make_offer(growth_plan, name=n) for n in "ABC")
    assert invest(api, first).status_code == 201
    assert invest(api, second).status_code == 201
    assert UserSubscription.objects.filter(user=user).count() == 1
    response = invest(api, third)
    assert (response.status_code, response.json()["code"]) == (403, "pair_limit_reached")
    again = invest(api, first)
    assert (again.status_code, again.json()["code"]) == (409, "already_subscribed")
    assert ManagedBotPerformance.objects.filter(user=user).count() == 2


def test_a_bot_of_another_plan_while_subscribed_is_a_409(api, user, growth_plan):
    make_subscription(user, make_plan(PlanType.MANAGED_BOT, slug="other"))
    response = invest(api, make_offer(growth_plan))
    assert (response.status_code, response.json()["code"]) == (409, "already_subscribed")
    assert not ManagedBotPerformance.objects.exists()


def test_investing_needs_authentication(anon, growth_plan):
    assert invest(anon, make_offer(growth_plan)).status_code == 401


def test_sync_managed_offers_from_the_host_flag(growth_plan):
    flagged = baker.make("trading.PairConfig", is_managed=True, is_active=True, name="Flagged")
    baker.make("trading.PairConfig", is_managed=False)
    out = StringIO()
    call_command("sync_managed_offers", "--plan", "growth", "--minimum", "50", stdout=out)
    offer = ManagedBotOffer.objects.get()
    assert (offer.managed_bot, offer.plan, offer.minimum_investment) == (
        flagged,
        growth_plan,
        Decimal("50"),
    )
    assert "Created 1 offer(s), deactivated 0." in out.getvalue()

    flagged.is_managed = False
    flagged.save()
    call_command("sync_managed_offers", "--plan", "growth", stdout=out)
    offer.refresh_from_db()
    assert offer.is_active is False
    with pytest.raises(CommandError, match="No managed_bot plan"):
        call_command("sync_managed_offers", "--plan", "nope")


# --- GET managed-bot/performance/ -------------------------------------------


def test_performance_shows_realized_profit_share_and_the_guarantee_shortfall(
    api, user, other_user, growth_plan, without_gateway
):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import time_machine

    from django_torgovo_subscriptions.services.managed_bot import profit
    from trading.models import Order

    offer = make_offer(growth_plan, name="BTC Momentum")
    start = datetime(2027, 1, 10, 12, tzinfo=ZoneInfo("Asia/Karachi"))
    with time_machine.travel(start, tick=False):
        assert invest(api, offer, "1000.00").status_code == 201
    bot = offer.managed_bot

    def order(side, qty, price, fee, at):
        with time_machine.travel(at, tick=False):
            Order.objects.create(
                user=user,
                pair_config=bot,
                symbol="BTC/USDT",
                side=side,
                quantity=Decimal(qty),
                price=Decimal(price),
                fee=Decimal(fee),
                status="FILLED",
                source="MANAGED",
            )

    order("BUY", "0.1", "40000", "4", start + timedelta(days=1))
    order("SELL", "0.1", "40500", "4.05", start + timedelta(days=2))  # +50 - 8.05 fees
    order("BUY", "0.1", "40000", "4", start + timedelta(days=3))  # still open
    order("SELL", "5", "1", "0", start - timedelta(days=1))  # before investing: ignored
    Order.objects.create(
        user=other_user,
        pair_config=bot,
        symbol="BTC/USDT",
        side="SELL",
        quantity=1,
        price=1,
        status="FILLED",
    )  # someone else's
    now = start + timedelta(days=62)
    with time_machine.travel(now, tick=False):
        profit.recalculate(ManagedBotPerformance.objects.get(user=user), until=now)
        body = api.get("/api/managed-bot/performance/").json()

    assert body["count"] == 1
    row = body["results"][0]
    assert row["managed_bot"] == {
        "id": bot.id,
        "name": "BTC Momentum",
        "exchange": "binance",
        "symbol": "BTC/USDT",
    }
    assert row["subscription"]["status"] == "active" and row["currency"] == "USD"
    assert {
        k: row[k]
        for k in (
            "initial_investment",
            "total_profit",
            "total_loss",
            "net_profit",
            "current_balance",
            "return_percentage",
            "fees_paid",
        )
    } == {
        "initial_investment": "1000.00",
        "total_profit": "41.95",
        "total_loss": "0.00",
        "net_profit": "41.95",
        "current_balance": "1041.95",
        "return_percentage": "4.20",
        "fees_paid": "12.05",
    }
    assert row["profit_share_percentage"] == "20.00"
    assert row["profit_share_accruing"] == "8.39"  # 20% of 41.95, nothing settled yet
    assert (row["profit_share_due"], row["profit_share_paid"]) == ("0.00", "0.00")
    # 2 whole months at the guaranteed 2% of 1000 = 40.00, and 41.95 covers it.
    assert (row["guaranteed_return"], row["guaranteed_shortfall"]) == ("40.00", "0.00")


def test_performance_shortfall_when_the_bot_lags_the_guarantee(api, user, growth_plan):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import time_machine

    start = datetime(2027, 3, 1, 9, tzinfo=ZoneInfo("Asia/Karachi"))
    with time_machine.travel(start, tick=False):
        invest(api, make_offer(growth_plan), "500.00")
    with time_machine.travel(start + timedelta(days=95), tick=False):  # 3 whole months
        row = api.get("/api/managed-bot/performance/").json()["results"][0]
    assert (row["guaranteed_return"], row["guaranteed_shortfall"]) == ("30.00", "30.00")
    assert row["net_profit"] == "0.00" and row["return_percentage"] == "0.00"


def test_performance_shows_only_own_rows_in_constant_queries(api, user, other_user, growth_plan):
    make_subscription(other_user, growth_plan)
    ManagedBotPerformance.objects.create(
        user=other_user,
        subscription=other_user.torgovo_subscriptions.get(),
        managed_bot=make_offer(growth_plan, name="theirs").managed_bot,
    )
    assert api.get("/api/managed-bot/performance/").json()["count"] == 0
    invest(api, make_offer(growth_plan, name="a"))
    with CaptureQueriesContext(connection) as few:
        api.get("/api/managed-bot/performance/")
    invest(api, make_offer(growth_plan, name="b"))
    with CaptureQueriesContext(connection) as many:
        assert api.get("/api/managed-bot/performance/").json()["count"] == 2
    assert len(many) == len(few)


def test_the_share_is_settled_when_a_managed_subscription_expires(
    api, user, growth_plan, without_gateway
):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    import time_machine

    from django_torgovo_subscriptions.services.subscriptions import expire_lapsed
    from trading.models import Order

    offer = make_offer(growth_plan)
    start = datetime(2027, 5, 3, 10, tzinfo=ZoneInfo("Asia/Karachi"))
    with time_machine.travel(start, tick=False):
        invest(api, offer, "1000.00")
    for side, price, day in (("BUY", "100", 1), ("SELL", "150", 2)):
        with time_machine.travel(start + timedelta(days=day), tick=False):
            Order.objects.create(
                user=user,
                pair_config=offer.managed_bot,
                symbol="BTC/USDT",
                side=side,
                quantity=2,
                price=Decimal(price),
                status="FILLED",
            )
    with time_machine.travel(start + timedelta(days=40), tick=False):
        assert expire_lapsed() == 1
        expire_lapsed()  # idempotent: no second settlement
    performance = ManagedBotPerformance.objects.get(user=user)
    assert performance.closed_at is not None
    assert performance.realized_pnl == Decimal("100.00")
    assert performance.profit_share_due == Decimal("20.00")  # 20% of +100
    assert performance.high_water_mark == Decimal("100.00")


def test_sync_names_offers_after_the_host_name_field_and_takes_its_minimum(settings, growth_plan):
    # The example PairConfig has no minimum-investment column; its order_size
    # (a decimal) stands in for one to show the mapping is read.
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAIR_CONFIG_FIELDS": {
            **settings.TORGOVO_SUBSCRIPTIONS["PAIR_CONFIG_FIELDS"],
            "minimum_investment": "order_size",
        },
    }
    own = baker.make("trading.PairConfig", is_managed=True, name="ETH Swing", order_size=250)
    call_command("sync_managed_offers", "--plan", "growth", "--minimum", "50", stdout=StringIO())
    offer = ManagedBotOffer.objects.get(managed_bot=own)
    assert (offer.name, offer.minimum_investment) == ("ETH Swing", Decimal("250.00"))


def test_sync_without_a_name_mapping_falls_back_to_str(settings, growth_plan):
    fields = {**settings.TORGOVO_SUBSCRIPTIONS["PAIR_CONFIG_FIELDS"], "name": None}
    settings.TORGOVO_SUBSCRIPTIONS = {
        **settings.TORGOVO_SUBSCRIPTIONS,
        "PAIR_CONFIG_FIELDS": fields,
    }
    bot = baker.make("trading.PairConfig", is_managed=True, name="Quiet", symbol="SOL/USDT")
    call_command("sync_managed_offers", "--plan", "growth", "--minimum", "10.5", stdout=StringIO())
    offer = ManagedBotOffer.objects.get(managed_bot=bot)
    assert (offer.name, offer.minimum_investment) == (str(bot), Decimal("10.50"))
    with pytest.raises(CommandError, match="0 or more"):
        call_command("sync_managed_offers", "--plan", "growth", "--minimum", "-1")


def test_performance_rows_tell_the_offer_id_from_the_pair_config_id(api, user, growth_plan):
    # Make the two ids differ, so a client mixing them up would be caught.
    baker.make("trading.PairConfig", _quantity=3)
    offer = make_offer(growth_plan, name="BTC Momentum")
    assert offer.id != offer.managed_bot_id
    invest(api, offer)
    row = api.get("/api/managed-bot/performance/").json()["results"][0]
    assert row["offer_id"] == offer.id
    assert row["managed_bot"]["id"] == offer.managed_bot_id
    available = api.get("/api/managed-bot/available/").json()["results"][0]
    assert available["id"] == row["offer_id"]


def test_a_bot_without_an_offer_is_named_by_the_host_name_field(api, user, growth_plan):
    bot = baker.make("trading.PairConfig", name="Legacy bot")
    ManagedBotPerformance.objects.create(
        user=user, subscription=make_subscription(user, growth_plan), managed_bot=bot
    )
    row = api.get("/api/managed-bot/performance/").json()["results"][0]
    assert (row["offer_id"], row["managed_bot"]["name"]) == (None, "Legacy bot")
