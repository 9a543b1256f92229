"""Managed-bot profit from the example host's Orders: recalculation and settlement."""

from datetime import timedelta
from decimal import Decimal as D
from decimal import localcontext

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from django_torgovo_subscriptions.services.managed_bot.profit import (
    PeriodNotOver,
    ProfitError,
    ledger_of,
    performance_summary,
    recalculate,
    record_profit_share_payment,
    settle_on_exit,
    settle_period,
)
from django_torgovo_subscriptions.services.managed_bot.profit.fifo import CONTEXT
from example_project import settings as example
from tests.profit_support import (
    NOW,
    at,
    ledger_figures,
    make_bot,
    make_order,
    make_performance,
    make_trader,
)
from trading.models import Order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


@pytest.fixture
def perf():
    return make_performance()


def test_realized_profit_from_executed_orders_with_fees(perf):
    make_order(perf, side="buy", quantity="1", price="100", fee="1", when="2024-01-02 10:00")
    make_order(perf, side="buy", quantity="1", price="110", fee="1", when="2024-01-03 10:00")
    make_order(perf, side="sell", quantity="1.5", price="120", fee="1.8", when="2024-01-04 10:00")

    result = recalculate(perf)

    assert (result.orders_read, result.rebuilt, result.reason) == (3, False, "incremental")
    assert perf.realized_pnl == D("21.70")
    assert (perf.total_profit, perf.total_loss, perf.fees_paid) == (D("21.70"), 0, D("3.80"))
    assert perf.current_balance == D("10021.70")
    assert perf.open_quantity == D("0.5") and perf.open_cost == D("55.5")
    assert {k: D(v) for k, v in perf.pnl_state["months"].items()} == {"2024-01": D("21.7")}
    last = Order.objects.order_by("created_at").last()
    assert (perf.last_order_at, perf.last_order_pk) == (last.created_at, str(last.pk))


def test_failed_orders_other_bots_and_other_users_do_not_count(perf):
    make_order(perf, side="buy", quantity="1", price="100", when="2024-01-02 10:00")
    make_order(
        perf, side="sell", quantity="1", price="500", when="2024-01-03 10:00", status="failed"
    )
    make_order(
        perf.user,
        make_bot(perf.user),
        side="sell",
        quantity="1",
        price="500",
        when="2024-01-03 10:00",
    )
    make_order(
        make_trader(),
        perf.managed_bot,
        side="sell",
        quantity="1",
        price="500",
        when="2024-01-03 10:00",
    )
    make_order(perf, side="sell", quantity="1", price="105", when="2024-01-04 10:00")
    recalculate(perf)
    assert perf.realized_pnl == D("5.00")
    assert perf.pnl_state["orders"] == 2


def test_orders_before_the_subscription_do_not_count():
    perf = make_performance(orders_since=at("2024-02-01 00:00"))
    make_order(perf, side="buy", quantity="1", price="100", when="2024-01-20 10:00")
    make_order(perf, side="buy", quantity="1", price="200", when="2024-02-01 00:00")
    make_order(perf, side="sell", quantity="2", price="210", when="2024-02-02 10:00")
    recalculate(perf)
    # the January buy is not ours: the sell matches only the February lot
    assert perf.realized_pnl == D("10.00")
    assert D(perf.pnl_state["excess_sell_quantity"]) == 1


def test_a_second_run_reads_nothing_and_changes_nothing(perf):
    make_order(perf, side="buy", quantity="2", price="100", fee="0.2", when="2024-01-02 10:00")
    make_order(perf, side="sell", quantity="1", price="130", fee="0.13", when="2024-01-05 10:00")
    recalculate(perf)
    before = ledger_figures(perf)
    again = recalculate(perf)
    assert again.orders_read == 0
    assert ledger_figures(perf) == before


def test_incremental_runs_read_only_new_orders_and_equal_a_full_rebuild(perf):
    make_order(perf, side="buy", quantity="3", price="100", fee="0.3", when="2024-01-02 10:00")
    make_order(perf, side="sell", quantity="1", price="90", fee="0.09", when="2024-01-10 10:00")
    recalculate(perf)
    make_order(perf, side="sell", quantity="1.5", price="140", fee="0.21", when="2024-02-10 10:00")
    make_order(perf, side="buy", quantity="1", price="120", fee="0.12", when="2024-03-01 10:00")
    make_order(perf, side="sell", quantity="1.5", price="150", fee="0.22", when="2024-03-10 10:00")

    with CaptureQueriesContext(connection) as queries:
        result = recalculate(perf)
    assert result.orders_read == 3
    assert len(queries) <= 7  # lock, orders, pending scan, daily points, save (+ savepoints)
    incremental = ledger_figures(perf)

    full = recalculate(perf, full=True)
    assert (full.orders_read, full.rebuilt, full.reason) == (5, True, "full")
    assert ledger_figures(perf) == incremental


