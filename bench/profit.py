"""
Benchmark of the managed-bot profit recalculation (services.managed_bot.profit).

    python bench/profit.py [--orders 100000] [--new 100] [--repeat 3]
                           [--investors 1000] [--scale-orders 1000000]
                           [--skip-one-bot] [--skip-scale] [--database NAME] [--keep]

Uses DATABASE_URL (default postgres://root@127.0.0.1:5432/postgres) only to
reach the server: it creates its own database there (``--database``, or
BENCH_PROFIT_DATABASE, default ``bench_profit_<user>_<pid>`` so that two runs
never share one), migrates the example host into it and drops it at the end
(``--keep`` keeps it). Two sections, each in one run:

One bot (``--orders`` orders of one investor):

    plain        one Python pass summing quantity * price over the same streamed query
    full         a full recalculation (FIFO replay of every order + daily points + save)
    incremental  a recalculation after --new more orders

with the ratios full/plain (target <= 3) and incremental/full (target <= 1/50).

At scale (``--scale-orders`` orders spread over ``--investors`` investors of
one managed bot, over the last 60 days):

    plain        one pass over every investor's rows: the same streamed query per
                 investor, summing quantity * price
    recalculate  ``manage.py recalculate_profits --full`` over all of them

each in a child process of its own (timed inside it, Django set up before the
clock starts; best of --repeat), with the ratio recalculate/plain (target <= 2) and the peak
RSS of the command's process. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_NAME = os.environ.get(
    "BENCH_PROFIT_DATABASE", f"bench_profit_{getpass.getuser()}_{os.getpid()}"
)
SCALE_DAYS = 60


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument(
        "--new", type=int, default=100, help="orders added before the incremental run"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each step (best kept)")
    parser.add_argument("--investors", type=int, default=1000, help="investors at scale")
    parser.add_argument(
        "--scale-orders", type=int, default=1_000_000, help="orders at scale, over all investors"
    )
    parser.add_argument("--skip-one-bot", action="store_true")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--database", default=DEFAULT_DB_NAME, help="the database to create")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--child", choices=["plain", "recalculate"], help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the database ----------------------------------------------------------------


SERVER_URL = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/postgres")


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


def create_database(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin_execute(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(name: str, *, migrate: bool = True) -> None:
    os.environ["DATABASE_URL"] = with_database(server_url(), name)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    import django

    django.setup()
    if migrate:
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

    def __init__(self, user, bot, start: datetime, seed: int = 7, max_step: int = 600) -> None:
        self.user, self.bot = user, bot
        self.random = random.Random(seed)
        self.max_step = max_step
        self.when = start
        self.price = Decimal("30000")
        self.position = Decimal(0)

    def next(self):
        from django_torgovo_subscriptions import host

        rnd = self.random
        self.when += timedelta(seconds=rnd.randint(60, self.max_step))
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
        insert_orders((self.next() for _ in range(count)), batch)


def insert_orders(orders, batch: int = 5000) -> None:
    """bulk_create host Orders keeping their generated times (bench data only)."""
    from itertools import islice

    from django_torgovo_subscriptions import host

    model = host.get_order_model()
    created = model._meta.get_field(host.get_host_adapter().order_field("created_at"))
    auto_now_add = created.auto_now_add
    created.auto_now_add = False
    try:
        orders = iter(orders)
        while chunk := list(islice(orders, batch)):
            model.objects.bulk_create(chunk)
    finally:
        created.auto_now_add = auto_now_add


def make_bot(name: str):
    from django.contrib.auth import get_user_model
    from model_bakery import baker

    from django_torgovo_subscriptions import host
    from django_torgovo_subscriptions.models import PlanType
    from tests.factories import make_plan

    operator = get_user_model().objects.create_user(username=f"operator-{name}")
    bot = baker.make(host.get_pair_config_model(), user=operator, symbol="BTC/USDT")
    plan = make_plan(
        PlanType.MANAGED_BOT, profit_share_percentage=Decimal("20"), slug=f"bench-{name}"
    )
    return bot, plan


def make_performance(bot, plan, username: str = "bench", since: datetime | None = None):
    from django.contrib.auth import get_user_model

    from django_torgovo_subscriptions.services.managed_bot.profit import open_performance
    from tests.factories import make_subscription

    user = get_user_model().objects.create_user(username=username)
    subscription = make_subscription(user, plan)
    performance = open_performance(
        user,
        subscription,
        bot,
        initial_investment=Decimal("10000"),
        orders_since=since or datetime(2020, 1, 1, tzinfo=UTC),
    )
    return user, performance


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
    if args.child:
        setup_django(args.database, migrate=False)
        print(json.dumps(CHILD_STEPS[args.child]()))
        return 0
    create_database(args.database)
    try:
        setup_django(args.database)
        from django.db import connection

        from django_torgovo_subscriptions.services.managed_bot.profit.config import chunk_size

        print(
            f"database: {connection.vendor} {connection.settings_dict['NAME']}, "
            f"chunk size {chunk_size()}"
        )
        ok = True
        if not args.skip_one_bot:
            ok &= run_one_bot(args)
        if not args.skip_scale:
            ok &= run_scale(args)
        print("targets met" if ok else "TARGET MISSED")
        return 0 if ok else 1
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)


def run_one_bot(args: argparse.Namespace) -> bool:
    from django.db import connection

    from django_torgovo_subscriptions import host
    from django_torgovo_subscriptions.services.managed_bot.profit import recalculate

    print(f"--- one bot, one investor, {args.orders} orders")
    bot, plan = make_bot("one")
    user, performance = make_performance(bot, plan)
    maker = OrderMaker(user, bot, datetime(2023, 1, 1, tzinfo=UTC))
    seconds, _ = timed(maker.insert, args.orders)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"inserted {args.orders} orders for one bot in {seconds:.2f}s")
    # The horizon just past the last order, as a run at that moment would have it.
    until = maker.when + timedelta(minutes=1)

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
        until = maker.when + timedelta(minutes=1)
        seconds, result = timed(recalculate, performance, until=until)
        assert result.orders_read > 0 and not result.rebuilt
        incrementals.append(seconds)

    # The incremental figures (daily points included) equal a full rebuild's.
    def figures():
        performance.refresh_from_db()
        points = list(performance.daily_points.values_list("date", "cumulative_net", "balance"))
        return performance.open_lots, performance.pnl_state, performance.realized_pnl, points

    state = figures()
    recalculate(performance, full=True, until=until)
    assert state == figures()

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
    # Out of the way of the next section, whose command recalculates every investor.
    host.get_order_model()._default_manager.filter(pair_config=bot).delete()
    performance.delete()
    return full_ratio <= 3 and incremental_ratio <= 1 / 50


# --- at scale: many investors, each step in a child process -------------------------


def run_scale(args: argparse.Namespace) -> bool:
    from django.db import connection
    from django.utils import timezone

    per_investor = args.scale_orders // args.investors
    print(
        f"--- at scale: {per_investor * args.investors} orders over {args.investors} "
        f"investors of one bot, {SCALE_DAYS} days"
    )
    bot, plan = make_bot("scale")
    start = timezone.now() - timedelta(days=SCALE_DAYS)
    # Spread each investor's orders over 90% of the period (mean step = span / orders),
    # so that the last ones are days old and both passes read the very same rows.
    max_step = max(120, int(SCALE_DAYS * 0.9 * 86400 * 2 / per_investor) - 60)
    started = time.perf_counter()
    makers = []
    for index in range(args.investors):
        user, _performance = make_performance(bot, plan, f"investor{index}", since=start)
        makers.append(OrderMaker(user, bot, start, seed=index, max_step=max_step))
    insert_orders(maker.next() for maker in makers for _ in range(per_investor))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"inserted in {time.perf_counter() - started:.1f}s")

    # Best of --repeat runs of each, alternating (the server is shared with others).
    plains, recalculations = [], []
    for _ in range(args.repeat):
        plains.append(child(args, "plain"))
        recalculations.append(child(args, "recalculate"))
    plain = min(plains, key=lambda run: run["seconds"])
    recalculated = min(recalculations, key=lambda run: run["seconds"])
    assert plain["rows"] == recalculated["rows"], (plain, recalculated)
    ratio = recalculated["seconds"] / plain["seconds"]
    print(f"executed orders read:  {plain['rows']} ({recalculated['points']} daily points)")
    print(f"plain pass (sum):      {plain['seconds']:9.2f} s    peak RSS {plain['rss_mb']:.0f} MB")
    print(
        f"recalculate_profits --full: {recalculated['seconds']:6.2f} s    "
        f"peak RSS {recalculated['rss_mb']:.0f} MB"
    )
    print(f"recalculate / plain:   {ratio:9.2f}     target <= 2   (best of {args.repeat} each)")
    return ratio <= 2


def child(args: argparse.Namespace, step: str) -> dict:
    """Run one step in a fresh interpreter (its own peak RSS) and read its JSON line."""
    command = [sys.executable, __file__, "--child", step, "--database", args.database]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def peak_rss_mb() -> float:
    """This process's peak RSS. Linux: VmHWM, which starts afresh at exec (ru_maxrss
    would count the parent's memory at the fork); elsewhere ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_plain() -> dict:
    """Stream every open investor's rows with the recalculation's own query; sum them."""
    from django.db import transaction
    from django.utils import timezone

    from django_torgovo_subscriptions.models import ManagedBotPerformance
    from django_torgovo_subscriptions.services.managed_bot.profit.config import (
        chunk_size,
        order_delay,
    )
    from django_torgovo_subscriptions.services.managed_bot.profit.orders import OrderColumns

    started = time.perf_counter()
    columns = OrderColumns.from_settings()
    until = timezone.now() - order_delay()  # the recalculation's horizon
    total, count = Decimal(0), 0
    performances = ManagedBotPerformance.objects.filter(closed_at__isnull=True).order_by("pk")
    for performance in performances.iterator():
        window = columns.window(
            columns.bot_orders(performance), after=None, since=performance.orders_since, until=until
        )
        with transaction.atomic():
            for row in columns.stream_fills(window, chunk_size()):
                total += row[3] * row[4]
                count += 1
    return {"seconds": time.perf_counter() - started, "rows": count, "rss_mb": peak_rss_mb()}


def child_recalculate() -> dict:
    """``manage.py recalculate_profits --full``, timed; the rows its ledgers read."""
    from io import StringIO

    from django.core.management import call_command

    from django_torgovo_subscriptions.models import ManagedBotDailyPoint, ManagedBotPerformance

    started = time.perf_counter()
    call_command("recalculate_profits", "--full", stdout=StringIO())
    seconds = time.perf_counter() - started
    states = ManagedBotPerformance.objects.values_list("pnl_state", flat=True)
    rows = sum(state["orders"] + state["skipped"] for state in states)
    return {
        "seconds": seconds,
        "rows": rows,
        "points": ManagedBotDailyPoint.objects.count(),
        "rss_mb": peak_rss_mb(),
    }


CHILD_STEPS = {"plain": child_plain, "recalculate": child_recalculate}


if __name__ == "__main__":
    sys.exit(main())
