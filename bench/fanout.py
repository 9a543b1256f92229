"""
Benchmark of a managed signal's fan-out (services.managed_bot.fanout) against
single custom-bot alerts.

    python bench/fanout.py [--investors 1000] [--large 5000] [--keep]

Needs PostgreSQL and Redis, plus the ``bench`` dependency group. DATABASE_URL
(default postgres://root@127.0.0.1:5432/postgres) is only used to reach the
server: the bench creates a database of its own there, ``bench_fanout_<pid>``,
migrates the example host into it (bench/webhook_settings.py: DEBUG off, paper
trading, rate limits counted in Redis), seeds it, and drops it at the end
(``--keep`` keeps it). It then measures, in the same run, each step in a fresh
child process after a small warm-up:

    alerts   --investors single TradingView alerts posted one by one to the
             custom-bot receiver in-process, through the Django test client
             (middleware, URL routing, every check, the event log, a paper
             trade saved as an Order; each alert has its own order_id)
    fan-out  one managed signal to a bot with --investors live investors
             through ``fan_out()`` (MANAGED_EXECUTION "inline"): an Order and
             a ManagedTrade per investor
    large    the same signal to a bot with --large investors, for memory

It prints the wall times, the ratio fan-out/alerts (target <= 0.5), and the
peak RSS of the fan-out child for --investors and --large investors (target:
the larger within 10% of the smaller, i.e. constant in the number of
investors), with how much the resident set grew during the signal itself.
Exits 1 when a target is missed or a step left the wrong number of Orders.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SERVER_URL = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/postgres")
TARGET_RATIO, TARGET_RSS_GROWTH = 0.5, 1.10
WARMUP = 20


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--investors", type=int, default=1000)
    parser.add_argument("--large", type=int, default=5000, help="investors of the memory run")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument("--child", choices=("alerts", "fanout"), help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--bot", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


# --- the database ------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(SERVER_URL, autocommit=True) as connection:
        connection.execute(sql)


def setup_django(database: str) -> None:
    os.environ.update(
        DATABASE_URL=with_database(SERVER_URL, database),
        DJANGO_SETTINGS_MODULE="webhook_settings",
        BENCH_CACHE_PREFIX=f"torgovo-bench-fanout-{os.getpid()}",
    )
    sys.path[:0] = [str(BENCH), str(ROOT / "example_project"), str(ROOT)]
    import django

    django.setup()


# --- data ----------------------------------------------------------------------------


def seed(sizes: dict[str, int]) -> dict[str, object]:
    """Migrate; a custom-bot user with a webhook; one managed bot per entry of ``sizes``
    with that many live investors (bulk-inserted)."""
    from datetime import timedelta
    from decimal import Decimal
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from django_torgovo_subscriptions.models import (
        ManagedBotOffer,
        ManagedBotPerformance,
        PlanType,
        SubscriptionPlan,
        SubscriptionStatus,
        UserSubscription,
    )
    from django_torgovo_subscriptions.services.custom_bot import issuing
    from trading.models import PairConfig

    call_command("migrate", verbosity=0, stdout=StringIO())
    users = get_user_model().objects
    now = timezone.now()

    trader = users.create_user(username="bench", password="bench", Demo=True)
    plan = SubscriptionPlan.objects.create(
        plan_type=PlanType.CUSTOM_BOT, name="Bench", slug="bench", max_trading_pairs=5
    )
    UserSubscription.objects.create(
        user=trader,
        plan=plan,
        status=SubscriptionStatus.ACTIVE,
        start_date=now - timedelta(days=1),
        end_date=now + timedelta(days=30),
    )
    pair_config = PairConfig.objects.create(
        user=trader, name="BTC", symbol="BTC/USDT", order_size=Decimal("0.01")
    )
    issued = issuing.generate_webhook(trader, pair_config)

    operator = users.create_user(username="operator", password="bench", is_staff=True)
    managed = SubscriptionPlan.objects.create(
        plan_type=PlanType.MANAGED_BOT,
        name="Managed",
        slug="managed",
        monthly_price=Decimal("0"),
        profit_share_percentage=Decimal("20"),
    )
    bots = {}
    for label, size in sizes.items():
        bot = PairConfig.objects.create(
            user=operator, name=label, symbol="BTC/USDT", is_managed=True
        )
        ManagedBotOffer.objects.create(managed_bot=bot, plan=managed, name=label)
        investors = users.bulk_create(
            users.model(username=f"{label}-{i}", password="!", Demo=True) for i in range(size)
        )
        rows = UserSubscription.objects.bulk_create(
            UserSubscription(
                user=user,
                plan=managed,
                plan_type=PlanType.MANAGED_BOT,
                status=SubscriptionStatus.ACTIVE,
                start_date=now - timedelta(days=1),
                end_date=now + timedelta(days=30),
            )
            for user in investors
        )
        ManagedBotPerformance.objects.bulk_create(
            ManagedBotPerformance(
                user=row.user,
                subscription=row,
                managed_bot=bot,
                initial_investment=Decimal(1000 + i % 9000),
                current_balance=Decimal(1000 + i % 9000),
                orders_since=now - timedelta(days=1),
            )
            for i, row in enumerate(rows)
        )
        bots[label] = bot.pk
    return {"secret": issued.secret, "bots": bots}


# --- the measured steps (each in a child process) ---------------------------------------


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def current_rss_mb() -> float:
    """The resident set now (Linux /proc), to show what the signal itself added."""
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_alerts(count: int, secret: str) -> dict[str, float]:
    from django.test import Client

    from trading.models import Order

    client = Client()
    path = f"/api/custom-bot/webhook/receive/{secret}/"

    def post(n: int) -> None:
        body = {
            "action": "buy",
            "ticker": "BTCUSDT",
            "price": "64000",
            "quantity": "0.01",
            "order_id": f"bench-{n}",
            "secret": secret,
        }
        response = client.post(path, json.dumps(body), content_type="application/json")
        if response.status_code != 200 or response.json()["status"] != "executed":
            raise SystemExit(f"alert {n}: {response.status_code} {response.content[:300]!r}")

    for n in range(WARMUP):
        post(-1 - n)
    before = Order.objects.count()
    started = time.perf_counter()
    for n in range(count):
        post(n)
    wall = time.perf_counter() - started
    return {"wall": wall, "orders": Order.objects.count() - before, "rss_mb": peak_rss_mb()}


def run_fanout(bot_pk: int) -> dict[str, float]:
    from django_torgovo_subscriptions.services.managed_bot.fanout import fan_out
    from trading.models import Order, PairConfig

    warmup = PairConfig.objects.get(name="warmup")
    fan_out(warmup, "buy", "0.5", price="64000", signal_id="warmup")
    bot = PairConfig.objects.get(pk=bot_pk)
    rss_before, resident_before = peak_rss_mb(), current_rss_mb()
    started = time.perf_counter()
    fanned = fan_out(bot, "buy", "0.5", price="64000", signal_id="bench")
    wall = time.perf_counter() - started
    resident_after = current_rss_mb()
    return {
        "wall": wall,
        "orders": Order.objects.filter(pair_config=bot).count(),
        "executed": fanned.counts["executed"],
        "rss_before_mb": rss_before,
        "rss_mb": peak_rss_mb(),
        "resident_growth_mb": resident_after - resident_before,
    }


def child(args: argparse.Namespace) -> None:
    setup_django(args.database)
    if args.child == "alerts":
        from django_torgovo_subscriptions.models import CustomBotWebhook

        secret = os.environ["BENCH_ALERT_SECRET"]
        assert CustomBotWebhook.objects.exists()
        result = run_alerts(args.investors, secret)
    else:
        result = run_fanout(args.bot)
    print("BENCH " + json.dumps(result))


def measure(database: str, *extra: str, env: dict[str, str] | None = None) -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, __file__, "--database", database, *extra],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH ")]
    if completed.returncode or not lines:
        raise SystemExit(f"child {extra} failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(lines[-1].removeprefix("BENCH "))


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    if args.child:
        child(args)
        return 0
    database = f"bench_fanout_{os.getpid()}"
    admin_execute(f'CREATE DATABASE "{database}"')
    try:
        setup_django(database)
        started = time.perf_counter()
        seeded = seed({"warmup": WARMUP, "small": args.investors, "large": args.large})
        print(
            f"seeded {args.investors} + {args.large} investors in "
            f"{time.perf_counter() - started:.1f}s (database {database})"
        )
        from django.db import connections

        connections.close_all()
        bots = seeded["bots"]
        alerts = measure(
            database,
            "--child",
            "alerts",
            "--investors",
            str(args.investors),
            env={"BENCH_ALERT_SECRET": seeded["secret"]},
        )
        small = measure(database, "--child", "fanout", "--bot", str(bots["small"]))
        large = measure(database, "--child", "fanout", "--bot", str(bots["large"]))
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')

    ratio = small["wall"] / alerts["wall"]
    growth = large["rss_mb"] / small["rss_mb"]
    n, big = args.investors, args.large
    print(
        f"alerts   {n} through the receiver (test client): {alerts['wall']:.3f}s "
        f"({alerts['wall'] / n * 1000:.2f} ms each), peak RSS {alerts['rss_mb']:.1f} MB"
    )
    print(
        f"fan-out  1 signal to {n} investors: {small['wall']:.3f}s "
        f"({small['wall'] / n * 1000:.2f} ms each), peak RSS {small['rss_mb']:.1f} MB "
        f"({small['rss_before_mb']:.1f} MB before the signal; resident set grew "
        f"{small['resident_growth_mb']:.1f} MB)"
    )
    print(
        f"fan-out  1 signal to {big} investors: {large['wall']:.3f}s "
        f"({large['wall'] / big * 1000:.2f} ms each), peak RSS {large['rss_mb']:.1f} MB "
        f"({large['rss_before_mb']:.1f} MB before the signal; resident set grew "
        f"{large['resident_growth_mb']:.1f} MB)"
    )
    print(f"ratio fan-out/alerts = {ratio:.3f} (target <= {TARGET_RATIO})")
    print(
        f"peak RSS {big} / {n} investors = {growth:.3f} "
        f"(target <= {TARGET_RSS_GROWTH}: constant in the number of investors)"
    )
    failures = []
    if ratio > TARGET_RATIO:
        failures.append("fan-out ratio")
    if growth > TARGET_RSS_GROWTH:
        failures.append("memory growth")
    for name, result, expected in (("alerts", alerts, n), ("fan-out", small, n)):
        if result["orders"] != expected:
            failures.append(f"{name}: {result['orders']} Orders, expected {expected}")
    if large["orders"] != big:
        failures.append(f"large fan-out: {large['orders']} Orders, expected {big}")
    if failures:
        print("MISSED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