def test_orders_younger_than_the_delay_wait_for_the_next_run(perf):
    make_order(perf, side="buy", quantity="1", price="100", when="2024-06-15 11:59:58")
    assert recalculate(perf).orders_read == 0
    with time_machine.travel(at("2024-06-15 12:00:10"), tick=False):
        assert recalculate(perf).orders_read == 1


def test_an_order_filled_after_the_cursor_passed_it_triggers_a_rebuild(perf):
    pending = make_order(
        perf, side="buy", quantity="1", price="100", when="2024-06-12 10:00", status="PENDING"
    )
    make_order(perf, side="buy", quantity="1", price="200", when="2024-06-13 10:00")
    make_order(perf, side="sell", quantity="1", price="210", when="2024-06-14 10:00")
    recalculate(perf)
    assert perf.realized_pnl == D("10.00")  # matched the 200 lot: the first was pending
    assert list(perf.pnl_state["pending"]) == [str(pending.pk)]

    Order.objects.filter(pk=pending.pk).update(status="FILLED")
    result = recalculate(perf)
    assert result.rebuilt and result.reason == "late fill"
    assert perf.realized_pnl == D("110.00")  # FIFO now closes the 100 lot first
    assert perf.pnl_state["pending"] == {}
    figures = ledger_figures(perf)
    recalculate(perf, full=True)
    assert ledger_figures(perf) == figures


def test_a_pending_order_that_fails_is_forgotten(perf):
    pending = make_order(
        perf, side="buy", quantity="1", price="100", when="2024-06-14 10:00", status="PENDING"
    )
    recalculate(perf)
    assert list(perf.pnl_state["pending"]) == [str(pending.pk)]
    Order.objects.filter(pk=pending.pk).update(status="FAILED")
    result = recalculate(perf)
    assert not result.rebuilt and perf.pnl_state["pending"] == {}


def test_months_follow_the_projects_time_zone(perf):
    make_order(perf, side="buy", quantity="1", price="100", when="2024-01-15 10:00")
    # 2024-01-31 20:30 UTC is 2024-02-01 01:30 in Asia/Karachi
    make_order(perf, side="sell", quantity="1", price="110", when="2024-02-01 01:30")
    recalculate(perf)
    assert {k: D(v) for k, v in perf.pnl_state["months"].items()} == {"2024-02": D("10")}


def test_the_filled_quantity_column_is_used_when_mapped(perf):
    # The example Order has no filled-quantity column; any decimal column shows
    # the mapping is honoured. Here the fee column stands in for "filled".
    fields = {
        **example.TORGOVO_SUBSCRIPTIONS["ORDER_FIELDS"],
        "filled_quantity": "fee",
        "fee": None,
    }
    make_order(perf, side="buy", quantity="1", price="100", fee="0.25", when="2024-01-02 10:00")
    make_order(perf, side="sell", quantity="1", price="120", fee="0.25", when="2024-01-03 10:00")
    with override_settings(
        TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, "ORDER_FIELDS": fields}
    ):
        recalculate(perf)
    assert perf.realized_pnl == D("5.00")  # 0.25 x (120 - 100)


def test_a_host_without_an_order_time_is_told_what_to_set(perf):
    fields = {**example.TORGOVO_SUBSCRIPTIONS["ORDER_FIELDS"], "created_at": None}
    with (
        override_settings(
            TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, "ORDER_FIELDS": fields}
        ),
        pytest.raises(ImproperlyConfigured, match="created_at"),
    ):
        recalculate(perf)


# --- settlement ------------------------------------------------------------------------


def make_three_months(perf):
    """DESIGN §7's months: +544.96, -123.60, +387.80 (fees included)."""
    make_order(perf, side="buy", quantity="1", price="40000", fee="20", when="2024-01-03 09:00")
    make_order(
        perf, side="sell", quantity="1", price="40585", fee="20.04", when="2024-01-28 18:00"
    )  # +544.96
    make_order(perf, side="buy", quantity="2", price="20000", fee="20", when="2024-02-05 09:00")
    make_order(
        perf, side="sell", quantity="2", price="19958", fee="19.6", when="2024-02-26 18:00"
    )  # -123.60
    make_order(perf, side="buy", quantity="0.5", price="60000", fee="15", when="2024-03-04 09:00")
    make_order(
        perf, side="sell", quantity="0.5", price="60835", fee="14.7", when="2024-03-31 23:59:59"
    )  # +387.80


