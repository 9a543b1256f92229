"""
Concurrent recalculation and settlement on PostgreSQL (row locks are real there).

Run with DATABASE_URL=postgres://...; skipped on SQLite, which has no
SELECT ... FOR UPDATE.
"""

import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from django_torgovo_subscriptions.models import ManagedBotPerformance
from django_torgovo_subscriptions.services.managed_bot.profit import recalculate, settle_period
from tests.concurrency import run_concurrently
from tests.profit_support import ledger_figures, make_order, make_performance

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.usefixtures("frozen_clock"),
]


@pytest.fixture
def january_perf():
    """A performance with a buy and a sell on each of 1-28 January (56 orders)."""
    perf = make_performance()
    for day in range(1, 29):
        make_order(
            perf,
            side="buy",
            quantity="1",
            price=str(100 + day),
            fee="0.1",
            when=f"2024-01-{day:02d} 09:00",
        )
        make_order(
            perf,
            side="sell",
            quantity="1",
            price=str(110 + day),
            fee="0.1",
            when=f"2024-01-{day:02d} 17:00",
        )
    return perf


def test_a_recalculation_waits_for_the_row_lock(january_perf):
    done = threading.Event()

    def worker():
        try:
            recalculate(ManagedBotPerformance(pk=january_perf.pk))
        finally:
            connection.close()
            done.set()

    with transaction.atomic():
        ManagedBotPerformance.objects.select_for_update().get(pk=january_perf.pk)
        thread = threading.Thread(target=worker)
        thread.start()
        assert not done.wait(0.5)  # blocked on our lock
    assert done.wait(10)
    thread.join()
    january_perf.refresh_from_db()
    assert january_perf.pnl_state["orders"] == 56


def test_concurrent_recalculations_count_each_order_once(january_perf):
    results = run_concurrently(
        4, lambda i: recalculate(ManagedBotPerformance(pk=january_perf.pk)), return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.orders_read for r in results) == [0, 0, 0, 56]
    figures = ledger_figures(january_perf)
    assert january_perf.realized_pnl == D("274.40")  # 28 x (10 - 0.2)
    recalculate(january_perf, full=True)
    assert ledger_figures(january_perf) == figures


def test_concurrent_settlements_charge_once(january_perf):
    results = run_concurrently(
        4,
        lambda i: settle_period(ManagedBotPerformance(pk=january_perf.pk), 2024, 1),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r.amount for r in results) == [0, 0, 0, D("54.88")]
    assert sum(r.already_settled for r in results) == 3
    january_perf.refresh_from_db()
    assert january_perf.profit_share_due == D("54.88")
    assert january_perf.high_water_mark == D("274.40")


def test_a_settlement_and_recalculations_racing_agree(january_perf):
    def work(index):
        if index == 0:
            return settle_period(ManagedBotPerformance(pk=january_perf.pk), 2024, 1)
        time.sleep(0.01 * index)
        return recalculate(ManagedBotPerformance(pk=january_perf.pk))

    results = run_concurrently(3, work, return_exceptions=True)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[0].amount == D("54.88")
    figures = ledger_figures(january_perf)
    recalculate(january_perf, full=True)
    assert ledger_figures(january_perf) == figures
