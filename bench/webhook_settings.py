"""
Settings of the example host as bench/webhook.py serves it under gunicorn:
production-like (DEBUG off), PostgreSQL from DATABASE_URL, rate limits counted
in Redis through django-redis (BENCH_REDIS_URL, DB 3 by default) under a key
prefix of the bench's own, paper trading, and rates high enough that the load is never limited
(the limits are still counted on every request). With
BENCH_PREPARED_STATEMENTS=1 (the bench's default) psycopg binds parameters on
the server and prepares repeated queries. BENCH_DEFAULT_LIMITS=1 keeps the
package's default rate limits instead (the burst and the flood);
BENCH_WEBHOOK_EXECUTION=celery answers 202 and publishes to the Celery queue
BENCH_CELERY_QUEUE on BENCH_CELERY_BROKER (example_project/celery.py's app);
BENCH_TRADE_MS makes each paper trade wait as long as an exchange would.
"""

import os

from example_project.settings import *  # noqa: F403

DEBUG = False
DATABASES["default"]["CONN_MAX_AGE"] = 60  # noqa: F405  (persistent, as in production)
if os.environ.get("BENCH_PREPARED_STATEMENTS") == "1":
    # What docs/TRADINGVIEW.md advises for a busy receiver: PostgreSQL plans each
    # repeated query once per connection instead of once per request.
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        "server_side_binding": True,
        "prepare_threshold": 2,
    }
ROOT_URLCONF = "webhook_urls"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {
        # django-redis: the backend django-ratelimit supports officially; it keeps
        # one client per process (Django's own RedisCache builds one per call).
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3"),
        "KEY_PREFIX": os.environ.get("BENCH_CACHE_PREFIX", "torgovo-bench"),
        "OPTIONS": {"SOCKET_TIMEOUT": 0.25, "SOCKET_CONNECT_TIMEOUT": 0.25},
    },
}
RATELIMIT_USE_CACHE = "ratelimit"
TORGOVO_SUBSCRIPTIONS = {
    **TORGOVO_SUBSCRIPTIONS,  # noqa: F405
    "TRADING_MANAGER_CLASS": "django_torgovo_subscriptions.trading.paper.PaperTradingManager",
    "PUBLIC_BASE_URL": "http://127.0.0.1",
    "WEBHOOK_EXECUTION": os.environ.get("BENCH_WEBHOOK_EXECUTION", "inline"),
    "WEBHOOK_CELERY_QUEUE": os.environ.get("BENCH_CELERY_QUEUE") or None,
}
if os.environ.get("BENCH_TRADE_MS", "0") != "0":  # an exchange's round trip per trade
    TORGOVO_SUBSCRIPTIONS["TRADING_MANAGER_CLASS"] = (
        "webhook_trading.ExchangeLatencyPaperTradingManager"
    )
if os.environ.get("BENCH_DEFAULT_LIMITS") != "1":
    TORGOVO_SUBSCRIPTIONS["WEBHOOK_RATE_LIMIT_PER_WEBHOOK"] = "1000000/m"
    TORGOVO_SUBSCRIPTIONS["WEBHOOK_RATE_LIMIT_PER_IP"] = "1000000/m"
CELERY_BROKER_URL = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/3")
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
