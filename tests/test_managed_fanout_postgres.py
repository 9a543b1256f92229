"""
Concurrent copies of one managed signal on PostgreSQL (skipped on SQLite):
every investor still trades exactly once.
"""

import pytest
from django.db import connection
from django.test import override_settings

from django_torgovo_subscriptions.conf import PAPER_TRADING_MANAGER
from django_torgovo_subscriptions.models import ManagedTrade
from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out
from example_project import settings as example
from tests.concurrency import run_concurrently
from tests.fanout_support import invest, make_offer
from tests.profit_support import make_trader
from trading.models import Order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

SMALL_CHUNKS = {
    **example.TORGOVO_SUBSCRIPTIONS,
    "TRADING_MANAGER_CLASS": PAPER_TRADING_MANAGER,
    "MANAGED_CHUNK_SIZE": 7,
}


@override_settings(TORGOVO_SUBSCRIPTIONS=SMALL_CHUNKS)
def test_ten_concurrent_copies_of_a_signal_trade_once_for_each_investor():
    offer = make_offer(make_trader(is_staff=True))
    investors = [invest(offer, "1000") for _ in range(30)]

    results = run_concurrently(
        10, lambda _: fan_out(offer.managed_bot, "buy", "0.5", price="50000", signal_id="s-1")
    )

    assert Order.objects.count() == 30
    assert sorted(Order.objects.values_list("user_id", flat=True)) == sorted(
        p.user_id for p in investors
    )
    assert set(ManagedTrade.objects.values_list("outcome", flat=True)) == {"executed"}
    assert ManagedTrade.objects.count() == 30
    assert all(r.signal.pk == results[0].signal.pk for r in results)
