"""
Managed-bot profit on the differently shaped host: Trade with a UUID key,
account/strategy/direction/amount/fill_price/commission/state/placed_at,
lower-case choice values. Only the field map tells the service about them.
"""

import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest
import time_machine
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from django_torgovo_subscriptions.services.managed_bot.profit import (
    recalculate,
    settle_on_exit,
    settle_period,
)
from tests.brokerage.models import Strategy, Trade
from tests.profit_support import (
    NOW,
    at,
    ledger_figures,
    make_order,
    make_performance,
    make_trader,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_clock")]


def test_profit_comes_from_trades_through_the_field_map():
    perf = make_performance()
    assert isinstance(perf.managed_bot, Strategy)
    make_order(perf, side="buy", quantity="1", price="100", fee="1", when="2024-01-02 10:00")
    make_order(perf, side="buy", quantity="1", price="110", fee="1", when="2024-01-03 10:00")
    make_order(perf, side="sell", quantity="1.5", price="120", fee="1.8", when="2024-01-04 10:00")
    make_order(
        perf, side="sell", quantity="9", price="999", when="2024-01-05 10:00", status="failed"
    )
    recalculate(perf)
    assert Trade.objects.filter(state="executed").count() == 3
    assert perf.realized_pnl == D("21.70") and perf.fees_paid == D("3.80")
    last = Trade.objects.filter(state="executed").order_by("placed_at").last()
    assert isinstance(last.pk, uuid.UUID)
    assert perf.last_order_pk == str(last.pk)


def test_uuid_keys_break_ties_in_time_and_the_cursor_resumes_after_them():
    perf = make_performance()
    same_time = at("2024-01-02 10:00")
    for _ in range(6):
        make_order(perf, side="buy", quantity="1", price="100", when=same_time)
    first = recalculate(perf, until=same_time + timedelta(seconds=1))
    assert first.orders_read == 6
    make_order(perf, side="sell", quantity="6", price="101", when="2024-01-03 10:00")
    assert recalculate(perf).orders_read == 1
    assert perf.realized_pnl == D("6.00")
    figures = ledger_figures(perf)
    recalculate(perf, full=True)
    assert ledger_figures(perf) == figures


def test_the_design_example_settles_on_the_alt_host():
    perf = make_performance()
    for month, (buy, sell, fee) in enumerate(
        [("40000", "40565", "20.04"), ("40000", "39876.40", "0"), ("30000", "30407.80", "20")],
        start=1,
    ):
        make_order(perf, side="buy", quantity="1", price=buy, when=f"2024-0{month}-03 09:00")
        make_order(
            perf, side="sell", quantity="1", price=sell, fee=fee, when=f"2024-0{month}-20 09:00"
        )
    settlements = [settle_period(perf, 2024, m) for m in (1, 2, 3)]
    assert [s.period_net_profit for s in settlements] == [D("544.96"), D("-123.60"), D("387.80")]
    assert [s.amount for s in settlements] == [D("108.99"), D("0.00"), D("52.84")]
    assert perf.profit_share_due == D("161.83")


def test_exit_and_the_command_work_with_uuid_trades():
    perf = make_performance()
    make_order(perf, side="buy", quantity="2", price="50", when="2024-06-01 10:00")
    make_order(perf, side="sell", quantity="2", price="60", when="2024-06-02 10:00")
    call_command("recalculate_profits", "--user", perf.user.username, verbosity=0)
    perf.refresh_from_db()
    assert perf.realized_pnl == D("20.00")
    assert settle_on_exit(perf).amount == D("4.00")


def test_other_accounts_trades_do_not_count():
    perf = make_performance()
    make_order(perf, side="buy", quantity="1", price="50", when="2024-06-01 10:00")
    make_order(
        make_trader(),
        perf.managed_bot,
        side="sell",
        quantity="1",
        price="80",
        when="2024-06-02 10:00",
    )
    recalculate(perf)
    assert perf.realized_pnl == 0 and perf.open_quantity == 1


steps = st.lists(
    st.tuples(
        st.sampled_from(["buy", "sell", "failed"]),
        st.decimals(min_value=D("0.0001"), max_value=3, places=4),
        st.decimals(min_value=1, max_value=500, places=3),
        st.decimals(min_value=0, max_value=1, places=5),
        st.integers(min_value=0, max_value=2),
    ),
    min_size=1,
    max_size=20,
)


class UuidIncrementalEqualsFullTests(TestCase):
    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(steps, st.integers(min_value=0, max_value=20))
    def test_a_split_run_equals_a_full_rebuild(self, order_steps, split):
        with time_machine.travel(at(NOW), tick=False):
            perf = make_performance()
            when = at("2024-02-28 23:00")
            times = []
            for kind, quantity, price, fee, gap in order_steps:
                when += timedelta(hours=gap * 12)  # gap 0: same time, UUID order decides
                times.append(when)
                make_order(
                    perf,
                    side="buy" if kind == "buy" else "sell",
                    quantity=quantity,
                    price=price,
                    fee=fee,
                    when=when,
                    status="failed" if kind == "failed" else "executed",
                )
            if split < len(times):
                recalculate(perf, until=times[split])
            recalculate(perf)
            incremental = ledger_figures(perf)
            recalculate(perf, full=True)
            self.assertEqual(ledger_figures(perf), incremental)
