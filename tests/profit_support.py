"""
Helpers for the managed-bot profit tests, written against the field map only,
so the same helpers build orders on the example host and on the alt host.
(No tests in this module; the ``frozen_clock`` fixture, which stops the clock
at NOW, is in conftest.py.)
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import count
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Model
from model_bakery import baker

from django_torgovo_subscriptions import host
from django_torgovo_subscriptions.models import ManagedBotPerformance, PlanType
from django_torgovo_subscriptions.services.managed_bot.profit import open_performance
from tests.factories import make_plan, make_subscription

KARACHI = ZoneInfo("Asia/Karachi")
_names = count(1)


def at(text: str) -> datetime:
    """'2024-01-05 10:00' (or with seconds) in Asia/Karachi, the host's TIME_ZONE."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return datetime.strptime(text, fmt).replace(tzinfo=KARACHI)


def make_trader(**kwargs) -> Model:
    user_model = get_user_model()
    return user_model.objects.create_user(username=f"trader{next(_names)}", **kwargs)


def make_bot(owner=None) -> Model:
    """A host PairConfig (example: trading.PairConfig; alt: brokerage.Strategy)."""
    model = host.get_pair_config_model()
    adapter = host.get_host_adapter()
    kwargs = {}
    owner_field = adapter.pair_config_field("owner")
    if owner_field and owner is not None:
        kwargs[owner_field] = owner
    symbol_field = adapter.pair_config_field("symbol")
    if symbol_field:
        kwargs[symbol_field] = "BTC/USDT"
    return baker.make(model, **kwargs)


def make_performance(
    user=None,
    bot=None,
    *,
    percentage="20.00",
    orders_since=None,
    initial_investment=Decimal("10000"),
) -> ManagedBotPerformance:
    user = user or make_trader()
    bot = bot or make_bot(user)
    plan = make_plan(
        PlanType.MANAGED_BOT,
        profit_share_percentage=Decimal(percentage),
        slug=f"managed-{next(_names)}",
    )
    subscription = make_subscription(user, plan)
    return open_performance(
        user,
        subscription,
        bot,
        initial_investment=initial_investment,
        orders_since=orders_since or at("2000-01-01 00:00"),
    )


def make_order(
    performance_or_user,
    bot=None,
    *,
    side: str,
    quantity,
    price,
    fee=0,
    when: datetime | str,
    status: str = "executed",
    **extra,
) -> Model:
    """A host Order with logical side/status, saved through the field map.

    created_at is auto_now_add on both hosts, so the time is set with an update.
    """
    if isinstance(performance_or_user, ManagedBotPerformance):
        user, bot = performance_or_user.user, performance_or_user.managed_bot
    else:
        user = performance_or_user
    if isinstance(when, str):
        when = at(when)
    adapter = host.get_host_adapter()
    values = {
        "user": user,
        "pair_config": bot,
        "symbol": "BTCUSDT",
        "side": adapter.order_value("side", side),
        "quantity": Decimal(str(quantity)),
        "price": Decimal(str(price)),
        "status": adapter.order_value("status", status)
        if status in ("executed", "failed")
        else status,
        "fee": Decimal(str(fee)),
        **extra,
    }
    kwargs = {adapter.order_field(k): v for k, v in values.items() if adapter.order_field(k)}
    model = host.get_order_model()
    order = model.objects.create(**kwargs)
    created = adapter.order_field("created_at")
    model.objects.filter(pk=order.pk).update(**{created: when})
    setattr(order, created, when)
    return order


def ledger_figures(performance: ManagedBotPerformance) -> dict:
    """Everything a recalculation derives, exactly, daily points included (for
    incremental == full checks)."""
    performance.refresh_from_db()
    state = dict(performance.pnl_state)
    state.pop("pending", None)
    return {
        "lots": performance.open_lots,
        "state": state,
        "cursor": (performance.last_order_at, performance.last_order_pk),
        "display": (
            performance.total_profit,
            performance.total_loss,
            performance.realized_pnl,
            performance.fees_paid,
            performance.current_balance,
        ),
        "points": list(
            performance.daily_points.order_by("date").values_list(
                "date", "cumulative_net", "balance"
            )
        ),
    }


NOW = "2024-06-15 12:00"
