"""
Charging profit shares concurrently on PostgreSQL (row locks are real there):
twenty settlements of the same month make one profit-share Payment and one
charge at the gateway; twenty charge runs over it charge it once.

Run with DATABASE_URL=postgres://...; skipped on SQLite, which has no
SELECT ... FOR UPDATE.
"""

from decimal import Decimal as D

import pytest
from django.db import connection

from django_torgovo_subscriptions.models import ManagedBotPerformance, Payment, PaymentEvent
from django_torgovo_subscriptions.payments import DUMMY_GATEWAY
from django_torgovo_subscriptions.services.managed_bot import charges
from django_torgovo_subscriptions.services.managed_bot.profit import settle_period
from tests.concurrency import run_concurrently
from tests.profit_support import make_order, make_performance

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.usefixtures("frozen_clock", "dummy"),
]


@pytest.fixture
def january_perf():
    """+500 realized in January 2024 at 20%: a share of 100.00."""
    perf = make_performance()
    make_order(perf, side="buy", quantity="1", price="1000", when="2024-01-10 09:00")
    make_order(perf, side="sell", quantity="1", price="1500", when="2024-01-10 17:00")
    return perf


def test_twenty_concurrent_settlements_make_one_charge(january_perf):
    def settle_and_charge(_index):
        settlement = settle_period(ManagedBotPerformance(pk=january_perf.pk), 2024, 1)
        return settlement.amount, len(charges.charge_pending().charged)

    results = run_concurrently(20, settle_and_charge)

    assert sorted(amount for amount, _ in results) == [0] * 19 + [D("100.00")]
    assert sum(charged for _, charged in results) == 1
    [payment] = Payment.objects.filter(kind="profit_share")
    assert (payment.status, payment.amount, payment.profit_share_month) == (
        "paid",
        D("100.00"),
        "2024-01",
    )
    assert PaymentEvent.objects.filter(event_type="invoice.paid").count() == 1
    january_perf.refresh_from_db()
    assert (january_perf.profit_share_due, january_perf.profit_share_paid) == (0, D("100.00"))


def test_twenty_concurrent_charge_runs_charge_a_pending_share_once(january_perf, settings):
    from tests.payments_support import use_gateway

    use_gateway(settings, None)  # settle without a gateway: the Payment stays pending
    settle_period(january_perf, 2024, 1)
    Payment.objects.filter(kind="profit_share").update(gateway="dummy")
    use_gateway(settings, DUMMY_GATEWAY)

    results = run_concurrently(20, lambda _index: len(charges.charge_pending().charged))

    assert sorted(results) == [0] * 19 + [1]
    assert Payment.objects.get(kind="profit_share").status == "paid"
    assert PaymentEvent.objects.count() == 1
