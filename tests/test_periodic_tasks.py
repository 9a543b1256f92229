"""The periodic Celery tasks run the same services as the management commands."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from model_bakery import baker

from django_torgovo_subscriptions import tasks
from django_torgovo_subscriptions.models import ManagedBotPerformance, PlanType, SubscriptionStatus
from django_torgovo_subscriptions.services.managed_bot import profit
from tests.factories import make_plan, make_subscription
from trading.models import Order

pytestmark = pytest.mark.django_db


def test_billing_task_expires_lapsed_subscriptions(user):
    lapsed = make_subscription(user, days_left=-1)
    report = tasks.run_billing.apply().get()
    lapsed.refresh_from_db()
    assert lapsed.status == SubscriptionStatus.EXPIRED
    assert report["expired"] == 1
    assert report["profit_shares_charged"] == [] and json.loads(json.dumps(report)) == report


def test_recalculate_task_reads_new_orders(user, settings):
    settings.TORGOVO_SUBSCRIPTIONS = {**settings.TORGOVO_SUBSCRIPTIONS, "PROFIT_ORDER_DELAY": 0}
    bot = baker.make("trading.PairConfig")
    performance = profit.open_performance(
        user,
        make_subscription(user, make_plan(PlanType.MANAGED_BOT)),
        bot,
        initial_investment=Decimal("100"),
        orders_since=timezone.now() - timedelta(hours=1),
    )
    for side, price in (("BUY", "10"), ("SELL", "12")):
        Order.objects.create(
            user=user,
            pair_config=bot,
            symbol="X",
            side=side,
            quantity=5,
            price=Decimal(price),
            status="FILLED",
        )
    result = tasks.recalculate_profits.apply().get()
    assert result == {"performances": 1, "orders_read": 2, "failed": 0}
    assert ManagedBotPerformance.objects.get(pk=performance.pk).realized_pnl == Decimal("10.00")


def test_beat_schedule_names_registered_tasks():
    from celery import current_app

    schedule = tasks.beat_schedule()
    assert {entry["task"] for entry in schedule.values()} <= set(current_app.tasks)
    assert schedule["torgovo-subscriptions-billing"]["schedule"] == 60.0
