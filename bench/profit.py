"""
Benchmark of the managed-bot profit recalculation (services.managed_bot.profit).

    python bench/profit.py [--orders 100000] [--new 100] [--repeat 3] [--keep]

Uses DATABASE_URL (default postgres://root@127.0.0.1:5432/test) only to reach
the server: it creates its own database ``bench_profit`` there, migrates the
example host into it, bulk-inserts the orders of one managed bot, and drops
it at the end (``--keep`` keeps it). Prints, from one run:

    plain        one Python pass summing quantity * price over the same streamed query
    full         a full recalculation (FIFO replay of every order + save)
    incremental  a recalculation after --new more orders

and the ratios full/plain (target <= 3) and incremental/full (target <= 1/50).
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "bench_profit"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument(
        "--new", type=int, default=100, help="orders added before the incremental run"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step (best kept)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    return parser.parse_args()


# --- the database ----------------------------------------------------------------


SERVER_URL = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/test")


def server_url() -> str:
    """The database named by DATABASE_URL: only used to create and drop ours."""
    return SERVER_URL


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(server_url(), autocommit=True) as conn:
        conn.execute(sql)


def create_database() -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    admin_execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def setup_django() -> None:
    os.environ["DATABASE_URL"] = with_database(server_url(), DB_NAME)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- data --------------------------------------------------------------------------


def order_kwargs(
    user, bot, side: str, quantity: Decimal, price: Decimal, when: datetime, executed: bool = True
) -> dict:
    """Host Order kwargs through the field map (logical names -> host names)."""
    from django_torgovo_subscriptions.host import get_host_adapter

    adapter = get_host_adapter()
    values = {
        "user": user,
        "pair_config": bot,
        "symbol": "BTCUSDT",
        "side": adapter.order_value("side", side),
        "quantity": quantity,
        "price": price,
        "fee": (quantity * price * Decimal("0.0002")).quantize(Decimal("0.00000001")),
        "status": adapter.order_value("status", "executed" if executed else "failed"),
        "created_at": when,
    }
    return {adapter.order_field(k): v for k, v in values.items() if adapter.order_field(k)}


class OrderMaker:
    """A bot that buys in 1-3 tranches and sells part or all of its position."""

    def __init__(self, user, bot, start: datetime, seed: int = 7) -> None:
        self.user, self.bot = user, bot
        self.random = random.Random(seed)
        self.when = start
        self.price = Decimal("30000")
        self.position = Decimal(0)

    def next(self):
        from django_torgovo_subscriptions import host

        rnd = self.random
        self.when += timedelta(seconds=rnd.randint(60, 600))
        self.price = max(Decimal("1000"), self.price + Decimal(rnd.randint(-300, 310)))
        executed = rnd.random() > 0.03
        if self.position == 0 or (rnd.random() < 0.45 and self.position < Decimal("0.5")):
            side, quantity = "buy", Decimal(rnd.randint(1, 100)) / 1000
        else:
            side = "sell"
            quantity = (
                self.position
                if rnd.random() < 0.6
                else (self.position / 2).quantize(Decimal("0.00000001"))
            )
        if executed:
            self.position += quantity if side == "buy" else -quantity
        model = host.get_order_model()
        return model(
            **order_kwargs(self.user, self.bot, side, quantity, self.price, self.when, executed)
        )

    def insert(self, count: int, batch: int = 5000) -> None:
        from django_torgovo_subscriptions import host

        model = host.get_order_model()
        created = model._meta.get_field(host.get_host_adapter().order_field("created_at"))
        auto_now_add = created.auto_now_add
        created.auto_now_add = False  # keep the generated times (bench data only)
        try:
            for offset in range(0, count, batch):
                model.objects.bulk_create([self.next() for _ in range(min(batch, count - offset))])
        finally:
            created.auto_now_add = auto_now_add


def make_performance():
    from django.contrib.auth import get_user_model
    from model_bakery import baker

    from django_torgovo_subscriptions import host
    from django_torgovo_subscriptions.models import PlanType
    from django_torgovo_subscriptions.services.managed_bot.profit import open_performance
    from tests.factories import make_plan, make_subscription

    user = get_user_model().objects.create_user(username="bench")
    bot = baker.make(host.get_pair_config_model(), user=user, symbol="BTC/USDT")
    plan = make_plan(PlanType.MANAGED_BOT, profit_share_percentage=Decimal("20"), slug="bench")
    subscription = make_subscription(user, plan)
    performance = open_performance(
        user,
        subscription,
        bot,
        initial_investment=Decimal("10000"),
        orders_since=datetime(2020, 1, 1, tzinfo=UTC),
    )
    return user, bot, performance


# --- timings ------------------------------------------------------------------------------


def plain_pass(performance, until: datetime) -> tuple[float, int, Decimal]:
    """Stream the very query the recalculation streams and just sum quantity * price."""
    from django.db import transaction

    from django_torgovo_subscriptions.services.managed_bot.profit.config import chunk_size
    from django_torgovo_subscriptions.services.managed_bot.profit.orders import OrderColumns

    columns = OrderColumns.from_settings()
    window = columns.window(
        columns.bot_orders(performance), after=None, since=performance.orders_since, until=until
    )
    started = time.perf_counter()
    total, count = Decimal(0), 0
    with transaction.atomic():
        for row in columns.stream_fills(window, chunk_size()):
            total += row[3] * row[4]
            count += 1
    return time.perf_counter() - started, count, total


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def main() -> int:
    args = parse_args()
    create_database()
    try:
        setup_django()
        return run(args)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database()


def run(args: argparse.Namespace) -> int:
    from django.db import connection

    from django_torgovo_subscriptions.services.managed_bot.profit import recalculate
    from django_torgovo_subscriptions.services.managed_bot.profit.config import chunk_size

    user, bot, performance = make_performance()
    maker = OrderMaker(user, bot, datetime(2023, 1, 1, tzinfo=UTC))
    seconds, _ = timed(maker.insert, args.orders)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"database: {connection.vendor} {connection.settings_dict['NAME']}, "
        f"chunk size {chunk_size()}"
    )
    print(f"inserted {args.orders} orders for one bot in {seconds:.2f}s")
    until = maker.when + timedelta(days=365)

    plains, fulls = [], []
    for _ in range(args.repeat):
        plain_seconds, rows, _total = plain_pass(performance, until)
        plains.append(plain_seconds)
        full_seconds, result = timed(recalculate, performance, full=True, until=until)
        fulls.append(full_seconds)
    assert result.orders_read == rows, (result.orders_read, rows)

    incrementals = []
    for _ in range(args.repeat):
        maker.insert(args.new)
        seconds, result = timed(recalculate, performance, until=until)
        assert result.orders_read > 0 and not result.rebuilt
        incrementals.append(seconds)

    # The incremental figures equal a full rebuild's.
    performance.refresh_from_db()
    state = (performance.open_lots, performance.pnl_state, performance.realized_pnl)
    recalculate(performance, full=True, until=until)
    performance.refresh_from_db()
    assert state == (performance.open_lots, performance.pnl_state, performance.realized_pnl)

    plain, full, incremental = min(plains), min(fulls), statistics.median(incrementals)
    full_ratio, incremental_ratio = full / plain, incremental / full
    print(f"executed orders read:  {rows}")
    print(f"plain pass (sum):      {plain * 1000:9.1f} ms   (best of {args.repeat})")
    print(f"full recalculation:    {full * 1000:9.1f} ms   (best of {args.repeat})")
    print(f"incremental (+{args.new}):    {incremental * 1000:9.1f} ms   (median of {args.repeat})")
    print(f"full / plain:          {full_ratio:9.2f}     target <= 3")
    print(
        f"incremental / full:    {incremental_ratio:9.4f}     target <= {1 / 50:.4f} "
        f"(1/{full / incremental:.0f})"
    )
    print(
        f"realized net profit:   {performance.realized_pnl}, open lots {len(performance.open_lots)}"
    )
    ok = full_ratio <= 3 and incremental_ratio <= 1 / 50
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
