"""
Managed-bot billing on the example host: subscriptions that last while the
user is invested, withdrawal, the share charged as a profit-share Payment
through the dummy gateway and paid only by its signed event, past_due and the
pause of an unpaid investor. The scenarios shared with the alt host are in
tests/managed_billing_support.py.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings as django_settings

from django_torgovo_subscriptions.conf import subscriptions_settings
from django_torgovo_subscriptions.models import ManagedBotPerformance, Payment, UserSubscription
from django_torgovo_subscriptions.payments.dummy import RENEWALS_DECLINED, SUCCEEDS
from django_torgovo_subscriptions.services import subscriptions as lifecycle
from django_torgovo_subscriptions.services.managed_bot import charges, profit
from django_torgovo_subscriptions.services.payments import run_billing
from tests.managed_billing_support import (
    WORKED_EXAMPLE,
    assert_each_investor_paid_their_share,
    client_for,
    command,
    failed_charge_pauses_until_paid,
    invest,
    make_offer,
    set_card,
    signal_to_paid_share,
    trade,
    worked_example_month_by_month,
)
from tests.profit_support import at, make_trader

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dummy")]


def test_the_worked_example_is_charged_month_by_month_and_the_subscription_lasts():
    seen = worked_example_month_by_month()
    performance = seen["performance"]
    charged = [(month, share) for month, _net, share in WORKED_EXAMPLE if share]
    assert seen["payments"] == [("profit_share", month, share, "paid") for month, share in charged]
    assert (performance.profit_share_paid, performance.profit_share_due) == (
        Decimal("161.83"),
        Decimal("0.00"),
    )
    assert performance.high_water_mark == Decimal("809.16")
    assert performance.closed_at is None
    assert ManagedBotPerformance.objects.filter(user=seen["user"]).count() == 1
    assert seen["live"] and seen["subscription"].status == "active"
    assert seen["subscription"].end_date == at("2027-05-02 10:00")
    [row] = seen["report"]["results"]
    last = Payment.objects.filter(managed_bot_performance=performance).latest("created_at")
    assert {
        key: row[key]
        for key in (
            "profit_share_due",
            "profit_share_invoiced",
            "profit_share_overdue",
            "profit_share_paid",
            "profit_share_payment_id",
            "paused_at",
        )
    } == {
        "profit_share_due": "0.00",
        "profit_share_invoiced": "0.00",
        "profit_share_overdue": "0.00",
        "profit_share_paid": "161.83",
        "profit_share_payment_id": last.pk,
        "paused_at": None,
    }
    history = [
        (p["kind"], p["profit_share_month"], p["amount"], p["managed_bot_performance_id"])
        for p in seen["history"]["results"]
    ]
    assert history == [
        ("profit_share", "2027-03", "52.84", performance.pk),
        ("profit_share", "2027-01", "108.99", performance.pk),
    ]
    february = seen["settle_outputs"][1]
    assert "profit share charged 0.00" in february and "charged: 0 (none)" in february
    assert f"#{last.pk} 52.84 USD 2027-03" in seen["settle_outputs"][2]


def test_a_failed_charge_makes_past_due_then_pauses_and_payment_unpauses():
    grace = subscriptions_settings.PAST_DUE_GRACE_SECONDS
    steps = failed_charge_pauses_until_paid(grace)
    owed = (Decimal("100.00"), Decimal("0.00"))
    assert steps["declined"] == {
        "subscription": "past_due",
        "payment": "failed",
        "paused": (False, ""),
        "due_paid": owed,
    }
    assert steps["within_grace"] == steps["declined"]
    paused = {**steps["declined"], "paused": (True, "profit_share_unpaid")}
    assert steps["after_grace"] == paused
    assert "investors paused: 1" in steps["billing_after_grace"]
    assert "past_due expired: 0" in steps["billing_after_grace"]
    assert steps["much_later"] == paused  # never expired for an unpaid share
    assert steps["paid"] == {
        "subscription": "active",
        "payment": "paid",
        "paused": (False, ""),
        "due_paid": (Decimal("0.00"), Decimal("100.00")),
    }
    assert steps["retried"] and steps["live_after_payment"]
    assert steps["performance"].closed_at is None


def test_an_unpaid_share_pauses_the_investors_trading_until_it_is_paid():
    from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out

    def signal(step, performance):
        fan_out(performance.managed_bot, "buy", "0.1", price="100", signal_id=f"step-{step}")
        trade = performance.managed_trades.get(signal__signal_id=f"step-{step}")
        return trade.outcome, trade.code

    steps = failed_charge_pauses_until_paid(
        subscriptions_settings.PAST_DUE_GRACE_SECONDS, during=signal
    )
    assert steps["during"] == {
        "declined": ("skipped", "past_due"),
        "within_grace": ("skipped", "past_due"),
        "after_grace": ("skipped", "paused"),
        "much_later": ("skipped", "paused"),
        "paid": ("executed", ""),
    }


def test_an_unpriced_managed_subscription_renews_without_a_payment_as_often_as_needed():
    user = make_trader()
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        invest(client_for(user), make_offer())
    subscription = UserSubscription.objects.get(user=user)
    assert (subscription.payment_method, subscription.gateway_subscription_id) == ("", "")
    # Within the renewal grace the row stays live even before billing runs.
    with time_machine.travel(at("2027-02-02 10:30"), tick=False):
        assert subscription.is_live() and UserSubscription.objects.live().count() == 1
    report = run_billing(now=at("2027-04-03 00:00"))
    subscription.refresh_from_db()
    assert report.renewed_without_payment == 3 and report.errors == []
    assert (subscription.status, subscription.end_date) == ("active", at("2027-05-02 10:00"))
    assert not Payment.objects.exists()
    assert run_billing(now=at("2027-04-03 00:00")).renewed_without_payment == 0


def test_a_priced_managed_plan_renews_through_the_gateway():
    user = make_trader()
    offer = make_offer(monthly_price="49.00")
    invest(client_for(user), offer)
    subscription = UserSubscription.objects.get(user=user)
    assert subscription.status == "pending_payment"
    from django_torgovo_subscriptions.payments.dummy import DummyGateway
    from django_torgovo_subscriptions.services import payments as billing

    DummyGateway().pay(billing.create_checkout(subscription)[0])
    subscription.refresh_from_db()
    report = run_billing(now=subscription.end_date - timedelta(minutes=30))
    assert (report.renewals_charged, report.renewed_without_payment) == (1, 0)
    assert list(Payment.objects.values_list("kind", "amount")) == [
        ("subscription", Decimal("49.00")),
        ("subscription", Decimal("49.00")),
    ]


def test_withdrawing_settles_now_and_coming_back_keeps_the_ledger():
    user = make_trader()
    client = client_for(user)
    offer = make_offer()
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        performance = ManagedBotPerformance.objects.get(pk=invest(client, offer))
    trade(performance, "2027-01", Decimal("500"))
    with time_machine.travel(at("2027-01-20 12:00"), tick=False):
        subscription = UserSubscription.objects.get(user=user)
        lifecycle.cancel(subscription)
        performance.refresh_from_db()
        # Settled to the moment of withdrawal; the next billing run charges it.
        assert (performance.profit_share_due, performance.profit_share_paid) == (100, 0)
        assert "profit shares charged: 1" in command("billing")
    performance.refresh_from_db()
    subscription.refresh_from_db()
    # The slot is free at once.
    assert performance.closed_at == at("2027-01-20 12:00")
    assert (performance.profit_share_paid, performance.high_water_mark) == (
        Decimal("100.00"),
        Decimal("500.00"),
    )
    assert (subscription.status, subscription.end_date) == ("cancelled", None)
    [listed] = client.get("/api/managed-bot/available/").json()["results"]
    assert listed["performance"]["investors"] == 0  # withdrawn
    [exit_charge] = Payment.objects.filter(managed_bot_performance=performance)
    assert (exit_charge.profit_share_month, exit_charge.status) == ("2027-01", "paid")

    with time_machine.travel(at("2027-02-05 10:00"), tick=False):
        again = invest(client, offer, amount="2000")
    assert again == performance.pk
    performance.refresh_from_db()
    assert performance.closed_at is None and performance.high_water_mark == Decimal("500.00")
    assert performance.subscription.pk != subscription.pk
    assert performance.initial_investment == Decimal("2000.00")
    # Back to 500 net after a loss and a gain: nothing above the mark, nothing charged.
    trade(performance, "2027-02", Decimal("-100"))
    trade(performance, "2027-03", Decimal("100"))
    with time_machine.travel(at("2027-04-01 01:00"), tick=False):
        command("settle_profit_shares", "--month", "2027-02")
        command("settle_profit_shares", "--month", "2027-03")
    performance.refresh_from_db()
    assert performance.profit_share_paid == Decimal("100.00")
    assert Payment.objects.filter(managed_bot_performance=performance).count() == 1


def test_settling_twice_makes_one_charge_and_paid_events_apply_once():
    user = make_trader()
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        performance = ManagedBotPerformance.objects.get(pk=invest(client_for(user), make_offer()))
    trade(performance, "2027-01", Decimal("500"))
    with time_machine.travel(at("2027-02-03 00:00"), tick=False):
        for _ in range(2):
            profit.settle_period(performance, 2027, 1)
            charges.charge_pending()
            run_billing()
    [payment] = Payment.objects.filter(managed_bot_performance=performance)
    performance.refresh_from_db()
    assert (payment.status, payment.amount, payment.gateway_invoice_id) == (
        "paid",
        Decimal("100.00"),
        f"in_dummy_ps_{payment.pk}",
    )
    assert performance.profit_share_paid == Decimal("100.00")
    assert django_settings.TORGOVO_SUBSCRIPTIONS  # the example host's settings are in use


# --- admin -----------------------------------------------------------------------------


def declined_share():
    """An investor whose January share of 100.00 was declined (now past_due)."""
    user = make_trader()
    with time_machine.travel(at("2027-01-02 10:00"), tick=False):
        performance = ManagedBotPerformance.objects.get(pk=invest(client_for(user), make_offer()))
    set_card(user, RENEWALS_DECLINED)
    trade(performance, "2027-01", Decimal("500"))
    with time_machine.travel(at("2027-02-01 00:10"), tick=False):
        command("settle_profit_shares")
    return user, performance, Payment.objects.get(managed_bot_performance=performance)


def test_the_admin_shows_charges_and_retries_a_failed_one(admin_client):
    user, performance, payment = declined_share()
    changelist = "/admin/subscriptions/payment/"
    page = admin_client.get(f"{changelist}?kind__exact=profit_share").content.decode()
    assert "2027-01" in page and "Profit share" in page and "Failed" in page
    set_card(user, SUCCEEDS)
    response = admin_client.post(
        changelist, {"action": "retry_charge", "_selected_action": [payment.pk]}, follow=True
    )
    assert f"Payment {payment.pk} charged again: Paid." in response.content.decode()
    payment.refresh_from_db()
    performance.refresh_from_db()
    assert payment.status == "paid" and performance.profit_share_paid == Decimal("100.00")
    assert UserSubscription.objects.get(user=user).status == "active"


def test_the_admin_pauses_and_unpauses_and_cannot_edit_the_share_paid(admin_client):
    user = make_trader()
    performance = ManagedBotPerformance.objects.get(pk=invest(client_for(user), make_offer()))
    changelist = "/admin/subscriptions/managedbotperformance/"
    page = admin_client.get(f"{changelist}{performance.pk}/change/").content.decode()
    assert 'name="profit_share_paid"' not in page and 'name="paused_at"' not in page
    selected = {"_selected_action": [performance.pk]}
    admin_client.post(changelist, {"action": "pause_selected", **selected})
    performance.refresh_from_db()
    assert performance.paused_at is not None and performance.pause_reason == "operator"
    # The billing run lifts only its own pause.
    run_billing()
    performance.refresh_from_db()
    assert performance.pause_reason == "operator"
    admin_client.post(changelist, {"action": "unpause_selected", **selected})
    performance.refresh_from_db()
    assert (performance.paused_at, performance.pause_reason) == (None, "")


def test_billing_prints_the_charges_it_made_and_charges_nothing_twice():
    user, performance, payment = declined_share()
    # A pending share the gateway has not seen yet (say, Stripe was unreachable).
    Payment.objects.filter(pk=payment.pk).update(
        status="pending", gateway_invoice_id="", attempt_count=0
    )
    set_card(user, SUCCEEDS)
    with time_machine.travel(at("2027-02-01 01:00"), tick=False):
        first, second = command("billing"), command("billing")
    assert f"profit shares charged: 1 (#{payment.pk} 100.00 USD 2027-01)" in first
    assert "profit shares charged: 0 (none)" in second
    payment.refresh_from_db()
    assert payment.status == "paid"


def test_past_due_for_a_declined_renewal_still_expires_when_no_share_is_unpaid():
    from django_torgovo_subscriptions.payments.dummy import DummyGateway
    from django_torgovo_subscriptions.services import payments as billing

    user = make_trader()
    invest(client_for(user), make_offer(monthly_price="49.00"))
    subscription = UserSubscription.objects.get(user=user)
    DummyGateway().pay(billing.create_checkout(subscription)[0], RENEWALS_DECLINED)
    subscription.refresh_from_db()
    Payment.objects.create(
        kind="profit_share",
        status="paid",
        user=user,
        subscription=subscription,
        gateway="dummy",
        gateway_invoice_id="in_dummy_ps_paid",
        amount=10,
        currency="USD",
    )
    run_billing(now=subscription.end_date - timedelta(minutes=30))
    subscription.refresh_from_db()
    assert subscription.status == "past_due"
    grace = timedelta(seconds=subscriptions_settings.PAST_DUE_GRACE_SECONDS)
    with time_machine.travel(subscription.end_date + grace + timedelta(minutes=1), tick=False):
        report = run_billing()
    subscription.refresh_from_db()
    assert (report.past_due_expired, subscription.status) == (1, "expired")


def test_an_operator_signal_ends_in_a_paid_profit_share_for_each_investor():
    assert_each_investor_paid_their_share(signal_to_paid_share())