def test_monthly_settlement_reproduces_the_design_example(perf):
    make_three_months(perf)
    fees = [settle_period(perf, 2024, month) for month in (1, 2, 3)]
    assert [f.period_net_profit for f in fees] == [D("544.96"), D("-123.60"), D("387.80")]
    assert [f.amount for f in fees] == [D("108.99"), D("0.00"), D("52.84")]
    assert [f.high_water_mark for f in fees] == [D("544.96"), D("544.96"), D("809.16")]
    perf.refresh_from_db()
    assert perf.profit_share_due == D("161.83")
    assert perf.high_water_mark == D("809.16") and perf.settled_net_profit == D("809.16")
    assert perf.settled_until == at("2024-04-01 00:00")


def test_settling_a_month_twice_or_an_earlier_month_changes_nothing(perf):
    make_three_months(perf)
    settle_period(perf, 2024, 3)  # covers January to March at once
    assert perf.profit_share_due == D("161.83")
    for month in (3, 2):
        again = settle_period(perf, 2024, month)
        assert again.already_settled and again.amount == 0
    assert perf.profit_share_due == D("161.83")


def test_settling_a_past_month_after_the_ledger_moved_on_uses_that_months_figures(perf):
    make_three_months(perf)
    recalculate(perf)  # the ledger reaches June
    assert settle_period(perf, 2024, 1).amount == D("108.99")
    assert settle_period(perf, 2024, 2).amount == D("0.00")


def test_a_month_that_has_not_ended_cannot_be_settled(perf):
    with pytest.raises(PeriodNotOver):
        settle_period(perf, 2024, 6)


def test_the_rate_comes_from_the_plan():
    perf = make_performance(percentage="30.00")
    make_order(perf, side="buy", quantity="1", price="100", when="2024-01-02 10:00")
    make_order(perf, side="sell", quantity="1", price="200", when="2024-01-03 10:00")
    assert settle_period(perf, 2024, 1).amount == D("30.00")


def test_settle_on_exit_charges_the_final_share_and_closes(perf):
    make_three_months(perf)
    settle_period(perf, 2024, 1)
    make_order(perf, side="buy", quantity="1", price="100", when="2024-06-10 10:00")
    make_order(perf, side="sell", quantity="1", price="150", when="2024-06-14 10:00")
    final = settle_on_exit(perf)
    # cumulative 809.16 + 50 = 859.16; 20% above the 544.96 mark
    assert final.final and final.amount == D("62.84")
    assert perf.closed_at == at(NOW) and perf.profit_share_due == D("171.83")
    # Orders after leaving never count; settling again changes nothing.
    make_order(perf, side="buy", quantity="1", price="1", when="2024-06-15 12:30")
    with time_machine.travel(at("2024-07-02 00:00"), tick=False):
        assert recalculate(perf).orders_read == 0
        assert settle_period(perf, 2024, 6).already_settled
        assert settle_on_exit(perf).already_settled
    assert perf.profit_share_due == D("171.83")


def test_settle_on_exit_in_the_past_rebuilds_the_ledger_to_that_moment(perf):
    make_three_months(perf)
    recalculate(perf)
    final = settle_on_exit(perf, at=at("2024-03-01 00:00"))
    assert final.net_profit == D("421.36") and final.amount == D("84.27")  # 20% of 421.36
    assert perf.calculated_until == at("2024-03-01 00:00")
    assert perf.realized_pnl == D("421.36")


def test_a_loss_at_exit_charges_nothing(perf):
    make_order(perf, side="buy", quantity="1", price="100", when="2024-05-02 10:00")
    make_order(perf, side="sell", quantity="1", price="80", when="2024-05-03 10:00")
    assert settle_on_exit(perf).amount == D("0.00")


def test_payments_move_the_share_from_due_to_paid(perf):
    make_three_months(perf)
    settle_period(perf, 2024, 3)
    record_profit_share_payment(perf, D("100.00"))
    assert (perf.profit_share_due, perf.profit_share_paid) == (D("61.83"), D("100.00"))
    with pytest.raises(ProfitError):
        record_profit_share_payment(perf, D("61.84"))
    with pytest.raises(ValueError):
        record_profit_share_payment(perf, D("0.001"))
    # what was paid still counts as charged: nothing new is due
    assert settle_period(perf, 2024, 4).amount == 0


