"""
Managed signals through ``fan_out()`` (the entry point for host strategies) on
the example host: one Order per live investor, sized by their allocation, with
their own credentials; skipped investors recorded; a retried signal trades for
nobody twice; the profit ledger counts the Orders.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import override_settings
from django.utils import timezone

from django_torgovo_subscriptions.conf import PAPER_TRADING_MANAGER
from django_torgovo_subscriptions.exceptions import InvalidManagedSignal, ManagedSignalConflict
from django_torgovo_subscriptions.models import ManagedSignal, ManagedTrade, SubscriptionStatus
from django_torgovo_subscriptions.services.managed_bot import profit
from django_torgovo_subscriptions.services.managed_bot.eligibility import investor_skip_reason
from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out
from example_project import settings as example
from tests.fanout_support import invest, make_offer, orders_of
from tests.profit_support import make_trader
from trading.models import Order

pytestmark = pytest.mark.django_db

PAPER = {**example.TORGOVO_SUBSCRIPTIONS, "TRADING_MANAGER_CLASS": PAPER_TRADING_MANAGER}


@pytest.fixture
def offer():
    return make_offer(make_trader(is_staff=True))


def outcomes(signal):
    return {
        t.performance_id: (t.outcome, t.code) for t in ManagedTrade.objects.filter(signal=signal)
    }


def test_every_live_investor_gets_an_order_sized_by_their_allocation(offer):
    small = invest(offer, "1000")
    large = invest(offer, "2500")

    fanned = fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")

    assert fanned.counts == {"pending": 0, "executed": 2, "failed": 0, "skipped": 0}
    assert fanned.queued is False and fanned.signal.completed_at is not None
    for performance, quantity in ((small, "0.01"), (large, "0.025")):
        [order] = orders_of(performance)
        # The example host's own manager saved the Order, with its "managed" source value.
        assert (order.user, order.side, order.status, order.source) == (
            performance.user,
            "BUY",
            "FILLED",
            "MANAGED",
        )
        assert (order.quantity, order.price) == (Decimal(quantity), Decimal("50000"))
        trade = ManagedTrade.objects.get(performance=performance)
        assert (trade.outcome, trade.code, trade.order_id) == ("executed", "", str(order.pk))
        assert trade.allocation == performance.initial_investment


@override_settings(TORGOVO_SUBSCRIPTIONS=PAPER)
def test_the_allocation_is_the_current_balance_once_calculated_and_quantities_round_down(offer):
    performance = invest(offer, "1000")
    performance.current_balance = Decimal("1234.56")
    performance.last_calculated = timezone.now()
    performance.save()

    fan_out(offer.managed_bot, "sell", "0.3", price="70000", signal_id="s-1")

    [order] = orders_of(performance)
    # 1234.56 x 0.3 / 70000 = 0.00529097142..., rounded down to 8 places.
    assert order.quantity == Decimal("0.00529097")
    assert (order.side, order.source) == ("SELL", "MANAGED")
    assert ManagedTrade.objects.get().allocation == Decimal("1234.56")


def test_investors_who_may_not_trade_are_skipped_with_their_reason(offer):
    live = invest(offer)
    past_due = invest(offer, status=SubscriptionStatus.PAST_DUE)
    withdrawn = invest(offer, status=SubscriptionStatus.CANCELLED)
    lapsed = invest(offer, days_left=-1)
    unpaid = invest(offer, status=SubscriptionStatus.PENDING_PAYMENT)
    closed = invest(offer)
    closed.closed_at = timezone.now()
    closed.save()

    fanned = fan_out(offer.managed_bot, "buy", "1", price="50000", signal_id="s-1")

    assert outcomes(fanned.signal) == {
        live.pk: ("executed", ""),
        past_due.pk: ("skipped", "past_due"),
        withdrawn.pk: ("skipped", "withdrawn"),
        lapsed.pk: ("skipped", "subscription_not_live"),
        unpaid.pk: ("skipped", "subscription_not_live"),
    }  # a closed row is no investor any more: no record
    assert Order.objects.get().user == live.user


def test_a_paused_investor_is_skipped(offer):
    performance = invest(offer)
    now = timezone.now()
    assert investor_skip_reason(performance, now) is None
    performance.paused_at = now  # the field the billing side adds; read with getattr
    assert investor_skip_reason(performance, now) == "paused"


def test_an_investor_with_nothing_allocated_is_skipped(offer):
    performance = invest(offer, "0.01")
    fanned = fan_out(offer.managed_bot, "buy", "0.001", price="1000000", signal_id="s-1")
    assert outcomes(fanned.signal) == {performance.pk: ("skipped", "no_allocation")}
    assert not Order.objects.exists()


def test_a_retried_signal_trades_for_nobody_twice(offer, django_assert_max_num_queries):
    first, second = invest(offer), invest(offer)
    fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")
    assert Order.objects.count() == 2

    # No investor is read one by one: the signal's insert (refused, in a savepoint) and
    # lookup, the investors left (none), the completion mark and the counts.
    with django_assert_max_num_queries(8):
        again = fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")

    assert Order.objects.count() == 2
    assert again.counts["executed"] == 2
    assert ManagedSignal.objects.count() == 1

    # A new investor since: the same signal trades for them only.
    third = invest(offer)
    fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")
    assert [o.user for o in Order.objects.order_by("pk")][2] == third.user
    assert Order.objects.count() == 3
    assert {first.pk, second.pk, third.pk} == set(
        ManagedTrade.objects.values_list("performance_id", flat=True)
    )


def test_a_trade_claimed_by_a_run_that_died_is_never_placed_again(offer):
    performance = invest(offer)
    signal = ManagedSignal.objects.create(
        managed_bot=offer.managed_bot,
        signal_id="s-1",
        side="buy",
        symbol="BTC/USDT",
        fraction=Decimal("0.5"),
        price=Decimal("50000"),
        source="function",
    )
    ManagedTrade.objects.create(signal=signal, performance=performance, outcome="pending")

    fanned = fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")

    assert fanned.counts["pending"] == 1
    assert not Order.objects.exists()


def test_a_signal_id_reused_for_another_trade_is_refused(offer):
    invest(offer)
    fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")
    with pytest.raises(ManagedSignalConflict) as raised:
        fan_out(offer.managed_bot, "sell", "0.5", price="50000", signal_id="s-1")
    assert raised.value.code == "signal_conflict"
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    "side, fraction, price, code",
    [
        ("hold", "0.5", "1", "invalid_side"),
        ("buy", "0", "1", "invalid_fraction"),
        ("buy", "1.01", "1", "invalid_fraction"),
        ("buy", "NaN", "1", "invalid_fraction"),
        ("buy", "0.5", "0", "invalid_price"),
        ("buy", "0.5", "abc", "invalid_signal"),
    ],
)
def test_a_signal_that_cannot_be_sized_is_refused(offer, side, fraction, price, code):
    with pytest.raises(InvalidManagedSignal) as raised:
        fan_out(offer.managed_bot, side, fraction, price=price, signal_id="s-1")
    assert raised.value.code == code
    assert not ManagedSignal.objects.exists()


def test_one_investors_exchange_error_does_not_stop_the_others(offer):
    live = invest(offer, Demo=False)  # the example host's manager refuses live trading
    demo = invest(offer)

    fanned = fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")

    assert outcomes(fanned.signal) == {
        live.pk: ("failed", "execution_error"),
        demo.pk: ("executed", ""),
    }
    failed = ManagedTrade.objects.get(performance=live)
    assert "Live trading is not configured" in failed.error
    assert Order.objects.get(pk=failed.order_id).status == "FAILED"


@override_settings(TORGOVO_SUBSCRIPTIONS=PAPER)
def test_the_profit_ledger_counts_the_fanned_out_orders(offer):
    performance = invest(offer, "1000")
    fan_out(offer.managed_bot, "buy", "1", price="50000", signal_id="entry")
    fan_out(offer.managed_bot, "sell", "1", price="55000", signal_id="exit")

    profit.recalculate(performance, until=timezone.now() + timedelta(seconds=1))

    performance.refresh_from_db()
    # Bought 0.02 at 50000 (1000.00), sold 0.01818181 at 55000: the FIFO ledger realizes
    # 0.01818181 x (55000 - 50000) on the part sold; paper trading charges no fee.
    assert performance.realized_pnl == Decimal("90.91")
    assert performance.current_balance == Decimal("1090.91")


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, []),
        ({"MANAGED_EXECUTION": "celery", "MANAGED_CELERY_QUEUE": "fanout"}, []),
        ({"MANAGED_EXECUTION": "threads"}, ["subscriptions.E065"]),
        ({"MANAGED_CELERY_QUEUE": ""}, ["subscriptions.E067"]),
        ({"MANAGED_CHUNK_SIZE": 0}, ["subscriptions.E068"]),
        ({"MANAGED_CHUNK_SIZE": "200"}, ["subscriptions.E068"]),
    ],
)
def test_the_managed_signal_settings_are_checked(settings, overrides, expected):
    from django_torgovo_subscriptions.checks.managed_bot import check_managed_settings

    settings.TORGOVO_SUBSCRIPTIONS = {**example.TORGOVO_SUBSCRIPTIONS, **overrides}
    assert [m.id for m in check_managed_settings()] == expected
