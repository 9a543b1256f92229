"""
Benchmark of the TradingView webhook receiver against a minimal DRF view.

    python bench/webhook.py [--duration 10] [--connections 16] [--rounds 2] [--keep]
                            [--no-prepared-statements]

Needs PostgreSQL, Redis and wrk (``apt-get install wrk``), plus the ``bench``
dependency group (gunicorn, psycopg). BENCH_DATABASE_URL (default
postgres://root@127.0.0.1:5432/bench_webhook) names a database the bench
creates afresh, migrates and seeds, and drops at the end (``--keep`` keeps
it). It then serves the example host under gunicorn (2 sync workers,
bench/webhook_settings.py: DEBUG off, persistent connections, prepared
statements unless --no-prepared-statements, rate limits in Redis, paper
trading) and loads it from wrk with 16 connections, measuring in the same run:

    baseline  POST bench/baseline/<id>/: DRF parses the JSON, 1 SELECT + 1 INSERT
    floor     POST bench/floor/<secret>/: the receiver's statements and nothing
              else (bench/webhook_urls.py), the best any receiver making them
              can do
    receive   POST custom-bot/webhook/receive/<secret>/: every check, the event
              log, dedupe, and a paper trade saved as a host Order (each request
              carries its own order_id, so none is a duplicate)

It prints req/s, p50, p99, errors and CPU per request of each, the ratios
receive/baseline, floor/baseline and receive/floor, and checks that every
receive request left one WebhookEvent and one Order. Exits 1 when a target is
missed: ratio receive/baseline >= 0.6, receive p99 <= 50 ms, 0 errors, one
event per request. Only loopback traffic.
"""

from __future__ import annotations

import argparse
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
TARGET_RATIO, TARGET_P99_MS = 0.6, 50.0

WRK_SCRIPT = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
request = function()
  counter = counter + 1
  local body = string.format(%(body)s, %(prefix)s, tid, counter)
  return wrk.format("POST", %(path)s, {["Content-Type"] = "application/json"}, body)
end
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


def server_environment(prepared: bool = True) -> dict[str, str]:
    return {
        **os.environ,
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


def start_server(port: int, args: argparse.Namespace) -> subprocess.Popen:
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
    ]
    server = subprocess.Popen(
        command, env=server_environment(args.prepared), cwd=ROOT, start_new_session=True
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


def write_script(directory: Path, name: str, path: str, body_format: str, prefix: str) -> Path:
    script = directory / f"{name}.lua"
    script.write_text(
        WRK_SCRIPT
        % {"body": lua_string(body_format), "prefix": lua_string(prefix), "path": lua_string(path)}
    )
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


# --- main -----------------------------------------------------------------------------


def main() -> int:
    args = parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    recreate_database()
    setup_django()
    seeded = seed()
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"
    secret = str(seeded["secret"])
    server = start_server(port, args)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            endpoints = {  # the same JSON body for all (the baseline stores it)
                "baseline": (
                    f"/bench/baseline/{seeded['pair_config']}/",
                    alert_format("-" * len(secret)),
                ),
                "floor": (f"/bench/floor/{secret}/", alert_format(secret)),
                "receive": (f"/api/custom-bot/webhook/receive/{secret}/", alert_format(secret)),
            }
            results: dict[str, list[dict[str, float]]] = {name: [] for name in endpoints}
            checks = []
            for name, (path, body) in endpoints.items():
                run_wrk(
                    base + path,
                    write_script(Path(tmp), f"{name}-warm", path, body, f"w{name}"),
                    args.warmup,
                    args,
                    server.pid,
                )
            for round_ in range(args.rounds):
                for name, (path, body) in endpoints.items():
                    script = write_script(
                        Path(tmp), f"{name}-{round_}", path, body, f"{name}{round_}"
                    )
                    before = counts()
                    results[name].append(
                        run_wrk(base + path, script, args.duration, args, server.pid)
                    )
                    time.sleep(1)  # let the requests still in flight when wrk stopped finish
                    if name == "receive":
                        after = counts()
                        checks.append(
                            (
                                results[name][-1]["requests"],
                                after[0] - before[0],
                                after[1] - before[1],
                                {k: after[2].get(k, 0) - before[2].get(k, 0) for k in after[2]},
                            )
                        )
    finally:
        stop_server(server)
        clear_cache_keys()
        if not args.keep:
            drop_database()
    return report(results, checks, args)


def report(results, checks, args) -> int:
    print(
        f"gunicorn {args.workers} {args.worker_class} workers x {args.worker_threads} threads, "
        f"wrk {args.threads} threads x {args.connections} connections, "
        f"{args.rounds} x {args.duration} s per endpoint, PostgreSQL "
        f"({'prepared statements' if args.prepared else 'client-side binding'}) + Redis\n"
    )
    print(f"{'endpoint':<10} {'round':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    summary = {}
    for name, runs in results.items():
        for index, run in enumerate(runs, 1):
            print(
                f"{name:<10} {index:>5} {run['rps']:>9.1f} {run['p50_us'] / 1000:>8.2f} "
                f"{run['p99_us'] / 1000:>8.2f} {run['errors']:>7}"
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
    ratio = summary["receive"]["rps"] / summary["baseline"]["rps"]
    print(f"\nratio receive/baseline: {ratio:.2f} (target >= {TARGET_RATIO})")
    print(
        f"ratio floor/baseline:   {summary['floor']['rps'] / summary['baseline']['rps']:.2f} "
        "(the most any receiver making these statements can reach)"
    )
    print(f"ratio receive/floor:    {summary['receive']['rps'] / summary['floor']['rps']:.2f}")
    one_each = True
    for requests, events, orders, outcomes in checks:
        # wrk counts completed responses; requests still in flight when it stops
        # (at most one per connection) are processed and logged too.
        ok = (
            requests <= events <= requests + args.connections
            and orders == events
            and outcomes.get("executed", 0) == events
        )
        one_each &= ok
        print(
            f"receive run: {requests} responses, {events} WebhookEvents, {orders} Orders, "
            f"outcomes {outcomes} -> {'one event and one order per request' if ok else 'MISMATCH'}"
        )
    missed = []
    if ratio < TARGET_RATIO:
        missed.append(f"ratio {ratio:.2f} < {TARGET_RATIO}")
    if summary["receive"]["p99"] > TARGET_P99_MS:
        missed.append(f"receive p99 {summary['receive']['p99']:.1f} ms > {TARGET_P99_MS} ms")
    if any(s["errors"] for s in summary.values()):
        missed.append("errors")
    if not one_each:
        missed.append("events/orders do not match requests")
    print("targets met" if not missed else "targets missed: " + "; ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
