"""
Benchmark of the TradingView webhook receiver against a minimal DRF view.

    python bench/webhook.py [--duration 10] [--connections 16] [--rounds 2] [--keep]
                            [--no-prepared-statements] [--burst 2000] [--flood 10000]
                            [--no-celery]

Needs PostgreSQL, Redis and wrk (``apt-get install wrk``), plus the ``bench``
dependency group (gunicorn, psycopg, django-redis) and the ``celery`` extra.
BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/bench_webhook) names
a database the bench creates afresh, migrates and seeds, and drops at the end
(``--keep`` keeps it). It serves the example host under gunicorn (2 sync
workers, bench/webhook_settings.py: DEBUG off, persistent connections, prepared
statements unless --no-prepared-statements, rate limits in Redis, paper
trading), and in Celery mode a worker of example_project/celery.py's app (2
processes, a queue of the bench's own), and measures in the same run:

steady load, wrk with 16 connections, rate limits too high to be reached:

    baseline  POST bench/baseline/<id>/: DRF parses the JSON, 1 SELECT + 1 INSERT
    floor     POST bench/floor/<secret>/: the statements a receiver must make
              and nothing else (bench/webhook_urls.py): the Redis pipeline, the
              database timeouts set and put back (every wait bounded), the
              webhook, the host's pair count, the event, the Order, the
              event's result; the best any receiver making them can do
    receive   POST custom-bot/webhook/receive/<secret>/: every check, the event
              log, dedupe, and a paper trade saved as a host Order (each request
              carries its own order_id, so none is a duplicate)
    celery    the same with WEBHOOK_EXECUTION "celery": stored, answered 202;
              the worker trades it (every Order is awaited and counted)

the burst, with the package's default limits: ``--burst`` distinct webhooks
(one user each) fire one alert each, spread over one second, each on its own
connection with a 3 s client timeout, from TradingView's four addresses
through the trusted-proxy header; inline, then in Celery mode (every Order
awaited for 30 s). Latencies are measured from each alert's scheduled time.

the flood, with the default limits: ``--flood`` random secrets from one
address, while wrk sends valid alerts (cycling over the burst's webhooks,
from TradingView's addresses); the rows it added, and the valid alerts'
throughput beside the same load without the flood.

It prints req/s, p50, p99, errors and CPU per request of each steady run and
the ratios receive/baseline, floor/baseline, receive/floor, celery/baseline,
and checks that every request left one WebhookEvent and one Order. Exits 1 when
a target is missed: receive/baseline >= 0.5, receive/floor >= 0.9,
celery/baseline >= 0.8, 0 errors, one event per request, the burst 100 %
answered 2xx within 3 s. Only loopback traffic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://root@127.0.0.1:5432/bench_webhook")
CACHE_PREFIX = f"torgovo-bench-{os.getpid()}"
TARGETS = {"receive/baseline": 0.5, "receive/floor": 0.9, "celery/baseline": 0.8}
TRADINGVIEW_IPS = ("52.89.214.238", "34.212.75.30", "54.218.53.128", "52.32.178.7")
FLOODER_IP = "198.51.100.9"
CELERY_QUEUE = f"torgovo-bench-{os.getpid()}"
TRADE_MS = 0  # --trade-ms
CELERY_BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/3")

WRK_SCRIPT = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
%(request)s
done = function(summary, latency, requests)
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, '
    .. '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per endpoint")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class")
    parser.add_argument("--worker-threads", type=int, default=1, help="threads per gthread worker")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each endpoint, alternated")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--keep", action="store_true", help="do not drop the database")
    parser.add_argument(
        "--burst", type=int, default=2000, help="webhooks firing at once (0: no burst)"
    )
    parser.add_argument("--flood", type=int, default=10000, help="random secrets from one IP")
    parser.add_argument("--no-celery", dest="celery", action="store_false")
    parser.add_argument(
        "--trade-ms", type=int, default=0, help="each paper trade waits this long (an exchange)"
    )
    parser.add_argument(
        "--celery-concurrency", type=int, default=0, help="worker threads (0: prefork, --workers)"
    )
    parser.add_argument(
        "--no-prepared-statements",
        dest="prepared",
        action="store_false",
        help="psycopg's default client-side binding, every query planned afresh",
    )
    return parser.parse_args()


# --- database and Django ------------------------------------------------------------


def admin_connection():
    import psycopg

    parts = urlsplit(DATABASE_URL)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def recreate_database() -> None:
    name = urlsplit(DATABASE_URL).path.lstrip("/")
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    name = urlsplit(DATABASE_URL).path.lstrip("/")
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def server_environment(prepared: bool = True, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **extra,
        "BENCH_CELERY_QUEUE": CELERY_QUEUE,
        "BENCH_TRADE_MS": str(TRADE_MS),
        "BENCH_CELERY_BROKER": CELERY_BROKER,
        "BENCH_PREPARED_STATEMENTS": "1" if prepared else "0",
        "DATABASE_URL": DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "webhook_settings",
        "BENCH_CACHE_PREFIX": CACHE_PREFIX,
        "PYTHONPATH": os.pathsep.join([str(BENCH), str(ROOT / "example_project"), str(ROOT)]),
    }


def setup_django() -> None:
    os.environ.update(server_environment())
    sys.path[:0] = [str(BENCH), str(ROOT / "example_project"), str(ROOT)]
    import django

    django.setup()


def seed() -> dict[str, object]:
    """Migrate, then a demo user with a live subscription, a PairConfig and a webhook."""
    from decimal import Decimal
    from io import StringIO

    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from django_torgovo_subscriptions.models import PlanType, SubscriptionPlan
    from django_torgovo_subscriptions.services import subscriptions
    from django_torgovo_subscriptions.services.custom_bot import issuing
    from trading.models import PairConfig

    call_command("migrate", verbosity=0, stdout=StringIO())
    user = get_user_model().objects.create_user(username="bench", password="bench", Demo=True)
    plan = SubscriptionPlan.objects.create(
        plan_type=PlanType.CUSTOM_BOT, name="Bench", slug="bench", max_trading_pairs=5
    )
    subscriptions.subscribe(user, plan)  # no monthly price: active at once
    pair_config = PairConfig.objects.create(
        user=user, name="ETH", symbol="ETH/USDT", order_size=Decimal("0.01")
    )
    issued = issuing.generate_webhook(user, pair_config)
    return {"pair_config": pair_config.pk, "secret": issued.secret, "webhook": issued.webhook.pk}


def seed_burst(count: int) -> list[str]:
    """``count`` users, each with a live custom-bot subscription, a PairConfig and a
    webhook (as the platform's users would have): their secrets."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from django_torgovo_subscriptions.models import SubscriptionPlan
    from django_torgovo_subscriptions.services import subscriptions
    from django_torgovo_subscriptions.services.custom_bot import issuing
    from trading.models import PairConfig

    plan = SubscriptionPlan.objects.get(slug="bench")
    secrets = []
    with transaction.atomic():
        for index in range(count):
            user = get_user_model().objects.create_user(username=f"burst-{index}", Demo=True)
            subscriptions.subscribe(user, plan)
            pair_config = PairConfig.objects.create(
                user=user, name="ETH", symbol="ETH/USDT", order_size=Decimal("0.01")
            )
            secrets.append(issuing.generate_webhook(user, pair_config).secret)
    return secrets


def counts() -> tuple[int, int, dict[str, int]]:
    from django.db import connections
    from django.db.models import Count

    from django_torgovo_subscriptions.models import WebhookEvent
    from trading.models import Order

    connections.close_all()
    outcomes = dict(WebhookEvent.objects.values_list("outcome").annotate(n=Count("id")))
    return WebhookEvent.objects.count(), Order.objects.count(), outcomes


def clear_cache_keys() -> None:
    from django.core.cache import caches

    client = caches["ratelimit"].client.get_client(write=True)  # django-redis
    for key in client.scan_iter(match=f"{CACHE_PREFIX}:*", count=1000):
        client.delete(key)


# --- server and load ----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, args: argparse.Namespace, **extra: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "example_project.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.worker_threads),
        "--log-level",
        "warning",
        "--graceful-timeout",
        "5",
        "--backlog",
        "4096",  # a burst's connections wait in the listen queue, not refused
    ]
    server = subprocess.Popen(
        command, env=server_environment(args.prepared, **extra), cwd=ROOT, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("gunicorn did not start listening within 30 s")


def start_worker(args: argparse.Namespace) -> subprocess.Popen:
    """A Celery worker of the example host's app on the bench's own queue."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "--quiet",
        "-A",
        "example_project",
        "worker",
        "-Q",
        CELERY_QUEUE,
        *(
            ("--pool", "threads", "-c", str(args.celery_concurrency))
            if args.celery_concurrency
            else ("-c", str(args.workers))
        ),
        "-l",
        "warning",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    env = server_environment(args.prepared, BENCH_WEBHOOK_EXECUTION="celery")
    worker = subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True)
    time.sleep(4)  # connected and consuming
    if worker.poll() is not None:
        raise SystemExit(f"the Celery worker exited with {worker.returncode}")
    return worker


def purge_queue() -> None:
    import redis

    client = redis.Redis.from_url(CELERY_BROKER)
    client.delete(CELERY_QUEUE, f"_kombu.binding.{CELERY_QUEUE}")


def wait_until_traded(before: tuple, expected: int, timeout: float) -> tuple[float, tuple]:
    """Seconds until ``expected`` more events are executed or failed (or the timeout)."""
    started = time.monotonic()
    while True:
        now = counts()
        done = sum(now[2].get(k, 0) - before[2].get(k, 0) for k in ("executed", "failed"))
        if done >= expected or time.monotonic() - started > timeout:
            return time.monotonic() - started, now
        time.sleep(0.25)


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def alert_format(secret: str) -> str:
    """The alert body as a Lua format string: order_id gets a prefix, thread and counter."""
    return (
        '{"action": "buy", "ticker": "ETHUSDT", "price": "3012.40", "quantity": "0.01", '
        '"order_id": "%s-%d-%d", "secret": "' + secret + '"}'
    )


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


ONE_WEBHOOK = """
request = function()
  counter = counter + 1
  local body = string.format(%(body)s, %(prefix)s, tid, counter)
  return wrk.format("POST", %(path)s, {["Content-Type"] = "application/json"}, body)
end
"""

# Valid alerts to many webhooks, from TradingView's addresses through the proxy header.
MANY_WEBHOOKS = """
local secrets = {%(secrets)s}
local ips = {%(ips)s}
request = function()
  counter = counter + 1
  local secret = secrets[(counter * 7 + tid * 613) %% #secrets + 1]
  local body = string.format(%(body)s, %(prefix)s, tid, counter, secret)
  return wrk.format("POST", "/api/custom-bot/webhook/receive/" .. secret .. "/",
    {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ips[counter %% 4 + 1]}, body)
end
"""


def write_script(directory: Path, name: str, path: str, body_format: str, prefix: str) -> Path:
    script = directory / f"{name}.lua"
    request = ONE_WEBHOOK % {
        "body": lua_string(body_format),
        "prefix": lua_string(prefix),
        "path": lua_string(path),
    }
    script.write_text(WRK_SCRIPT % {"request": request})
    return script


def write_many_script(directory: Path, name: str, secrets: list[str], prefix: str) -> Path:
    script = directory / f"{name}.lua"
    request = MANY_WEBHOOKS % {
        "secrets": ", ".join(lua_string(secret) for secret in secrets),
        "ips": ", ".join(lua_string(ip) for ip in TRADINGVIEW_IPS),
        "body": lua_string(alert_format("%s")),
        "prefix": lua_string(prefix),
    }
    script.write_text(WRK_SCRIPT % {"request": request})
    return script


CPU_GROUPS = {"gunicorn": "gunicorn", "postgres": "postgres", "redis": "redis-server"}


def cpu_seconds(server_pid: int) -> dict[tuple[str, int], float]:
    """CPU time (user + system) used so far by each process of a group, by (group, pid)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        pid, ppid = int(stat.parent.name), int(fields[1])
        group = "gunicorn" if server_pid in (pid, ppid) else None
        group = group or next((g for g, p in CPU_GROUPS.items() if name.startswith(p)), None)
        if group:
            used[group, pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def cpu_used(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds each group used between two readings. A process that exited in
    between (a PostgreSQL autovacuum worker) is left out rather than counted negative."""
    used = dict.fromkeys(CPU_GROUPS, 0.0)
    for (group, pid), seconds in after.items():
        used[group] += seconds - before.get((group, pid), 0.0)
    return used


def run_wrk(
    url: str, script: Path, seconds: int, args: argparse.Namespace, server_pid: int
) -> dict[str, float]:
    before = cpu_seconds(server_pid)
    result = subprocess.run(
        [
            "wrk",
            f"-t{args.threads}",
            f"-c{args.connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    data["errors"] = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    used = cpu_used(before, cpu_seconds(server_pid))
    data["cpu_ms"] = {g: seconds * 1000 / max(data["requests"], 1) for g, seconds in used.items()}
    return data


# --- burst and flood (asyncio, one connection per request, as TradingView) -----------


def http_post(path: str, body: str, forwarded_for: str) -> bytes:
    data = body.encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Forwarded-For: {forwarded_for}\r\nContent-Length: {len(data)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode() + data


async def send(port: int, request: bytes) -> int:
    """The status of one request on a connection of its own."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        await reader.read()
        return status
    finally:
        writer.close()


async def burst(port: int, secrets: list[str], prefix: str, timeout: float = 3.0) -> dict:
    """One alert per secret, their sends spread evenly over one second."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5

    async def one(index: int, secret: str) -> tuple[int | None, float | None]:
        scheduled = start + index / len(secrets)
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        body = alert_format(secret) % (prefix, 0, index)
        request = http_post(
            f"/api/custom-bot/webhook/receive/{secret}/", body, TRADINGVIEW_IPS[index % 4]
        )
        try:
            async with asyncio.timeout(timeout - max(0.0, loop.time() - scheduled)):
                status = await send(port, request)
        except (TimeoutError, OSError, IndexError, ValueError):
            return None, None
        return status, loop.time() - scheduled

    results = await asyncio.gather(*(one(i, s) for i, s in enumerate(secrets)))
    latencies = sorted(latency for status, latency in results if status and status < 300)
    statuses: dict[str, int] = {}
    for status, _latency in results:
        statuses[str(status or "timeout")] = statuses.get(str(status or "timeout"), 0) + 1
    return {"sent": len(secrets), "ok": len(latencies), "statuses": statuses, "ms": latencies}


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * fraction))] * 1000


async def flood(port: int, count: int, lanes: int = 8) -> dict:
    """``count`` requests with random secrets from one address, ``lanes`` at a time."""
    import secrets as random_secrets

    statuses: dict[int, int] = {}
    remaining = iter(range(count))
    started = time.monotonic()

    async def lane() -> None:
        for _ in remaining:
            guessed = random_secrets.token_urlsafe(32)
            request = http_post(
                f"/api/custom-bot/webhook/receive/{guessed}/", alert_format(guessed), FLOODER_IP
            )
            try:
                status = await send(port, request)
            except (OSError, IndexError, ValueError):
                status = 0
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return {"statuses": statuses, "seconds": time.monotonic() - started}


def flood_rows() -> tuple[int, int, int]:
    """Events from the flooding address, refusal-count rows, and the requests they count."""
    from django.db import connections
    from django.db.models import Sum

    from django_torgovo_subscriptions.models import WebhookEvent, WebhookRefusalCount

    connections.close_all()
    rows = WebhookRefusalCount.objects.filter(source_ip=FLOODER_IP)
    return (
        WebhookEvent.objects.filter(source_ip=FLOODER_IP).count(),
        rows.count(),
        rows.aggregate(n=Sum("count"))["n"] or 0,
    )


# --- main -----------------------------------------------------------------------------


def steady(base, endpoints, args, server_pid, tmp, results, checks, drain=False) -> None:
    """Warm each endpoint up, then ``args.rounds`` runs of each, alternated."""
    for name, (path, body) in endpoints.items():
        run_wrk(
            base + path,
            write_script(tmp, f"{name}-warm", path, body, f"w{name}"),
            args.warmup,
            args,
            server_pid,
        )
    if drain:
        wait_for_queue()
    for round_ in range(args.rounds):
        for name, (path, body) in endpoints.items():
            script = write_script(tmp, f"{name}-{round_}", path, body, f"{name}{round_}")
            before = counts()
            results.setdefault(name, []).append(
                run_wrk(base + path, script, args.duration, args, server_pid)
            )
            time.sleep(1)  # let the requests still in flight when wrk stopped finish
            if name in ("receive", "celery"):
                requests = results[name][-1]["requests"]
                waited = time.monotonic()
                wait_for_queue()  # inline: the trades still in flight; Celery: the queue
                if drain:
                    results[name][-1]["drain_s"] = time.monotonic() - waited
                after = counts()
                checks.append(
                    (
                        name,
                        requests,
                        after[0] - before[0],
                        after[1] - before[1],
                        {k: after[2].get(k, 0) - before[2].get(k, 0) for k in after[2]},
                    )
                )


def wait_for_queue(timeout: float = 120) -> None:
    """Until the worker has traded every queued alert."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outcomes = counts()[2]
        if not outcomes.get("queued", 0) and not outcomes.get("processing", 0):
            return
        time.sleep(0.25)


def settle(timeout: float = 180) -> float:
    """Until the server has worked off the requests a burst left in its listen
    queue (their clients gave up; gunicorn still serves them): no new event for 2 s."""
    started = time.monotonic()
    last, still = counts()[0], time.monotonic()
    while time.monotonic() - started < timeout:
        time.sleep(0.5)
        now = counts()[0]
        if now != last:
            last, still = now, time.monotonic()
        elif time.monotonic() - still >= 2:
            break
    return time.monotonic() - started


def warm(base, endpoint, args, server_pid, tmp) -> None:
    """A fresh server's workers load the code and open their connections first
    (the first request of each takes seconds on a busy machine)."""
    path, body = endpoint
    run_wrk(
        base + path, write_script(tmp, "warm", path, body, "warm"), args.warmup, args, server_pid
    )
    time.sleep(1)


def run_burst(port, secrets, prefix, celery) -> dict:
    before = counts()
    result = asyncio.run(burst(port, secrets, prefix))
    time.sleep(1)
    result["traded_s"], after = wait_until_traded(before, len(secrets), 30 if celery else 0)
    result["events"], result["orders"] = after[0] - before[0], after[1] - before[1]
    result["backlog_s"] = settle()
    if celery:
        wait_for_queue()
    after = counts()
    result["events_after"], result["orders_after"] = after[0] - before[0], after[1] - before[1]
    return result


def run_flood(base, port, secrets, args, server_pid, tmp) -> dict:
    """Valid alerts alone, then the same load beside the flood."""
    script = write_many_script(tmp, "valid-alone", secrets, "alone")
    alone = run_wrk(base + "/", script, args.duration, args, server_pid)
    rows_before = flood_rows()

    async def both():
        script = write_many_script(tmp, "valid-flood", secrets, "flood")
        valid = asyncio.to_thread(run_wrk, base + "/", script, args.duration, args, server_pid)
        return await asyncio.gather(valid, flood(port, args.flood))

    during, flooded = asyncio.run(both())
    time.sleep(1)
    rows_after = flood_rows()
    return {
        "alone": alone,
        "during": during,
        "flood": flooded,
        "rows": tuple(a - b for a, b in zip(rows_after, rows_before, strict=True)),
    }


def main() -> int:
    global TRADE_MS
    args = parse_args()
    TRADE_MS = args.trade_ms
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    recreate_database()
    setup_django()
    seeded = seed()
    started = time.monotonic()
    secrets = seed_burst(args.burst)
    print(f"seeded {args.burst} users with a webhook each in {time.monotonic() - started:.0f} s")
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    secret = str(seeded["secret"])
    receive_path = f"/api/custom-bot/webhook/receive/{secret}/"
    endpoints = {  # the same JSON body for all (the baseline stores it)
        "baseline": (f"/bench/baseline/{seeded['pair_config']}/", alert_format("-" * len(secret))),
        "floor": (f"/bench/floor/{secret}/", alert_format(secret)),
        "receive": (receive_path, alert_format(secret)),
    }
    results: dict[str, list[dict]] = {}
    checks: list[tuple] = []
    bursts: dict[str, dict] = {}
    flooded: dict = {}
    processes: list[subprocess.Popen] = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            tmp = Path(directory)
            server = start_server(port, args)
            processes.append(server)
            steady(base, endpoints, args, server.pid, tmp, results, checks)
            stop_server(server)

            limits = {"BENCH_DEFAULT_LIMITS": "1"}
            server = start_server(port, args, **limits)
            processes.append(server)
            warm(base, endpoints["receive"], args, server.pid, tmp)
            if args.burst:
                bursts["inline"] = run_burst(port, secrets, "burst-inline", celery=False)
            if args.flood:
                flooded = run_flood(base, port, secrets, args, server.pid, tmp)
            stop_server(server)

            if args.celery:
                worker = start_worker(args)
                processes.append(worker)
                server = start_server(port, args, BENCH_WEBHOOK_EXECUTION="celery")
                processes.append(server)
                celery = {"celery": (receive_path, alert_format(secret))}
                steady(base, celery, args, server.pid, tmp, results, checks, drain=True)
                stop_server(server)
                server = start_server(port, args, BENCH_WEBHOOK_EXECUTION="celery", **limits)
                processes.append(server)
                warm(base, endpoints["receive"], args, server.pid, tmp)
                wait_for_queue()
                if args.burst:
                    bursts["celery"] = run_burst(port, secrets, "burst-celery", celery=True)
    finally:
        for process in reversed(processes):
            stop_server(process)
        if args.celery:
            purge_queue()
        clear_cache_keys()
        if not args.keep:
            drop_database()
    return report(results, checks, bursts, flooded, args)


def report(results, checks, bursts, flooded, args) -> int:
    print(
        f"\ngunicorn {args.workers} {args.worker_class} workers x {args.worker_threads} threads, "
        f"wrk {args.threads} threads x {args.connections} connections, "
        f"{args.rounds} x {args.duration} s per endpoint, PostgreSQL "
        f"({'prepared statements' if args.prepared else 'client-side binding'}) + Redis"
        + (
            f", Celery worker of {args.celery_concurrency or args.workers} "
            f"{'threads' if args.celery_concurrency else 'processes'}"
            if args.celery
            else ""
        )
        + (f", each trade waits {args.trade_ms} ms (an exchange)" if args.trade_ms else "")
        + "\n"
    )
    print(f"{'endpoint':<10} {'round':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    summary = {}
    for name, runs in results.items():
        for index, run in enumerate(runs, 1):
            print(
                f"{name:<10} {index:>5} {run['rps']:>9.1f} {run['p50_us'] / 1000:>8.2f} "
                f"{run['p99_us'] / 1000:>8.2f} {run['errors']:>7}"
                + (f"   (traded in {run['drain_s']:.1f} s)" if "drain_s" in run else "")
            )
        summary[name] = {
            "rps": statistics.mean(r["rps"] for r in runs),
            "p50": statistics.mean(r["p50_us"] for r in runs) / 1000,
            "p99": max(r["p99_us"] for r in runs) / 1000,
            "errors": sum(r["errors"] for r in runs),
        }
    print()
    for name, s in summary.items():
        print(
            f"{name:<10}  mean {s['rps']:.1f} req/s, p50 {s['p50']:.2f} ms, worst p99 "
            f"{s['p99']:.2f} ms, {s['errors']} errors"
        )
    print("\nCPU time per request, ms (gunicorn: the server's processes):")
    for name, runs in results.items():
        cpu = {g: statistics.mean(r["cpu_ms"][g] for r in runs) for g in CPU_GROUPS}
        print(
            f"{name:<10}  "
            + ", ".join(f"{g} {v:.2f}" for g, v in cpu.items())
            + f", total {sum(cpu.values()):.2f}"
        )
    ratios = {
        f"{a}/{b}": summary[a]["rps"] / summary[b]["rps"]
        for a, b in (("receive", "baseline"), ("floor", "baseline"), ("receive", "floor"))
        + ((("celery", "baseline"),) if "celery" in summary else ())
    }
    print()
    for key, ratio in ratios.items():
        target = f"(target >= {TARGETS[key]})" if key in TARGETS else ""
        print(f"ratio {key:<17} {ratio:.2f} {target}")
    one_each = True
    for name, requests, events, orders, outcomes in checks:
        # wrk counts completed responses; requests still in flight when it stops
        # (at most one per connection) are processed and logged too.
        ok = (
            requests <= events <= requests + args.connections
            and orders == events
            and outcomes.get("executed", 0) == events
        )
        one_each &= ok
        print(
            f"{name} run: {requests} responses, {events} WebhookEvents, {orders} Orders, "
            f"outcomes {outcomes} -> {'one event and one order per request' if ok else 'MISMATCH'}"
        )
    missed = [f"{k} {ratios[k]:.2f} < {t}" for k, t in TARGETS.items() if ratios.get(k, t) < t]
    if any(s["errors"] for s in summary.values()):
        missed.append("errors")
    if not one_each:
        missed.append("events/orders do not match requests")
    for mode, b in bursts.items():
        ms = b["ms"]
        print(
            f"\nburst ({mode}, default limits): {b['sent']} alerts from {args.burst} webhooks in "
            f"1 s, {b['ok']} answered 2xx within 3 s ({b['ok'] / b['sent']:.0%}); statuses "
            f"{b['statuses']}; latency from the scheduled send p50 {percentile(ms, 0.5):.0f} ms, "
            f"p90 {percentile(ms, 0.9):.0f} ms, p99 {percentile(ms, 0.99):.0f} ms, max "
            f"{percentile(ms, 1.0):.0f} ms; {b['events']} events, {b['orders']} Orders"
            + (f" {b['traded_s']:.0f} s after the burst" if mode == "celery" else "")
            + f"; the server then worked off its listen queue for {b['backlog_s']:.0f} s more "
            f"(clients gone): {b['events_after']} events, {b['orders_after']} Orders in all"
        )
        if b["ok"] < b["sent"]:
            missed.append(f"burst {mode}: {b['sent'] - b['ok']} not answered 2xx within 3 s")
    if flooded:
        alone, during, flood = flooded["alone"], flooded["during"], flooded["flood"]
        events, rows, counted = flooded["rows"]
        print(
            f"\nflood: {sum(flood['statuses'].values())} random secrets from one address in "
            f"{flood['seconds']:.1f} s, statuses {flood['statuses']}; it added {events} "
            f"WebhookEvents and {rows} per-minute refusal rows counting {counted} requests"
        )
        print(
            f"valid alerts (many webhooks, TradingView's addresses): {alone['rps']:.1f} req/s "
            f"alone, {during['rps']:.1f} req/s during the flood "
            f"(ratio {during['rps'] / max(alone['rps'], 1e-9):.2f}), "
            f"p99 {during['p99_us'] / 1000:.0f} ms, "
            f"{during['errors']} errors"
        )
    print("targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
