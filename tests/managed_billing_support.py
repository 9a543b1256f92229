"""
The managed-bot billing scenarios, written against the field map only, so the
example host (tests/test_managed_billing.py) and the alt host
(tests/alt/test_managed_billing_alt.py) run the very same steps. (No tests
here; both modules use the ``dummy`` fixture: the dummy gateway charges.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from django_torgovo_subscriptions.models import (
    ManagedBotOffer,
    ManagedBotPerformance,
    Payment,
    PlanType,
    UserSubscription,
)
from django_torgovo_subscriptions.payments.dummy import RENEWALS_DECLINED, SUCCEEDS, DummyGateway
from tests.factories import make_plan
from tests.profit_support import at, make_bot, make_order, make_trader

# DESIGN.md section 7 at 20%: each month's net, and the share charged for it.
WORKED_EXAMPLE = [
    ("2027-01", Decimal("544.96"), Decimal("108.99")),
    ("2027-02", Decimal("-123.60"), Decimal("0.00")),
    ("2027-03", Decimal("387.80"), Decimal("52.84")),
]


def make_offer(monthly_price: str = "0") -> ManagedBotOffer:
    plan = make_plan(
        PlanType.MANAGED_BOT,
        monthly_price=Decimal(monthly_price),
        profit_share_percentage=Decimal("20"),
        slug=f"managed-{make_trader().pk}",
    )
    return ManagedBotOffer.objects.create(
        managed_bot=make_bot(), plan=plan, name="Momentum", minimum_investment=Decimal("100")
    )


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def invest(client: APIClient, offer: ManagedBotOffer, amount: str = "10000") -> int:
    response = client.post(
        "/api/managed-bot/subscribe/",
        {"offer_id": offer.pk, "initial_investment": amount},
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()["performance_id"]


def trade(performance: ManagedBotPerformance, month: str, net: Decimal) -> None:
    """One round trip on the 10th of ``month`` realizing ``net``."""
    make_order(performance, side="buy", quantity="1", price="1000", when=f"{month}-10 10:00")
    sell = Decimal("1000") + net
    make_order(performance, side="sell", quantity="1", price=str(sell), when=f"{month}-10 11:00")


def command(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def run_billing_daily(start: datetime, end: datetime) -> list[str]:
    """``billing`` once a day (plus at the hour the period rolls), as cron would."""
    outputs, moment = [], start
    while moment <= end:
        with time_machine.travel(moment, tick=False):
            outputs.append(command("billing"))
        moment += timedelta(days=1)
    return outputs


def set_card(user, card: str) -> None:
    customer = DummyGateway().customer(user)
    customer.data = {**customer.data, "card": card}
    customer.save(update_fields=["data"])


def worked_example_month_by_month() -> dict:
    """
    Invest through the API on a profit-share-only plan, trade the worked
    example, settle each month with the command while ``billing`` runs daily;
    return what the investor and the operator see afterwards.
    """
    user = make_trader()
    client = client_for(user)
    offer = make_offer()
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        performance = ManagedBotPerformance.objects.get(pk=invest(client, offer))
    settle_outputs = []
    day = at("2027-01-02 10:30")
    for month, net, _share in WORKED_EXAMPLE:
        trade(performance, month, net)
        year, number = map(int, month.split("-"))
        next_month = f"{year + number // 12:04d}-{number % 12 + 1:02d}"
        settle_at = at(f"{next_month}-01 00:10")
        run_billing_daily(day, settle_at)
        with time_machine.travel(settle_at, tick=False):
            settle_outputs.append(command("settle_profit_shares"))
        day = settle_at + timedelta(hours=1)
    run_billing_daily(day, at("2027-04-05 12:00"))
    with time_machine.travel(at("2027-04-05 12:00"), tick=False):
        report = client.get("/api/managed-bot/performance/").json()
        history = client.get("/api/payments/history/").json()
        subscription = UserSubscription.objects.get(user=user)
        live = subscription.is_live()
    performance.refresh_from_db()
    return {
        "user": user,
        "performance": performance,
        "subscription": subscription,
        "live": live,
        "report": report,
        "history": history,
        "settle_outputs": settle_outputs,
        "payments": list(
            Payment.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values_list("kind", "profit_share_month", "amount", "status")
        ),
    }


def failed_charge_pauses_until_paid(grace_seconds: int, during=None) -> dict:
    """
    A share whose charge is declined: past_due at once, the investor paused
    after the grace period, billing never expires the subscription; a new card
    and a retried charge pay it, unpause the investor and make it active.
    Returns the states seen at each step; ``during(step, performance)``, when
    given, runs at each step's moment and its answer is kept in
    ``steps["during"]``.
    """
    from django_torgovo_subscriptions.services.managed_bot import charges

    user = make_trader()
    client = client_for(user)
    offer = make_offer()
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        performance = ManagedBotPerformance.objects.get(pk=invest(client, offer))
    set_card(user, RENEWALS_DECLINED)
    trade(performance, "2027-01", Decimal("500"))
    steps = {"during": {}}

    def snapshot(name: str) -> None:
        if during is not None:
            steps["during"][name] = during(name, performance)
        performance.refresh_from_db()
        subscription = UserSubscription.objects.get(user=user)
        payment = Payment.objects.get(managed_bot_performance=performance)
        steps[name] = {
            "subscription": subscription.status,
            "payment": payment.status,
            "paused": (performance.paused_at is not None, performance.pause_reason),
            "due_paid": (performance.profit_share_due, performance.profit_share_paid),
        }

    settled = at("2027-02-01 00:10")
    with time_machine.travel(settled, tick=False):
        command("settle_profit_shares")
        snapshot("declined")
    within = settled + timedelta(seconds=grace_seconds - 60)
    with time_machine.travel(within, tick=False):
        command("billing")
        snapshot("within_grace")
    after = settled + timedelta(seconds=grace_seconds + 60)
    with time_machine.travel(after, tick=False):
        steps["billing_after_grace"] = command("billing")
        snapshot("after_grace")
    with time_machine.travel(after + timedelta(days=40), tick=False):
        command("billing")
        snapshot("much_later")
    set_card(user, SUCCEEDS)
    with time_machine.travel(after + timedelta(days=41), tick=False):
        payment = Payment.objects.get(managed_bot_performance=performance)
        retried = charges.retry(payment)
        live = UserSubscription.objects.get(user=user).is_live()
        snapshot("paid")
    steps["retried"] = [p.pk for p in retried.charged] == [payment.pk]
    steps["live_after_payment"] = live
    steps["performance"] = performance
    return steps


def signal_to_paid_share() -> dict:
    """
    End to end: two investors join through the API; the operator's strategy
    buys and sells through ``fan_out()`` (one Order per investor, sized by their
    allocation); ``billing`` runs daily, ``settle_profit_shares`` at the month's
    end recalculates, settles and charges each share through the dummy gateway,
    whose signed events pay it. Returns what each investor ends with.
    """
    from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out

    offer = make_offer()
    investors = []
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        for amount in ("10000", "5000"):
            user = make_trader()
            performance_id = invest(client_for(user), offer, amount)
            investors.append(ManagedBotPerformance.objects.get(pk=performance_id))
    signals = {}
    for signal_id, side, price, when in (
        ("e2e-buy", "buy", "100", "2027-01-10 10:00"),
        ("e2e-sell", "sell", "110", "2027-01-10 11:00"),
    ):
        with time_machine.travel(at(when), tick=False):
            signals[signal_id] = fan_out(
                offer.managed_bot, side, "0.5", price=price, signal_id=signal_id
            ).counts
    run_billing_daily(at("2027-01-02 10:30"), at("2027-01-31 10:30"))
    with time_machine.travel(at("2027-02-01 00:10"), tick=False):
        settle_output = command("settle_profit_shares")
        live = [p.subscription.is_live() for p in investors]
    for performance in investors:
        performance.refresh_from_db()
    return {
        "signals": signals,
        "investors": investors,
        "live": live,
        "settle_output": settle_output,
        "payments": [
            list(
                Payment.objects.filter(managed_bot_performance=performance).values_list(
                    "kind", "profit_share_month", "amount", "status"
                )
            )
            for performance in investors
        ],
    }


def assert_each_investor_paid_their_share(seen: dict) -> None:
    """What ``signal_to_paid_share()`` must end with, on any host: both signals
    executed for both investors, each bought allocation x 0.5 / price, and each
    paid exactly 20% of the profit realized."""
    from tests.fanout_support import order_value, orders_of

    assert {name: counts.get("executed") for name, counts in seen["signals"].items()} == {
        "e2e-buy": 2,
        "e2e-sell": 2,
    }
    for performance, payments, allocation in zip(
        seen["investors"], seen["payments"], (Decimal("10000"), Decimal("5000")), strict=True
    ):
        orders = list(orders_of(performance))
        assert len(orders) == 2
        bought = next(o for o in orders if str(order_value(o, "side")).lower() == "buy")
        assert Decimal(order_value(bought, "quantity")) == allocation * Decimal("0.5") / 100
        assert performance.realized_pnl > 0
        share = (performance.realized_pnl * Decimal("0.2")).quantize(Decimal("0.01"))
        assert payments == [("profit_share", "2027-01", share, "paid")]
        assert (performance.profit_share_paid, performance.profit_share_due) == (
            share,
            Decimal("0.00"),
        )
    assert seen["live"] == [True, True]