def test_the_summary_shows_the_share_accruing_in_the_open_period(perf):
    make_three_months(perf)
    settle_period(perf, 2024, 1)
    recalculate(perf)
    summary = performance_summary(perf)
    assert summary.realized_pnl == D("809.16")
    assert summary.profit_share_rate == D("0.2")
    assert summary.profit_share_accruing == D("52.84")
    assert summary.profit_share_due == D("108.99")
    assert summary.open_quantity == 0


def test_exact_figures_are_kept_between_settlements(perf):
    make_order(perf, side="buy", quantity="3", price="10", fee="0.01", when="2024-01-02 10:00")
    make_order(perf, side="sell", quantity="1", price="11", when="2024-01-03 10:00")
    recalculate(perf)
    # one third of the 0.01 fee went with the sold unit: not rounded internally
    with localcontext(CONTEXT):
        assert ledger_of(perf).net == D("11") - (D("30.01") / 3)
    assert perf.realized_pnl == D("1.00")  # 0.99666... shown rounded


# --- incremental == full for random order sequences --------------------------------------

order_steps = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell", "sell", "failed", "pending"]),
        st.decimals(min_value=D("0.001"), max_value=5, places=3),
        st.decimals(min_value=1, max_value=1000, places=2),
        st.decimals(min_value=0, max_value=2, places=4),
        st.integers(min_value=0, max_value=3),  # minutes to the next order (ties included)
    ),
    min_size=1,
    max_size=25,
)


class IncrementalEqualsFullTests(TestCase):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(order_steps, st.lists(st.integers(min_value=0, max_value=25), max_size=3))
    def test_runs_split_at_any_points_equal_one_full_rebuild(self, steps, splits):
        with time_machine.travel(at(NOW), tick=False):
            perf = make_performance()
            when = at("2024-01-30 22:00")
            times = []
            for kind, quantity, price, fee, gap in steps:
                when += timedelta(minutes=gap * 30)
                times.append(when)
                side = "buy" if kind == "buy" else "sell"
                status = {"failed": "failed", "pending": "PENDING"}.get(kind, "executed")
                make_order(
                    perf,
                    side=side,
                    quantity=quantity,
                    price=price,
                    fee=fee,
                    when=when,
                    status=status,
                )
            for split in sorted(splits):
                if split < len(times):
                    recalculate(perf, until=times[split])
            recalculate(perf)
            incremental = ledger_figures(perf)
            recalculate(perf, full=True)
            self.assertEqual(ledger_figures(perf), incremental)


def test_every_source_counts_unless_profit_order_sources_limits_them(perf):
    from django_torgovo_subscriptions.host import get_host_adapter

    adapter = get_host_adapter()
    managed, manual = adapter.order_value("source", "managed"), "MANUAL"
    make_order(perf, side="buy", quantity="1", price="100", when="2024-01-02 10:00", source=managed)
    make_order(perf, side="sell", quantity="1", price="110", when="2024-01-03 10:00", source=manual)
    make_order(perf, side="buy", quantity="1", price="100", when="2024-01-04 10:00", source=managed)
    make_order(
        perf, side="sell", quantity="1", price="130", when="2024-01-05 10:00", source=managed
    )
    recalculate(perf)
    assert perf.realized_pnl == D("40.00")  # both sells, whatever placed them
    with override_settings(
        TORGOVO_SUBSCRIPTIONS={**example.TORGOVO_SUBSCRIPTIONS, "PROFIT_ORDER_SOURCES": ["managed"]}
    ):
        recalculate(perf, full=True)
    assert perf.realized_pnl == D("30.00")  # the manual sell is left out: 130 - 100


def test_daily_points_follow_a_rebuild_to_an_earlier_moment(perf):
    make_order(perf, side="buy", quantity="1", price="100", when="2024-01-02 10:00")
    make_order(perf, side="sell", quantity="1", price="120", when="2024-01-05 10:00")
    recalculate(perf)
    assert perf.daily_points.count() == (at(NOW).date() - at("2024-01-02 00:00").date()).days + 1
    recalculate(perf, full=True, until=at("2024-01-05 00:00"))
    assert list(perf.daily_points.values_list("date", "cumulative_net")) == [
        (at("2024-01-02 00:00").date(), D("0.00")),
        (at("2024-01-03 00:00").date(), D("0.00")),
        (at("2024-01-04 00:00").date(), D("0.00")),
    ]
    recalculate(perf, full=True)
    assert perf.daily_points.get(date=at("2024-01-05 00:00").date()).cumulative_net == D("20.00")
