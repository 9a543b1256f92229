from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from model_bakery import baker

from django_torgovo_subscriptions.models import ManagedBotPerformance, Payment, PlanType
from django_torgovo_subscriptions.services.managed_bot import profit
from tests.factories import make_plan, make_subscription
from trading.models import Order

pytestmark = pytest.mark.django_db
KARACHI = ZoneInfo("Asia/Karachi")


def test_monthly_settlement_follows_the_high_water_mark_and_is_idempotent(user):
    plan = make_plan(PlanType.MANAGED_BOT, profit_share_percentage=Decimal("20"))
    bot = baker.make("trading.PairConfig")
    start = datetime(2027, 1, 2, tzinfo=KARACHI)
    with time_machine.travel(start, tick=False):
        performance = profit.open_performance(
            user, make_subscription(user, plan), bot, initial_investment=Decimal("5000")
        )

    def trade(day, buy, sell):
        for side, price, offset in (("BUY", buy, 0), ("SELL", sell, 1)):
            with time_machine.travel(day + timedelta(hours=offset), tick=False):
                Order.objects.create(
                    user=user,
                    pair_config=bot,
                    symbol="X",
                    side=side,
                    quantity=1,
                    price=Decimal(price),
                    status="FILLED",
                )

    trade(datetime(2027, 1, 10, tzinfo=KARACHI), "100", "600")  # January: +500
    trade(datetime(2027, 2, 10, tzinfo=KARACHI), "600", "400")  # February: -200

    outputs = []
    with time_machine.travel(datetime(2027, 3, 5, tzinfo=KARACHI), tick=False):
        for month in ("2027-01", "2027-01", "2027-02"):
            out = StringIO()
            call_command("settle_profit_shares", "--month", month, stdout=out)
            outputs.append(out.getvalue().strip())
        with pytest.raises(CommandError, match="2027-03 has not ended"):
            call_command("settle_profit_shares", "--month", "2027-03")
        with pytest.raises(CommandError, match="must look like"):
            call_command("settle_profit_shares", "--month", "March")

    charge = Payment.objects.get(managed_bot_performance=performance)
    nothing = "Gateway: profit shares charged: 0 (none)."
    assert outputs == [
        "2027-01: settled 1, already settled 0, profit share charged 100.00.\n"
        f"Gateway: profit shares charged: 1 (#{charge.pk} 100.00 USD 2027-01).",
        f"2027-01: settled 0, already settled 1, profit share charged 0.00.\n{nothing}",
        f"2027-02: settled 1, already settled 0, profit share charged 0.00.\n{nothing}",
    ]
    performance = ManagedBotPerformance.objects.get(pk=performance.pk)
    # The example host's dummy gateway charged the share and reported it paid.
    assert (charge.kind, charge.status, charge.amount) == ("profit_share", "paid", Decimal("100"))
    assert (performance.profit_share_due, performance.profit_share_paid) == (0, Decimal("100"))
    assert performance.high_water_mark == Decimal("500.00")


def test_default_is_last_month(user):
    with time_machine.travel(datetime(2027, 3, 31, 23, tzinfo=KARACHI), tick=False):
        out = StringIO()
        call_command("settle_profit_shares", stdout=out)
    assert out.getvalue().startswith("2027-02:")
